"""The Wayback Machine's answers, read: Save Page Now 2 refusals (every `status_ext` code of its
documentation, classified), the capture an anonymous save names in its headers, CDX lines, Wayback
addresses, the pace of retries. Pure: text and headers in, decisions out."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from archiver.archive.memento import http_date, parse_links
from archiver.models import Clock
from archiver.models.rows import Capture
from archiver.models.time import parse_timestamp

log = logging.getLogger("archiver.wayback")

CLOCK_SKEW = timedelta(minutes=2)  # our clock and the archive's may differ by this much
DAILY_LIMIT_WAIT = 6 * 3600.0  # seconds before trying again after a daily quota refusal
_REPLAY = re.compile(r"^(?:https?://[^/]+)?/web/(\d{14})([a-z]{2}_)?/(.+)$", re.S)
TIMESTAMP = re.compile(r"\d{14}")


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


def parse_replay_url(url: str) -> tuple[str, str] | None:
    """(timestamp, original URL) of a Wayback address `…/web/{14 digits}[id_]/{url}`, absolute or not."""
    match = _REPLAY.match(url.strip())
    return (match.group(1), match.group(3)) if match else None


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


def backoff(attempts: int, base: float = 60.0, cap: float = 6 * 3600.0) -> float:
    """Seconds before retry number `attempts` (1, 2, …): doubling from `base`, at most `cap`."""
    wait: float = base * 2 ** max(0, attempts - 1)
    return min(cap, wait)


def parse_cdx(text: str) -> list[Capture]:
    """CDX lines (`urlkey timestamp original mimetype statuscode digest length`); others skipped."""
    out = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 5 or not TIMESTAMP.fullmatch(fields[1]):
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


def retry_after(value: str, clock: Clock) -> float:
    """Seconds a `Retry-After` header asks for (a number or an HTTP date); 0 when it asks nothing."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    when = http_date(value)
    return max(0.0, (when - clock()).total_seconds()) if when else 0.0
