"""A citation's record folded into its health and kept: step 4 of the pass, and what a review
decision does at once (so the report shows it without waiting for the next check)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from archiver.detect.claims import check_claim, facts_of
from archiver.detect.health import fold
from archiver.models import Citation, Decision, RotPolicy, StatusChange
from archiver.models.rows import CitationRow, VersionRow
from archiver.report.words import explain
from archiver.store import Store


def update_health(store: Store, citation: Citation, policy: RotPolicy, now: datetime) -> StatusChange | None:
    """Fold a citation's whole record (its watched URL's, its own claim) into its health and keep
    it; the change of status, if any."""
    wid = citation.watched_id if isinstance(citation, CitationRow) and citation.watched_id else citation.id
    reviews = store.reviews(citation.article, citation.id, wid)
    accepted = {r.version_hash for r in reviews if r.decision == Decision.ACCEPT}
    versions, current = own_claims(store, citation, store.versions(wid), store.current_version(wid), accepted)
    health = fold(citation, store.checks(wid), versions, current, policy, reviews)
    evidence = explain(health) or str(health.status)
    old = store.save_health(health, now, evidence, citation.article)
    if old == health.status or any(r.decision == Decision.IGNORE for r in reviews):
        return None  # an ignored citation is not watched: no alert
    return StatusChange(citation.key, citation.url, now.isoformat(), old, health.status, evidence, citation.article)


def own_claims(
    store: Store,
    citation: Citation,
    versions: list[VersionRow],
    current: VersionRow | None,
    accepted: set[str] | frozenset[str] = frozenset(),
) -> tuple[list[VersionRow], VersionRow | None]:
    """The versions with this citation's own claim checked in the two that its health compares (the
    current one, its baseline and a version an editor `accepted`). A version records the claim check of its watched URL's first
    citation; for another claim (another article citing the same page) its text is read and checked."""
    if current is None:
        return versions, None
    facts = tuple(f.label for f in facts_of(citation.claim, citation.expect))
    needed = {current.hash, current.drift.baseline_hash, *accepted}

    def own(v: VersionRow) -> VersionRow:
        if v.hash not in needed or v.drift.claim_facts == facts:
            return v
        try:
            text = store.read_text(v)
        except (OSError, ValueError):  # a damaged text file (`verify` names it): the record as it stands
            return v
        check = check_claim(citation.claim, text, citation.expect)
        drift = replace(v.drift, claim_facts=check.facts, claim_found=check.found, claim_missing=check.missing)
        return replace(v, drift=drift)

    mine = [own(v) for v in versions]
    return mine, next((v for v in mine if v.hash == current.hash), current)
