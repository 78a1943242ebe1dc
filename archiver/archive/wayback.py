"""The Wayback Machine's client: Save Page Now 2 (with keys or without), CDX look-ups, replays for
verification. Its answers are read by `spn`.

Built on httpx rather than waybackpy: waybackpy 3.0.6 sets no request timeouts (a stalled connection
hangs a daemon), has no SPN2 (no keys, job ids or options), reads capture URLs out of headers by
regex, and installs a top-level `tests` package that can shadow ours.

Every request goes to the configured base URLs (`ARCHIVER_WAYBACK_URL`) through an ArchiveSession
(a total deadline and a body cap each). An absolute web.archive.org address found in a response is
only ever parsed for its timestamp and original URL and rebuilt on the configured base.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urljoin

from archiver.archive.session import Answer, ArchiveSession, origin_of
from archiver.archive.spn import (
    CLOCK_SKEW,
    TIMESTAMP,
    Result,
    Submission,
    capture_in_answer,
    parse_cdx,
    parse_replay_url,
    read_refusal,
    retry_after,
)
from archiver.config import ArchiveSettings
from archiver.models import Clock, utcnow
from archiver.models.rows import CANONICAL_BASE, Capture
from archiver.models.time import parse_timestamp, timestamp

MAX_ARCHIVE_REDIRECTS = 5  # redirects followed inside the archive when replaying a capture


class RateLimiter:
    """One process-wide pace for submissions, pushed back by Retry-After and 429s."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next = 0.0

    async def wait(self, session: ArchiveSession) -> None:
        delay = self._next - time.monotonic()
        if delay > 0:
            await session.sleep(delay)
        self._next = time.monotonic() + self.interval

    def push_back(self, seconds: float) -> None:
        self._next = max(self._next, time.monotonic() + seconds)


@dataclass(frozen=True)
class Replay:
    """A capture as the archive replays it (`id_`: no toolbar), after redirects inside the archive."""

    status: int
    body: bytes
    content_type: str
    timestamp: str  # of the memento finally replayed
    original: str
    hops: tuple[tuple[str, int, str], ...] = ()  # (original URL, status, next original URL)
    problem: str = ""  # why there is nothing to judge; "" when there is


