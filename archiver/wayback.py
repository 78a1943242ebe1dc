"""The Wayback Machine: Save Page Now 2 (with keys or without), CDX look-ups, replays for verification.

Built on httpx rather than waybackpy: waybackpy 3.0.6 sets no request timeouts (a stalled connection
hangs a daemon), has no SPN2 (no keys, job ids or options), reads capture URLs out of headers by
regex, and installs a top-level `tests` package that can shadow ours.

Every request goes to the configured base URLs (`ARCHIVER_WAYBACK_URL`) through an ArchiveSession
(a total deadline and a body cap each). An absolute web.archive.org address found in a response is
only ever parsed for its timestamp and original URL and rebuilt on the configured base.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urljoin

from archiver.archives import Answer, ArchiveSession, origin_of
from archiver.config import Settings
from archiver.memento import http_date, parse_links

log = logging.getLogger("archiver.wayback")

CANONICAL_BASE = "https://web.archive.org"
CLOCK_SKEW = timedelta(minutes=2)  # our clock and the archive's may differ by this much
MAX_ARCHIVE_REDIRECTS = 5  # redirects followed inside the archive when replaying a capture
DAILY_LIMIT_WAIT = 6 * 3600.0  # seconds before trying again after a daily quota refusal
_REPLAY = re.compile(r"^(?:https?://[^/]+)?/web/(\d{14})([a-z]{2}_)?/(.+)$", re.S)
_TIMESTAMP = re.compile(r"\d{14}")


class Refusal(StrEnum):
    RETRY = "retry"  # the archive or the target is busy or failed: try again with back-off
    LATER = "later"  # a daily quota: try again in hours
    FINAL = "final"  # it will not work however often it is asked


# Every `status_ext` code of the SPN2 documentation ("Save Page Now 2 Public API Docs Draft",
# Vangelis Banos, updated 2025-10-22, "Error codes"), classified.
STATUS_EXT: dict[str, Refusal] = {
    "error:bad-gateway": Refusal.RETRY,
    "error:bad-request": Refusal.FINAL,
    "error:bandwidth-limit-exceeded": Refusal.RETRY,
    "error:blocked": Refusal.FINAL,
    "error:blocked-client-ip": Refusal.FINAL,
    "error:blocked-url": Refusal.FINAL,
    "error:browsing-timeout": Refusal.RETRY,
    "error:capture-location-error": Refusal.RETRY,
    "error:cannot-fetch": Refusal.RETRY,
    "error:celery": Refusal.RETRY,
    "error:filesize-limit": Refusal.FINAL,
    "error:ftp-access-denied": Refusal.FINAL,
    "error:gateway-timeout": Refusal.RETRY,
    "error:http-version-not-supported": Refusal.FINAL,
    "error:internal-server-error": Refusal.RETRY,
    "error:invalid-url-syntax": Refusal.FINAL,
    "error:invalid-server-response": Refusal.RETRY,
    "error:invalid-host-resolution": Refusal.FINAL,
    "error:job-failed": Refusal.RETRY,
    "error:method-not-allowed": Refusal.FINAL,
    "error:not-implemented": Refusal.FINAL,
    "error:no-browsers-available": Refusal.RETRY,
    "error:network-authentication-required": Refusal.FINAL,
    "error:no-access": Refusal.FINAL,
    "error:not-found": Refusal.FINAL,
    "error:proxy-error": Refusal.RETRY,
    "error:protocol-error": Refusal.RETRY,
    "error:read-timeout": Refusal.RETRY,
    "error:soft-time-limit-exceeded": Refusal.RETRY,
    "error:service-unavailable": Refusal.RETRY,
    "error:too-many-daily-captures": Refusal.FINAL,
    "error:too-many-redirects": Refusal.FINAL,
    "error:too-many-requests": Refusal.RETRY,
    "error:user-session-limit": Refusal.RETRY,
    "error:unauthorized": Refusal.FINAL,
    "error:max-daily-bandwidth": Refusal.LATER,
    "error:max-daily-bandwidth-from-ip": Refusal.LATER,
    "error:max-daily-bandwidth-host": Refusal.LATER,
    # seen from the service though absent from the table of the documentation
    "error:invalid-url": Refusal.FINAL,
    "error:invalid-ssl-certificate": Refusal.FINAL,
}


class Result(StrEnum):
    JOB = "job"  # accepted: poll the job id
    PENDING = "pending"
    DONE = "done"
    RETRY = "retry"  # refused for now: try again after `retry_after`
    FAILED = "failed"  # refused for good


@dataclass(frozen=True)
class Submission:
    result: Result
    job_id: str = ""
    timestamp: str = ""
    original: str = ""  # the capture's URL, after the redirects SPN2 followed
    reason: str = ""
    retry_after: float = 0.0
    unknown: bool = False  # refused with a code we do not know: retried a bounded number of times


@dataclass(frozen=True)
class Capture:
    """One archived copy, as the CDX API, a capture job or a Memento TimeMap names it."""

    timestamp: str  # YYYYMMDDhhmmss
    original: str
    status: int | None = 200
    digest: str = ""
    mimetype: str = ""
    archive: str = "wayback"
    replay: str = ""  # where it is replayed, when that is not the Wayback address of timestamp and URL

    @property
    def url(self) -> str:
        return self.replay or capture_url(self.timestamp, self.original)

    @property
    def when(self) -> datetime:
        return parse_timestamp(self.timestamp)


def capture_url(timestamp: str, original: str) -> str:
    """The canonical address of a capture, the one stored and shown (never fetched as such)."""
    return f"{CANONICAL_BASE}/web/{timestamp}/{original}"


def wayback_timestamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def parse_timestamp(stamp: str) -> datetime:
    """A 14-digit Wayback timestamp as an aware UTC datetime."""
    return datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def capture_from_row(row: Mapping[str, Any]) -> Capture:
    """A stored capture row as a Capture (the one place that knows the columns)."""
    return Capture(
        row["timestamp"],
        row["original"],
        row["status"],
        row.get("digest") or "",
        row.get("mimetype") or "",
        row.get("archive") or "wayback",
        row.get("url") or "",
    )


def parse_replay_url(url: str) -> tuple[str, str] | None:
    """(timestamp, original URL) of a Wayback address `…/web/{14 digits}[id_]/{url}`, absolute or not."""
    match = _REPLAY.match(url.strip())
    return (match.group(1), match.group(3)) if match else None


# --- pure decisions ---------------------------------------------------------------------------------


def read_refusal(body: Mapping[str, Any]) -> Submission | None:
    """A 200 whose body says no: retryable, later or final by `status_ext`; None when it does not."""
    status = str(body.get("status", ""))
    ext = str(body.get("status_ext", ""))
    if status != "error" and not ext.startswith("error:"):
        return None
    message = str(body.get("message", "")) or ext
    kind = STATUS_EXT.get(ext)
    if kind is None:
        log.warning("unknown Save Page Now refusal %r (%s): retried a few times, then given up", ext, message[:200])
        return Submission(Result.RETRY, reason=f"{ext or 'error'}: {message}", unknown=True)
    if kind == Refusal.FINAL:
        return Submission(Result.FAILED, reason=f"{ext}: {message}")
    return Submission(
        Result.RETRY, reason=f"{ext}: {message}", retry_after=DAILY_LIMIT_WAIT if kind == Refusal.LATER else 0.0
    )


def capture_in_answer(headers: Mapping[str, str], requested_at: datetime) -> tuple[str, str] | str:
    """The capture an anonymous save made: (timestamp, original URL), or why the answer names none.

    `Content-Location` first, then the `Link` header read by relation: the memento whose datetime is
    the answer's `Memento-Datetime`, else the one that is `rel="memento"` alone (never the first,
    previous or last memento), then `Location`. A capture older than the request is someone else's
    and never taken as ours."""
    candidates: list[tuple[str, str]] = []
    parsed = parse_replay_url(headers.get("content-location", ""))
    if parsed:
        candidates.append(parsed)
    links = parse_links(headers.get("link", ""))
    mementos = [link for link in links if "memento" in link.rels]
    stated = http_date(headers.get("memento-datetime", ""))
    chosen = [link for link in mementos if stated is not None and link.datetime == stated]
    chosen += [link for link in mementos if set(link.rels) == {"memento"}]
    for link in chosen:
        parsed = parse_replay_url(link.url)
        if parsed:
            candidates.append(parsed)
    parsed = parse_replay_url(headers.get("location", ""))
    if parsed:
        candidates.append(parsed)
    if not candidates:
        return "the answer names no capture"
    timestamp, original = candidates[0]
    if parse_timestamp(timestamp) < requested_at - CLOCK_SKEW:
        return f"the answer names a capture of {parse_timestamp(timestamp):%Y-%m-%d %H:%M}, older than the request"
    return timestamp, original


def closest(captures: Sequence[Capture], cited_at: datetime | None) -> list[Capture]:
    """Captures in order of preference: the closest before the citation date first (newest first),
    then those after it (oldest first), as Wikipedia's archive bot does; newest first with no date.
    A capture of a redirect (3xx) counts: its replay is followed inside the archive."""
    good = [c for c in captures if c.status is None or 200 <= c.status < 400]
    if cited_at is None:
        return sorted(good, key=lambda c: c.timestamp, reverse=True)
    stamp = wayback_timestamp(cited_at)
    before = sorted((c for c in good if c.timestamp <= stamp), key=lambda c: c.timestamp, reverse=True)
    after = sorted((c for c in good if c.timestamp > stamp), key=lambda c: c.timestamp)
    return before + after


def backoff(attempts: int, base: float = 60.0, cap: float = 6 * 3600.0) -> float:
    """Seconds before retry number `attempts` (1, 2, …): doubling from `base`, at most `cap`."""
    wait: float = base * 2 ** max(0, attempts - 1)
    return min(cap, wait)


def parse_cdx(text: str) -> list[Capture]:
    """CDX lines (`urlkey timestamp original mimetype statuscode digest length`); others skipped."""
    out = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 5 or not _TIMESTAMP.fullmatch(fields[1]):
            continue
        status = fields[4]
        out.append(
            Capture(
                fields[1],
                fields[2],
                int(status) if status.isdigit() else None,
                fields[5] if len(fields) > 5 else "",
                fields[3],
            )
        )
    return out


# --- the client -------------------------------------------------------------------------------------


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

    def __init__(self, settings: Settings, session: ArchiveSession, limiter: RateLimiter | None = None) -> None:
        self.settings = settings
        self.session = session
        self.base = settings.wayback_url.rstrip("/")
        self.archive_base = settings.archive_url.rstrip("/")
        self.keys = bool(settings.ia_access and settings.ia_secret)
        self.limiter = limiter or RateLimiter(settings.wayback_interval)
        self.quota: dict[str, Any] = {}
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
        if state == "success" and _TIMESTAMP.fullmatch(stamp):
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

    async def user_status(self) -> dict[str, Any]:
        """The remaining quota (SPN2 with keys only); {} when unknown."""
        if not self.keys:
            return {}
        answer = await self.session.request(
            "GET", f"{self.base}/save/status/user", params={"_t": str(int(time.time()))}, headers=self._auth
        )
        data = answer.json() if answer.status == 200 else None
        self.quota = data if isinstance(data, dict) else {}
        return self.quota

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
            params["timestamp"] = wayback_timestamp(when)
        answer = await self.session.request("GET", f"{self.archive_base}/wayback/available", params=params)
        data = answer.json() if answer.status == 200 else None
        snapshots = data.get("archived_snapshots") if isinstance(data, dict) else None
        closest_ = (snapshots or {}).get("closest") or {} if isinstance(snapshots, dict) else {}
        stamp = str(closest_.get("timestamp", ""))
        if closest_.get("available") and _TIMESTAMP.fullmatch(stamp):
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
            retry_after = _retry_after(answer.header("retry-after"))
            if answer.status == 429:
                self.limiter.push_back(retry_after or self.settings.wayback_interval * 4 or 1.0)
            return Submission(Result.RETRY, reason=f"HTTP {answer.status}", retry_after=retry_after)
        return None


def _retry_after(value: str) -> float:
    value = value.strip()
    if value.isdigit():
        return float(value)
    when = http_date(value)
    return max(0.0, (when - datetime.now(UTC)).total_seconds()) if when else 0.0
