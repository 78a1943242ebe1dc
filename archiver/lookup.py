"""`archiver lookup`: a citation's stored versions and known captures, the one in force at a date,
its text and what changed between two versions. Reads the store only (URLs we do not watch are
looked up in the archives by `archive.unwatched`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from archiver.archive.selection import capture_at, version_in_force
from archiver.detect.drift import unified_diff
from archiver.errors import ConfigError
from archiver.models.rows import CaptureRow, CheckRow, CitationRow, VersionRow
from archiver.models.time import parse_date
from archiver.store import Store


@dataclass(frozen=True)
class Found:
    """A watched citation and what the store holds of it."""

    citation: CitationRow
    versions: list[VersionRow]  # newest first
    captures: list[CaptureRow]  # newest first
    checks: list[CheckRow]  # oldest first
    cited_by: list[CitationRow] = field(default_factory=list)  # every listed citation of the same page

    def version_at(self, when: datetime | None) -> VersionRow | None:
        """The version in force at `when`; the newest one when no date is given."""
        if when is None:
            return self.versions[0] if self.versions else None
        return version_in_force(self.checks, self.versions, when)

    def capture_at(self, when: datetime | None) -> CaptureRow | None:
        """The archived copy closest to `when` (verified first)."""
        return capture_at(self.captures, when)

    def pick_version(self, ref: str) -> VersionRow:
        """A version by its number in the list (1 = newest) or by a prefix of its hash."""
        if ref.isdigit() and 1 <= int(ref) <= len(self.versions):
            return self.versions[int(ref) - 1]
        matches = [v for v in self.versions if v.hash.startswith(ref.lower())]
        if len(matches) == 1:
            return matches[0]
        raise ConfigError(
            f"no single version {ref!r} of citation {self.citation.key}: give its number "
            f"(1 = newest, up to {len(self.versions)}) or a longer hash prefix"
        )


def find(store: Store, key: str, article: str | None = None) -> Found | None:
    """A citation by key (`3`, `ARTICLE:3`), by id within `article`, or by URL (as cited or
    canonical); None when the store does not watch it. What is stored is its watched URL's."""
    citation = store.citation(key, article)
    if citation is None:
        return None
    watched_id = citation.watched_id or citation.id
    return Found(
        citation,
        list(reversed(store.versions(watched_id))),
        store.captures(watched_id),
        store.checks(watched_id),
        store.watching(watched_id),
    )


def parse_at(text: str) -> datetime:
    """The `--at` date, by the same rule as a citation's `cited_at` (UTC when no offset is given);
    a bare date means the end of that day, so what was stored that day counts."""
    try:
        when = parse_date(text)
    except ValueError:
        raise ConfigError(f"--at {text[:40]!r} is not a date like 2025-04-28 or 2025-04-28T12:00") from None
    if _BARE_DATE.fullmatch(text.strip()):
        return when + timedelta(days=1) - timedelta(microseconds=1)
    return when


_BARE_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def diff(store: Store, older: VersionRow, newer: VersionRow, names: tuple[str, str] = ("before", "after")) -> str:
    """What changed from `older` to `newer`, its two sides headed by `names`."""
    return unified_diff(store.read_text(older), store.read_text(newer), limit=2000, names=names)


def version_name(found: Found, version: VersionRow) -> str:
    """How `lookup` names a version: its number (1 = newest), hash prefix and time to the second."""
    n = next(i for i, v in enumerate(found.versions, 1) if v.hash == version.hash)
    return f"version {n} {version.hash[:12]} {version.first_seen[:19]}"
