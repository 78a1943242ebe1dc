"""Time as every stage reads it: one clock type, one `utcnow`, one way to read a date, and the
14-digit timestamps of web archives (made, read and shown here and nowhere else). Pure."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Where a stage gets the time: `utcnow` in production, a controlled clock in tests."""

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ][0-9:.+Z-]*)?$")
_TIMESTAMP = "%Y%m%d%H%M%S"


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_date(text: str) -> datetime:
    """A date (`2025-04-28`) or an ISO 8601 date and time, as an aware datetime (UTC when no offset).
    Raises ValueError for anything else, an impossible date (`9999-99-99`) included."""
    if not _DATE.match(text):
        raise ValueError(f"{text!r} is not a date like 2025-04-28")
    try:
        return aware(datetime.fromisoformat(text)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(f"{text!r} is not a real date and time") from None


def aware(when: datetime) -> datetime:
    """A datetime with a zone: one without is UTC (as the store writes every stamp)."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_stamp(stamp: str) -> datetime:
    """An ISO stamp as the store keeps it (`checked_at`, `first_seen`), as an aware datetime."""
    return aware(datetime.fromisoformat(stamp))


def timestamp(when: datetime) -> str:
    """The 14-digit UTC timestamp web archives name a capture by (`20250427093000`)."""
    return when.astimezone(UTC).strftime(_TIMESTAMP)


def parse_timestamp(stamp: str) -> datetime:
    """A 14-digit timestamp as an aware UTC datetime."""
    return datetime.strptime(stamp, _TIMESTAMP).replace(tzinfo=UTC)


def timestamp_day(stamp: str) -> str:
    """The day of a 14-digit timestamp, as people read it (`2025-04-27`)."""
    return f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}"
