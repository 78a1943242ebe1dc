"""The soft-404 probe: what a site serves for a URL that cannot exist (Bar-Yossef et al.'s random
sibling, and the level above it for sites that route by an id), fetched once per site level and kept
in the store for `ARCHIVER_PROBE_DAYS`. The verdict it leads to is `detect.rot`'s."""

from __future__ import annotations

import asyncio
import posixpath
import secrets
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

from archiver.detect.rot import ProbeAnswer, needs_second_probe, probe_verdict
from archiver.extract import extract
from archiver.fetch import Fetcher
from archiver.models import Clock, Outcome, Signal
from archiver.models.rows import ProbeRow
from archiver.models.time import parse_stamp
from archiver.store import Store
from archiver.workers import ExtractionAborted, WorkerPool

PROBE_SEGMENT = "archiver-probe-"


class Prober:
    """Asks sites for URLs that cannot exist, through the pass's fetcher and workers."""

    def __init__(self, store: Store, fetcher: Fetcher, workers: WorkerPool, clock: Clock, keep: timedelta) -> None:
        self.store, self.fetcher, self.workers, self.clock, self.keep = store, fetcher, workers, clock, keep
        self._locks: dict[str, asyncio.Lock] = {}

    async def verdict(self, url: str, text: str) -> Signal | None:
        """A soft 404 when the page's text is what the site serves for any URL (see `probe_verdict`);
        None when the probe says nothing against the page."""
        first = await self.answer(url, level=1)
        second = await self.answer(url, level=2) if needs_second_probe(text, first) else None
        return probe_verdict(text, first, second)

    async def answer(self, url: str, level: int = 1) -> ProbeAnswer | None:
        """The answer for a URL whose last `level` path segments are random (see `probe_target`)."""
        site, probe_url, whole_path = probe_target(url, secrets.token_hex(8), level)
        async with self._locks.setdefault(site, asyncio.Lock()):
            cached = self.store.probe(site)
            if cached and parse_stamp(cached.probed_at) > self.clock() - self.keep:
                return ProbeAnswer(cached.url, cached.status, cached.text, whole_path)
            fetched = await self.fetcher.fetch(probe_url)
            if fetched.outcome == Outcome.OK:
                try:
                    text = (
                        await self.workers.run(extract, fetched.body, fetched.final_url, fetched.header("content-type"))
                    ).text
                except ExtractionAborted:
                    return None  # an unreadable answer is no answer
            elif fetched.outcome == Outcome.HTTP_ERROR:
                text = ""
            else:
                return None  # the probe itself failed: no answer to keep
            self.store.save_probe(ProbeRow(site, probe_url, fetched.status, text, self.clock().isoformat()))
            return ProbeAnswer(probe_url, fetched.status, text, whole_path)


def probe_target(url: str, token: str, level: int = 1) -> tuple[str, str, bool]:
    """A URL that cannot exist: the cited one with its last `level` path segments replaced by random
    ones (the leaf's extension kept). Returns the cache key of that site level, the URL, and whether
    every segment of the path was replaced (then no id-like segment is left to route on)."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    level = max(1, min(level, len(segments)))
    kept = segments[: len(segments) - level]
    leaf = segments[-1] if segments else ""
    extension = posixpath.splitext(leaf)[1] if not parts.path.endswith("/") else ""
    suffix = extension if len(extension) <= 5 else ""
    random = [f"{PROBE_SEGMENT}{token}"] * (level - 1) + [f"{PROBE_SEGMENT}{token}{suffix}"]
    path = "/" + "/".join([*kept, *random]) + ("/" if parts.path.endswith("/") and segments else "")
    key = "/".join(["", *kept, *["*"] * (level - 1)]) or "/"
    site = urlunsplit((parts.scheme, parts.netloc, key, "", ""))
    return site, urlunsplit((parts.scheme, parts.netloc, path, "", "")), not kept
