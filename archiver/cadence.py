"""When each citation is next due. Pure: the store's facts and the time come in as arguments.

A healthy citation is due one interval after its last check. A failing one is re-checked sooner at
first, then with doubling delays (polite to a struggling site), up to four intervals or a day.
Each citation also gets a fixed offset within the jitter window, from a hash of its id, so that
hundreds of citations never hit one host in the same second and a restart keeps the same spread.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from archiver.models import Citation

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.I)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_DURATION = timedelta(days=366)  # a check interval, a retry or a jitter window: a year at most


def parse_duration(text: str) -> timedelta:
    """`30m`, `6h`, `2d`, `1.5h`, `45s`; longer than zero and at most a year."""
    match = _DURATION.match(text) if len(text) <= 40 else None
    if not match:
        raise ValueError(f"{text[:40]!r} is not a duration like 30m, 6h or 2d")
    seconds = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if seconds <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    if not math.isfinite(seconds) or seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{text!r} is longer than {MAX_DURATION.days} days")
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class Record:
    """What the schedule needs to know of a citation's past."""

    last_checked: datetime | None
    failures: int = 0  # failed checks since the last healthy (or blocked) one


NEVER = Record(None)  # a citation never checked


def offset(citation_id: str, jitter: timedelta) -> timedelta:
    """A fixed share of the jitter window for this citation."""
    if jitter <= timedelta(0):
        return timedelta(0)
    share = int(hashlib.sha1(citation_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return jitter * share


def retry_delay(failures: int, interval: timedelta, retry_base: timedelta) -> timedelta:
    """The wait after `failures` consecutive failed checks: base, 2×base, 4×base, … capped."""
    cap = max(interval * 4, timedelta(days=1))
    wait: timedelta = retry_base * (2 ** max(0, failures - 1))
    return min(cap, wait)


def next_due(
    citation_id: str, record: Record, interval: timedelta, *, retry_base: timedelta, jitter: timedelta = timedelta(0)
) -> datetime | None:
    """When the citation should be checked next; None means now (it was never checked)."""
    if record.last_checked is None:
        return None
    if record.failures:
        return record.last_checked + retry_delay(record.failures, interval, retry_base)
    return record.last_checked + interval + offset(citation_id, jitter)


def due(
    citation_id: str,
    record: Record,
    interval: timedelta,
    now: datetime,
    *,
    retry_base: timedelta,
    jitter: timedelta = timedelta(0),
) -> bool:
    when = next_due(citation_id, record, interval, retry_base=retry_base, jitter=jitter)
    return when is None or when <= now


def due_citations(
    citations: Sequence[Citation],
    records: Mapping[str, Record],
    now: datetime,
    interval: timedelta,
    *,
    retry_base: timedelta,
    jitter: timedelta = timedelta(0),
) -> list[Citation]:
    """The citations due now, in list order: each by its own `interval` column when it has one."""
    chosen = []
    for c in citations:
        own = parse_duration(c.interval) if c.interval else interval
        base = min(retry_base, own) if own else retry_base
        if due(c.id, records.get(c.id, NEVER), own, now, retry_base=base, jitter=jitter):
            chosen.append(c)
    return chosen
