"""Choosing among captures and versions: one rule each, used by the archiving step, the report,
`archiver lookup` and the TimeGate of `archiver serve` alike. Pure: rows in, a choice out.

- `closest`: the order captures are preferred in, around a date (Wikipedia's archive bot's order);
- `best_capture`: the verified capture offered for a citation;
- `capture_at`: the copy `lookup --at` names (verified, else any not refused);
- `version_in_force`: the version a reader saw at a moment, from the check history;
- `baseline`: the version a citation's drift is judged against.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from archiver.models.rows import Capture, CaptureRow, CheckRow, VersionRow
from archiver.models.time import timestamp

C = TypeVar("C", bound=Capture)


def closest(captures: Sequence[C], when: datetime | None) -> list[C]:
    """Captures in order of preference: the closest before `when` first (newest first), then those
    after it (oldest first), as Wikipedia's archive bot does; newest first with no date. A capture
    of a redirect (3xx) counts: its replay is followed inside the archive; an error never does."""
    good = [c for c in captures if c.status is None or 200 <= c.status < 400]
    if when is None:
        return sorted(good, key=lambda c: c.timestamp, reverse=True)
    stamp = timestamp(when)
    before = sorted((c for c in good if c.timestamp <= stamp), key=lambda c: c.timestamp, reverse=True)
    after = sorted((c for c in good if c.timestamp > stamp), key=lambda c: c.timestamp)
    return before + after


def best_capture(captures: Sequence[CaptureRow], cited: datetime | None) -> CaptureRow | None:
    """The capture to offer for a citation: verified, the closest to the date it was cited."""
    ordered = closest([c for c in captures if c.verified], cited)
    return ordered[0] if ordered else None


def capture_at(captures: Sequence[CaptureRow], when: datetime | None) -> CaptureRow | None:
    """The closest verified capture to `when`, else the closest one not found wrong."""
    for pool in ([c for c in captures if c.verified], [c for c in captures if c.verified is not False]):
        ordered = closest(pool, when)
        if ordered:
            return ordered[0]
    return None


def version_in_force(
    checks: Sequence[CheckRow], versions: Sequence[VersionRow], when: datetime | None = None
) -> VersionRow | None:
    """The version in force at `when` (now, when None): the one the last check at or before it saw.
    None before the first check that saw content. Checks are oldest first."""
    seen = [c for c in checks if c.version_hash and (when is None or c.at <= when)]
    if not seen:
        return None
    return next((v for v in versions if v.hash == seen[-1].version_hash), None)


def baseline(checks: Sequence[CheckRow], versions: Sequence[VersionRow], cited: datetime | None) -> VersionRow | None:
    """What a citation's versions are compared with: the version in force when it was cited, else
    (cited before we first saw the page, or no date) the first version we stored."""
    if not versions:
        return None
    return (version_in_force(checks, versions, cited) if cited else None) or versions[0]
