"""Reading the report from the store: one health row and one short indexed timeline per citation, so
its cost stays flat as the history grows (a year of daily checks: see benchmarks/bench.py)."""

from __future__ import annotations

from datetime import datetime

from archiver.archive.selection import baseline, best_capture
from archiver.detect.drift import EDITS, raises_drift, unified_diff
from archiver.detect.health import mark
from archiver.errors import ConfigError
from archiver.models import Decision, DriftClass, Health
from archiver.models.rows import CitationRow
from archiver.report.model import CheckMark, CitationPage, Entry, Report, VersionView
from archiver.store import Store

TIMELINE_CHECKS = 90  # marks in a citation's timeline


def build_report(store: Store, now: datetime, article: str | None = None) -> Report:
    """Every citation still listed (of every article, or of `article`), each article's in footnote
    order, with its health and what the report shows."""
    articles = store.articles()
    if article is not None and article not in {a.id for a in articles}:
        known = ", ".join(a.id for a in articles[:20]) or "none"
        raise ConfigError(f"no article {article!r} in {store.data_dir} (known: {known})")
    health = store.all_health()
    first_seen = store.first_seen_dates()
    entries = tuple(
        _entry(store, c, health.get((c.article, c.id)), first_seen.get(_watched(c), ""))
        for c in store.citations(article=article)
    )
    cited = {e.citation.article for e in entries}
    return Report(now, entries, tuple(a for a in articles if a.id in cited or a.id == article))


def build_entry(store: Store, citation: CitationRow) -> Entry:
    """One citation's entry (for `archiver serve`'s page and API of a citation)."""
    first_seen = store.first_seen_dates().get(_watched(citation), "")
    return _entry(store, citation, store.health(citation.id, citation.article), first_seen)


def _watched(citation: CitationRow) -> str:
    return citation.watched_id or citation.id


def _entry(store: Store, citation: CitationRow, health: Health | None, first_seen: str) -> Entry:
    wid = _watched(citation)
    timeline = tuple((p.checked_at, mark(p.severity, p.offline)) for p in store.timeline(wid, TIMELINE_CHECKS))
    snapshot = store.data_dir / health.snapshot if health and health.snapshot else None
    return Entry(
        citation,
        health,
        best_capture(store.captures(wid), citation.cited),
        first_seen,
        str(snapshot) if snapshot else "",
        timeline,
        _diff(store, citation, health) if health else None,
        snapshot.absolute().as_uri() if snapshot else "",
    )


def build_page(store: Store, citation: CitationRow) -> CitationPage:
    """A citation's page: its entry, its last checks with their events, its versions (text, the
    diff from the one before, a screenshot when taken) and its archived copies."""
    wid = _watched(citation)
    versions = store.versions(wid)
    drift_of = {v.hash: v.drift.previous_class for v in versions}
    checks = store.checks(wid)[-TIMELINE_CHECKS:]
    marks = tuple(
        CheckMark(
            c.checked_at,
            mark(c.verdicts.signal.severity, c.offline),
            str(c.verdicts.paywall.kind) if c.verdicts.paywall and c.verdicts.paywall.paywalled else "",
            str(drift_of.get(c.version_hash, "")) if c.new_version and _raises(drift_of.get(c.version_hash)) else "",
        )
        for c in checks
    )
    texts = [store.read_text(v) for v in versions]
    views = tuple(
        VersionView(
            v,
            len(versions) - i,
            texts[i],
            unified_diff(texts[i - 1], texts[i]) if i else "",
            str(getattr(v, "screenshot", "") or ""),  # set once screenshots are stored per version
        )
        for i, v in reversed(list(enumerate(versions)))
    )
    others = tuple(c.key for c in store.watching(wid) if c.key != citation.key)
    return CitationPage(build_entry(store, citation), marks, views, tuple(store.captures(wid)), others)


def _raises(drift: DriftClass | None) -> bool:
    return drift is not None and raises_drift(drift)


def _diff(store: Store, citation: CitationRow, health: Health) -> str | None:
    """The current version against the citation's own baseline (the version an editor accepted, else
    the one in force when it was cited: several articles may cite one page on different days), for a
    drift that is an edit."""
    if health.drift is None or health.drift.drift_class not in EDITS:
        return None
    wid = _watched(citation)
    versions = store.versions(wid)
    current = store.current_version(wid)
    accepted = next((r.version_hash for r in health.reviews if r.decision == Decision.ACCEPT), "")
    base = next((v for v in versions if v.hash == accepted), None) or baseline(
        store.checks(wid), versions, citation.cited
    )
    if current is None or base is None:
        return None
    return unified_diff(store.read_text(base), store.read_text(current))
