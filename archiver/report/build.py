"""Reading the report from the store: one health row and one short indexed timeline per citation, so
its cost stays flat as the history grows (a year of daily checks: see benchmarks/bench.py)."""

from __future__ import annotations

from datetime import datetime

from archiver.archive.selection import best_capture
from archiver.detect.drift import EDITS, unified_diff
from archiver.detect.health import mark
from archiver.models import FetchedBy, Health
from archiver.models.rows import CitationRow
from archiver.report.model import Entry, Report
from archiver.store import Store

TIMELINE_CHECKS = 90  # marks in a citation's timeline
Looks = dict[tuple[str, str], tuple[str, FetchedBy]]  # see Store.looks


def build_report(store: Store, now: datetime) -> Report:
    """Every citation still listed, in footnote order, with its health and what the report shows."""
    health = store.all_health()
    first_seen = store.first_seen_dates()
    looks = store.looks()
    return Report(
        now, tuple(_entry(store, c, health.get(c.id), first_seen.get(c.id, ""), looks) for c in store.citations())
    )


def build_entry(store: Store, citation: CitationRow) -> Entry:
    """One citation's entry (for `archiver serve`'s page and API of a citation)."""
    return _entry(
        store, citation, store.health(citation.id), store.first_seen_dates().get(citation.id, ""), store.looks()
    )


def _entry(store: Store, citation: CitationRow, health: Health | None, first_seen: str, looks: Looks) -> Entry:
    timeline = tuple((p.checked_at, mark(p.severity, p.offline)) for p in store.timeline(citation.id, TIMELINE_CHECKS))
    shot, fetched_by = looks.get((citation.id, health.snapshot), ("", FetchedBy.HTTP)) if health else ("", "")
    return Entry(
        citation,
        health,
        best_capture(store.captures(citation.id), citation.cited),
        first_seen,
        str(store.data_dir / health.snapshot) if health and health.snapshot else "",
        timeline,
        _diff(store, health) if health else None,
        str(store.data_dir / shot) if shot else "",
        str(fetched_by) if health and health.snapshot else "",
    )


def _diff(store: Store, health: Health) -> str | None:
    """The current version against its baseline, for a citation whose drift is an edit."""
    if health.drift is None or health.drift.drift_class not in EDITS:
        return None
    versions = store.versions(health.citation_id)
    current = store.current_version(health.citation_id)
    baseline = next((v for v in versions if current and v.hash == current.drift.baseline_hash), None)
    if current is None or baseline is None:
        return None
    return unified_diff(store.read_text(baseline), store.read_text(current))
