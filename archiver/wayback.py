"""The Wayback Machine: Save Page Now 2 (with keys) or the anonymous capture, CDX look-ups, verification.

Built on httpx rather than waybackpy: waybackpy 3.0.6 sets no request timeouts (a stalled connection
hangs a daemon), has no SPN2 (no keys, job ids or options), reads capture URLs out of headers by
regex, and installs a top-level `tests` package that can shadow ours.

Every request goes to the configured base URLs (`ARCHIVER_WAYBACK_URL`): an absolute
web.archive.org address found in a response is only ever parsed for its timestamp, never followed.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote

import httpx

from archiver.config import Settings

CANONICAL_BASE = "https://web.archive.org"

# SPN2 refusals, read from `status_ext` in a 200 body. Retryable ones pass; the others will not.
RETRYABLE = {
    "error:too-many-requests",
    "error:user-session-limit",
    "error:gateway-timeout",
    "error:browsing-timeout",
    "error:service-unavailable",
    "error:bad-gateway",
    "error:no-browsers-available",
    "error:celery",
    "error:internal-server-error",
    "error:soft-time-limit-exceeded",
    "error:read-timeout",
    "error:proxy-error",
    "error:capture-location-error",
    "error:bandwidth-limit-exceeded",
    "error:cannot-fetch",
    "error:protocol-error",
    "error:invalid-server-response",
}
FINAL = {
    "error:not-found",
    "error:blocked",
    "error:blocked-url",
    "error:blocked-client-ip",
    "error:too-many-daily-captures",
    "error:invalid-url",
    "error:no-access",
    "error:unauthorized",
    "error:filesize-limit",
    "error:ftp-access-denied",
    "error:method-not-allowed",
    "error:invalid-host-resolution",
    "error:invalid-ssl-certificate",
    "error:too-many-redirects",
    "error:not-implemented",
    "error:network-authentication-required",
    "error:http-version-not-supported",
}
_TIMESTAMP_IN = re.compile(r"/web/(\d{14})/")


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
    reason: str = ""
    retry_after: float = 0.0


@dataclass(frozen=True)
class Capture:
    """One archived copy, as the CDX API or a capture job names it."""

    timestamp: str  # YYYYMMDDhhmmss
    original: str
    status: int | None = 200
    digest: str = ""
    mimetype: str = ""
    archive: str = "wayback"

    @property
    def url(self) -> str:
        return capture_url(self.timestamp, self.original)

    @property
    def when(self) -> datetime:
        return datetime.strptime(self.timestamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def capture_url(timestamp: str, original: str) -> str:
    """The canonical address of a capture, the one stored and shown (never fetched as such)."""
    return f"{CANONICAL_BASE}/web/{timestamp}/{original}"


def wayback_timestamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%d%H%M%S")


# --- pure decisions ---------------------------------------------------------------------------------


def read_refusal(body: dict[str, Any]) -> Submission | None:
    """A 200 whose body says no: retryable or final, by `status_ext`."""
    status = str(body.get("status", ""))
    ext = str(body.get("status_ext", ""))
    if status != "error" and not ext.startswith("error:"):
        return None
    message = str(body.get("message", "")) or ext
    if ext in FINAL:
        return Submission(Result.FAILED, reason=f"{ext}: {message}")
    return Submission(Result.RETRY, reason=f"{ext or 'error'}: {message}")


def closest(captures: Sequence[Capture], cited_at: datetime | None) -> list[Capture]:
    """Captures in order of preference: the closest before the citation date first (newest first),
    then those after it (oldest first), as Wikipedia's archive bot does; newest first with no date."""
    good = [c for c in captures if c.status in (200, None)]
    if cited_at is None:
        return sorted(good, key=lambda c: c.timestamp, reverse=True)
    stamp = wayback_timestamp(cited_at)
    before = sorted((c for c in good if c.timestamp <= stamp), key=lambda c: c.timestamp, reverse=True)
    after = sorted((c for c in good if c.timestamp > stamp), key=lambda c: c.timestamp)
    return before + after


def backoff(attempts: int, base: float = 60.0, cap: float = 6 * 3600.0) -> float:
    """Seconds before retry number `attempts` (1, 2, …): doubling from `base`, at most `cap`."""
    return min(cap, base * 2 ** max(0, attempts - 1))


# --- the client -------------------------------------------------------------------------------------


