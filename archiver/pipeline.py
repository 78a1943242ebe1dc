"""The only module that knows the order of the stages: sources → fetch → extract → store."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import UTC, datetime

from archiver.config import Settings
from archiver.errors import ConfigError
from archiver.extract import extract
from archiver.fetch import Fetcher, Resolver
from archiver.models import Citation, CheckSummary, Extraction, FetchResult, Outcome, PassSummary
from archiver.sources import read_sources
from archiver.store import Store

Clock = Callable[[], datetime]
OnCheck = Callable[[CheckSummary], None]


def utcnow() -> datetime:
    return datetime.now(UTC)


def select(citations: Sequence[Citation], only: Sequence[str] | None) -> list[Citation]:
    """The citations named by `only` (all when empty); an unknown id is an error, not a silent skip."""
    if not only:
        return list(citations)
    known = {c.id for c in citations}
    unknown = [i for i in only if i not in known]
    if unknown:
        raise ConfigError(f"no citation with id {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    wanted = set(only)
    return [c for c in citations if c.id in wanted]


def run_check(settings: Settings, only: Sequence[str] | None = None, *,
              resolver: Resolver | None = None, clock: Clock = utcnow,
              on_check: OnCheck | None = None) -> PassSummary:
    """Read the citation list, then check the chosen citations once and record everything."""
    citations = read_sources(settings.sources)  # a bad list stops here, before the store is touched
    chosen = select(citations, only)
    with Store.open(settings.data_dir) as store:
        store.sync_citations(citations, clock())
        return asyncio.run(check_citations(chosen, settings, store, resolver=resolver,
                                           clock=clock, on_check=on_check))


async def check_citations(citations: Sequence[Citation], settings: Settings, store: Store, *,
                          resolver: Resolver | None = None, clock: Clock = utcnow,
                          on_check: OnCheck | None = None) -> PassSummary:
    """One pass: fetch concurrently, extract on every core, store each check as it completes."""
    started = clock()
    pass_id = store.begin_pass(started, len(citations))
    extractor = _Extractor(settings.extraction_workers)
    summaries: list[CheckSummary] = []
    try:
        async with Fetcher(settings, resolver=resolver, clock=clock) as fetcher:

            async def one(citation: Citation) -> None:
                fetched = await fetcher.fetch(citation.url, store.validators(citation.id))
                extraction, extract_ms = None, 0
                if fetched.outcome == Outcome.OK:
                    extraction, extract_ms = await extractor.run(fetched)
                stored = store.record_check(citation, fetched, extraction, fetched.started_at,
                                            pass_id, extract_ms)
                summary = CheckSummary(citation, fetched.outcome, fetched.status, fetched.final_url,
                                       stored.check.new_version, stored.check.version_hash,
                                       (extraction.title if extraction else ""), fetched.error,
                                       fetched.elapsed_ms)
                summaries.append(summary)
                if on_check:
                    on_check(summary)

            await asyncio.gather(*(one(c) for c in citations))
    finally:
        extractor.shutdown()
    offline = bool(summaries) and all(s.outcome.before_http for s in summaries)
    finished = clock()
    store.finish_pass(pass_id, finished, offline)
    order = {c.id: i for i, c in enumerate(citations)}
    summaries.sort(key=lambda s: order[s.citation.id])
    return PassSummary(pass_id, started.isoformat(), finished.isoformat(), tuple(summaries), offline)


class _Extractor:
    """Runs trafilatura off the event loop: in worker processes when there are several cores."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: Executor | None = None

    async def run(self, fetched: FetchResult) -> tuple[Extraction, int]:
        loop = asyncio.get_running_loop()
        if self._pool is None and self.workers > 1:
            # forkserver: workers never inherit the event loop's threads or open sockets
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("forkserver"))
        t0 = time.monotonic()
        extraction = await loop.run_in_executor(
            self._pool, extract, fetched.body, fetched.final_url, fetched.header("content-type"))
        return extraction, int((time.monotonic() - t0) * 1000)

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
