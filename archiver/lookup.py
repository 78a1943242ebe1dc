"""Looking up a citation: its stored versions and known captures, the one in force at a date,
its text and what changed; a URL we do not watch is looked up in the Wayback Machine and every
configured Memento archive directly."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from archiver import sources
from archiver.archives import ArchiveSession, BudgetSpent
from archiver.config import Settings
from archiver.detect.drift import unified_diff
from archiver.errors import ArchiveUnreachable, ConfigError
from archiver.memento import look_up
from archiver.models import Citation, VersionRecord
from archiver.store import Store
from archiver.urls import canonical, is_http_url
from archiver.wayback import Capture, WaybackClient, capture_from_row, closest


@dataclass
class Found:
    citation: dict[str, Any]
    versions: list[VersionRecord]  # newest first
    captures: list[dict[str, Any]]  # newest first


def find(store: Store, key: str) -> Found | None:
    """A citation by id, or by URL (as cited or canonical); None when the store does not watch it."""
    rows = store.citations(include_removed=True)
    row = next((r for r in rows if r["id"] == key), None)
    if row is None and is_http_url(key):
        row = next((r for r in rows if r["url"] == key or canonical(r["url"]) == canonical(key)), None)
    if row is None:
        return None
    return Found(row, list(reversed(store.versions(row["id"]))), store.captures(row["id"]))


def parse_date(text: str) -> datetime:
    """The `--at` date, by the same rule as a citation's `cited_at` (UTC when no offset is given)."""
    try:
        return sources.parse_date(text)
    except ValueError:
        raise ConfigError(f"--at {text[:40]!r} is not a date like 2025-04-28 or 2025-04-28T12:00") from None


def version_at(store: Store, found: Found, when: datetime) -> VersionRecord | None:
    """The version in force at `when` (see version_in_force)."""
    return version_in_force(store, found.citation["id"], when)


def version_in_force(store: Store, citation_id: str, when: datetime) -> VersionRecord | None:
    """The version in force at `when`: the one the last check before it saw; None before the first."""
    seen = [r for r in store.history(citation_id) if r["version_hash"] and _aware(r["checked_at"]) <= when]
    if not seen:
        return None
    return next((v for v in store.versions(citation_id) if v.hash == seen[-1]["version_hash"]), None)


def _aware(stamp: str) -> datetime:
    when = datetime.fromisoformat(stamp)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def capture_at(found: Found, when: datetime | None) -> dict[str, Any] | None:
    """The closest verified capture (else any capture not refused) before `when`, then after it."""
    for pool in ([c for c in found.captures if c["verified"] == 1], [c for c in found.captures if c["verified"] != 0]):
        ordered = closest([capture_from_row(c) for c in pool], when)
        if ordered:
            best = ordered[0]
            return next(c for c in pool if c["timestamp"] == best.timestamp and c["archive"] == best.archive)
    return None


def pick_version(found: Found, ref: str) -> VersionRecord:
    """A version by its number in the list (1 = newest) or by a prefix of its hash."""
    if ref.isdigit() and 1 <= int(ref) <= len(found.versions):
        return found.versions[int(ref) - 1]
    matches = [v for v in found.versions if v.hash.startswith(ref.lower())]
    if len(matches) == 1:
        return matches[0]
    raise ConfigError(
        f"no single version {ref!r} of citation {found.citation['id']}: give its number "
        f"(1 = newest, up to {len(found.versions)}) or a longer hash prefix"
    )


def diff(store: Store, found: Found, older: VersionRecord, newer: VersionRecord) -> str:
    return unified_diff(_text(store, older), _text(store, newer), limit=2000)


def text_of(store: Store, version: VersionRecord) -> str:
    return _text(store, version)


def _text(store: Store, version: VersionRecord) -> str:
    return store.read_text(version) if version.text_path else ""


def archived_copies(settings: Settings, url: str) -> list[Capture] | None:
    """Captures of a URL we do not watch: the Wayback Machine's CDX API and every configured Memento
    endpoint (not verified: we hold no version to compare with). None when none could be asked."""

    async def ask() -> list[Capture] | None:
        found: list[Capture] | None = None
        async with ArchiveSession(settings, budget=settings.archive_budget) as session:
            try:
                found = await WaybackClient(settings, session).captures(url)
            except ArchiveUnreachable:
                found = None
            for endpoint in settings.memento_endpoints:
                try:
                    mementos = await look_up(session, endpoint, url, None)
                except ArchiveUnreachable:
                    continue
                if mementos is None:
                    continue
                found = (found or []) + [
                    Capture(m.timestamp, url, None, archive=m.archive, replay=m.url)
                    for m in mementos
                    if m.archive != "wayback"
                ]
        return found

    try:
        return asyncio.run(ask())
    except BudgetSpent:
        return None


def as_citation(found: Found) -> Citation:
    row = found.citation
    return Citation(row["id"], row["url"], row["claim"], row["cited_at"])