class RateLimiter:
    """One process-wide pace for submissions, pushed back by Retry-After and 429s."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            delay = self._next - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next = time.monotonic() + self.interval

    def push_back(self, seconds: float) -> None:
        self._next = max(self._next, time.monotonic() + seconds)


class WaybackClient:
    """Async client of the Wayback Machine. Use as `async with WaybackClient(settings) as wb`."""

    def __init__(self, settings: Settings, limiter: RateLimiter | None = None) -> None:
        self.settings = settings
        self.base = settings.wayback_url.rstrip("/")
        self.archive_base = settings.archive_url.rstrip("/")
        self.keys = bool(settings.ia_access and settings.ia_secret)
        self.limiter = limiter or RateLimiter(settings.wayback_interval)
        self.quota: dict[str, Any] = {}
        headers = {"User-Agent": settings.user_agent, "Accept": "application/json"}
        if self.keys:
            headers["Authorization"] = f"LOW {settings.ia_access}:{settings.ia_secret}"
        self._client = httpx.AsyncClient(
            headers=headers,
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(
                connect=settings.connect_timeout,
                read=settings.wayback_timeout,
                write=settings.connect_timeout,
                pool=settings.wayback_timeout,
            ),
        )

    async def __aenter__(self) -> WaybackClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    async def submit(self, url: str, if_not_archived_within: str = "") -> Submission:
        """Ask for a capture: SPN2 with keys, the anonymous capture without."""
        await self.limiter.wait()
        try:
            if self.keys:
                data = {"url": url, "skip_first_archive": "1"}
                if if_not_archived_within:
                    data["if_not_archived_within"] = if_not_archived_within
                response = await self._client.post(f"{self.base}/save", data=data)
            else:
                response = await self._client.get(f"{self.base}/save/{url}")
        except httpx.HTTPError as exc:
            return Submission(Result.RETRY, reason=f"{type(exc).__name__}: {exc}")
        early = self._throttled(response)
        if early:
            return early
        if self.keys:
            body = _json(response)
            refusal = read_refusal(body)
            if refusal:
                return refusal
            if body.get("job_id"):
                return Submission(Result.JOB, job_id=str(body["job_id"]))
            return Submission(Result.RETRY, reason=f"no job id in the answer: {str(body)[:200]}")
        timestamp = _timestamp_from(response)
        if timestamp:
            return Submission(Result.DONE, timestamp=timestamp)
        refusal = read_refusal(_json(response))
        return refusal or Submission(Result.RETRY, reason=f"HTTP {response.status_code} without a capture")

    async def status(self, job_id: str) -> Submission:
        """Where a capture job stands."""
        try:
            response = await self._client.get(f"{self.base}/save/status/{quote(job_id, safe='')}")
        except httpx.HTTPError as exc:
            return Submission(Result.RETRY, job_id=job_id, reason=f"{type(exc).__name__}: {exc}")
        early = self._throttled(response)
        if early:
            return Submission(early.result, job_id=job_id, reason=early.reason, retry_after=early.retry_after)
        body = _json(response)
        state = body.get("status")
        if state == "success" and body.get("timestamp"):
            return Submission(Result.DONE, job_id=job_id, timestamp=str(body["timestamp"]))
        if state == "pending":
            return Submission(Result.PENDING, job_id=job_id)
        refusal = read_refusal(body)
        if refusal:
            return Submission(refusal.result, job_id=job_id, reason=refusal.reason)
        return Submission(Result.RETRY, job_id=job_id, reason=f"unexpected status answer: {str(body)[:200]}")

    async def user_status(self) -> dict[str, Any]:
        """The remaining quota (SPN2 with keys only); {} when unknown."""
        if not self.keys:
            return {}
        try:
            response = await self._client.get(f"{self.base}/save/status/user", params={"_t": str(int(time.time()))})
        except httpx.HTTPError:
            return {}
        self.quota = _json(response) if response.status_code == 200 else {}
        return self.quota

    async def captures(self, url: str) -> list[Capture] | None:
        """Every 200 capture the CDX API knows of; None when the API could not be asked."""
        params = {
            "url": url,
            "output": "json",
            "filter": "statuscode:200",
            "fl": "timestamp,original,statuscode,digest,mimetype",
            "limit": "-2000",
        }
        try:
            response = await self._client.get(f"{self.base}/cdx/search/cdx", params=params)
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        rows = _json_list(response)
        if not rows:
            return []
        header, *data = rows
        out = []
        for row in data:
            item = dict(zip(header, row, strict=False))
            if not re.fullmatch(r"\d{14}", str(item.get("timestamp", ""))):
                continue
            status = str(item.get("statuscode", ""))
            out.append(
                Capture(
                    item["timestamp"],
                    str(item.get("original", url)),
                    int(status) if status.isdigit() else None,
                    str(item.get("digest", "")),
                    str(item.get("mimetype", "")),
                )
            )
        return out

    async def available(self, url: str, when: datetime | None = None) -> Capture | None:
        """The availability API's hint: often empty for archived URLs, so never the only look-up."""
        params = {"url": url}
        if when is not None:
            params["timestamp"] = wayback_timestamp(when)
        try:
            response = await self._client.get(f"{self.archive_base}/wayback/available", params=params)
        except httpx.HTTPError:
            return None
        closest_ = (_json(response).get("archived_snapshots") or {}).get("closest") or {}
        stamp = str(closest_.get("timestamp", ""))
        if closest_.get("available") and re.fullmatch(r"\d{14}", stamp):
            status = str(closest_.get("status", "200"))
            return Capture(stamp, url, int(status) if status.isdigit() else None)
        return None

    async def original(self, capture: Capture, max_bytes: int) -> tuple[int, bytes, str] | None:
        """The page as archived (`id_`: without the Wayback toolbar), rebuilt on the configured base."""
        target = f"{self.base}/web/{capture.timestamp}id_/{capture.original}"
        try:
            async with self._client.stream("GET", target) as response:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body.extend(chunk)
                    if len(body) > max_bytes:
                        return None
                return response.status_code, bytes(body), response.headers.get("content-type", "")
        except httpx.HTTPError:
            return None

    def _throttled(self, response: httpx.Response) -> Submission | None:
        if response.status_code == 429 or response.status_code >= 500:
            retry_after = _retry_after(response.headers.get("retry-after", ""))
            if response.status_code == 429:
                self.limiter.push_back(retry_after or self.settings.wayback_interval * 4 or 1.0)
            return Submission(Result.RETRY, reason=f"HTTP {response.status_code}", retry_after=retry_after)
        return None


def _retry_after(value: str) -> float:
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        from email.utils import parsedate_to_datetime

        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return 0.0


def _timestamp_from(response: httpx.Response) -> str:
    """The anonymous capture names its result in Content-Location, Location or a memento Link."""
    for header in ("content-location", "location", "link"):
        match = _TIMESTAMP_IN.search(response.headers.get(header, ""))
        if match:
            return match.group(1)
    return ""


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _json_list(response: httpx.Response) -> list[list[Any]]:
    try:
        data = response.json()
    except ValueError:
        return []
    return [row for row in data if isinstance(row, list)] if isinstance(data, list) else []