class WaybackClient:
    """The Wayback Machine, through one run's ArchiveSession."""

    def __init__(
        self,
        settings: ArchiveSettings,
        session: ArchiveSession,
        limiter: RateLimiter | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.settings = settings
        self.session = session
        self.clock = clock
        self.base = settings.wayback_url
        self.archive_base = settings.archive_url
        self.keys = settings.keys
        self.limiter = limiter or RateLimiter(settings.interval)
        self._auth = {"Authorization": f"LOW {settings.ia_access}:{settings.ia_secret}"} if self.keys else {}

    async def submit(self, url: str, requested_at: datetime) -> Submission:
        """Ask for a capture: SPN2 with keys; without, the same endpoint anonymously (which answers
        with a job id, or with the capture in its headers)."""
        await self.limiter.wait(self.session)
        if self.keys:
            answer = await self.session.request(
                "POST", f"{self.base}/save", data={"url": url, "skip_first_archive": "1"}, headers=self._auth
            )
        else:
            answer = await self.session.request("GET", f"{self.base}/save/{url}")
        early = self._throttled(answer)
        if early:
            return early
        body = answer.json()
        body = body if isinstance(body, dict) else {}
        refusal = read_refusal(body)
        if refusal:
            return refusal
        if body.get("job_id"):
            return Submission(Result.JOB, job_id=str(body["job_id"]))
        if self.keys:
            return Submission(Result.RETRY, reason=f"no job id in the answer: {answer.body[:200]!r}")
        found = capture_in_answer(answer.headers, requested_at)
        if isinstance(found, str):
            return Submission(Result.RETRY, reason=f"HTTP {answer.status}: {found}")
        return Submission(Result.DONE, timestamp=found[0], original=found[1])

    async def status(self, job_id: str, submitted_at: datetime) -> Submission:
        """Where a capture job stands."""
        answer = await self.session.request(
            "GET", f"{self.base}/save/status/{quote(job_id, safe='')}", headers=self._auth
        )
        early = self._throttled(answer)
        if early:
            return Submission(early.result, job_id=job_id, reason=early.reason, retry_after=early.retry_after)
        body = answer.json()
        body = body if isinstance(body, dict) else {}
        state = body.get("status")
        stamp = str(body.get("timestamp", ""))
        if state == "success" and TIMESTAMP.fullmatch(stamp):
            original = str(body.get("original_url") or "")
            if parse_timestamp(stamp) < submitted_at - CLOCK_SKEW:
                return Submission(
                    Result.RETRY,
                    job_id=job_id,
                    timestamp=stamp,
                    original=original,
                    reason=f"the job answered with an earlier capture ({parse_timestamp(stamp):%Y-%m-%d %H:%M})",
                )
            return Submission(Result.DONE, job_id=job_id, timestamp=stamp, original=original)
        if state == "pending":
            return Submission(Result.PENDING, job_id=job_id)
        refusal = read_refusal(body)
        if refusal:
            return Submission(
                refusal.result,
                job_id=job_id,
                reason=refusal.reason,
                retry_after=refusal.retry_after,
                unknown=refusal.unknown,
            )
        return Submission(Result.RETRY, job_id=job_id, reason=f"unexpected status answer: {answer.body[:200]!r}")

    async def user_status(self) -> int | None:
        """How many captures are still available today (SPN2 with keys only); None when unknown."""
        if not self.keys:
            return None
        answer = await self.session.request(
            "GET",
            f"{self.base}/save/status/user",
            params={"_t": str(int(self.clock().timestamp()))},
            headers=self._auth,
        )
        data = answer.json() if answer.status == 200 else None
        available = data.get("available") if isinstance(data, dict) else None
        if isinstance(available, int) or (isinstance(available, str) and available.isdigit()):
            return int(available)
        return None

    async def captures(self, url: str) -> list[Capture] | None:
        """Every capture (2xx, or 3xx for a URL that redirects) the CDX API knows, newest 2,000 at most;
        [] when the archive excludes the URL; None when the API could not be asked."""
        params = {"url": url, "filter": "statuscode:[23]..", "limit": "-2000"}
        answer = await self.session.request("GET", f"{self.base}/cdx/search/cdx", params=params)
        if answer.status == 403 and b"AccessControlException" in answer.body:
            return []  # "Blocked Site Error": the archive will not show captures of this URL
        if answer.status != 200:
            return None
        return parse_cdx(answer.body.decode("utf-8", "replace"))

    async def available(self, url: str, when: datetime | None = None) -> Capture | None:
        """The availability API's hint: often empty for archived URLs, so never the only look-up."""
        params = {"url": url}
        if when is not None:
            params["timestamp"] = timestamp(when)
        answer = await self.session.request("GET", f"{self.archive_base}/wayback/available", params=params)
        data = answer.json() if answer.status == 200 else None
        snapshots = data.get("archived_snapshots") if isinstance(data, dict) else None
        closest_ = (snapshots or {}).get("closest") or {} if isinstance(snapshots, dict) else {}
        stamp = str(closest_.get("timestamp", ""))
        if closest_.get("available") and TIMESTAMP.fullmatch(stamp):
            status = str(closest_.get("status", "200"))
            parsed = parse_replay_url(str(closest_.get("url", "")))
            return Capture(stamp, parsed[1] if parsed else url, int(status) if status.isdigit() else None)
        return None

    async def replay(self, capture: Capture, max_bytes: int) -> Replay:
        """The page as archived (`id_`), following redirects inside the archive (the capture of a cited
        URL that redirected is a 3xx): each `Location` is read for its timestamp and URL and rebuilt
        on the configured base; one that leaves the archive ends the replay."""
        stamp, original = capture.timestamp, capture.original
        hops: list[tuple[str, int, str]] = []
        visited = {original}  # the archive's own "found capture at" redirects stay on one URL
        last = 0
        archive_origins = {origin_of(self.base), CANONICAL_BASE, CANONICAL_BASE.replace("https:", "http:")}
        for _ in range(MAX_ARCHIVE_REDIRECTS + 1):
            target = f"{self.base}/web/{stamp}id_/{original}"
            answer = await self.session.request("GET", target, cap=max_bytes)
            location = answer.header("location")
            if answer.status in (301, 302, 303, 307, 308) and location:
                absolute = urljoin(target, location)
                parsed = parse_replay_url(absolute)
                if parsed is None or origin_of(absolute) not in archive_origins:
                    return Replay(
                        answer.status,
                        b"",
                        "",
                        stamp,
                        original,
                        tuple(hops),
                        f"redirected out of the archive to {location[:200]}",
                    )
                if parsed[1] != original and parsed[1] in visited:
                    return Replay(
                        answer.status, b"", "", stamp, original, tuple(hops), "redirect loop inside the archive"
                    )
                if parsed[1] != original:  # the site's redirect, not the archive's "found capture at"
                    hops.append((original, answer.status, parsed[1]))
                visited.add(parsed[1])
                stamp, original = parsed
                last = answer.status
                continue
            problem = answer.error or ("" if answer.status else "no answer")
            return Replay(
                answer.status, answer.body, answer.header("content-type"), stamp, original, tuple(hops), problem
            )
        return Replay(
            last,
            b"",
            "",
            stamp,
            original,
            tuple(hops),
            f"more than {MAX_ARCHIVE_REDIRECTS} redirects inside the archive",
        )

    def _throttled(self, answer: Answer) -> Submission | None:
        if answer.status == 0:
            return Submission(Result.RETRY, reason=answer.error)
        if answer.status == 429 or answer.status >= 500:
            wait = retry_after(answer.header("retry-after"), self.clock)
            if answer.status == 429:
                self.limiter.push_back(wait or self.settings.interval * 4 or 1.0)
            return Submission(Result.RETRY, reason=f"HTTP {answer.status}", retry_after=wait)
        return None
