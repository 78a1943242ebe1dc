"""The report's words: a status's name and colour, the sentence that explains it (the one rule, used
by every format and by alerts), whether the source still supports the claim, the headline. Pure."""

from __future__ import annotations

from collections.abc import Mapping

from archiver.detect.drift import EDITS
from archiver.models import Article, ClaimState, Decision, Health, HealthStatus, PaywallKind
from archiver.models.rows import CaptureRow, CitationRow
from archiver.models.time import timestamp_day

STATUS_WORDS = {
    HealthStatus.OK: "OK",
    HealthStatus.PAYWALLED: "Paywalled",
    HealthStatus.DRIFTED: "Drifted",
    HealthStatus.BLOCKED: "Blocked",
    HealthStatus.FAILING: "Failing",
    HealthStatus.ROTTEN: "Rotten",
    HealthStatus.OFFLINE: "Offline",
    HealthStatus.UNCHECKED: "Unchecked",
}
# Badge backgrounds under white text: each at least 4.5:1 (WCAG 2.1 AA for normal text), and so
# at least 3:1 against the white page for timeline marks (tests/test_pages.py computes them).
COLOURS = {
    HealthStatus.OK: "#2e7d32",
    HealthStatus.PAYWALLED: "#6a1b9a",
    HealthStatus.DRIFTED: "#b34700",
    HealthStatus.BLOCKED: "#37474f",
    HealthStatus.FAILING: "#8d5a00",
    HealthStatus.ROTTEN: "#c62828",
    HealthStatus.OFFLINE: "#546e7a",
    HealthStatus.UNCHECKED: "#6b6b6b",
}


def explain(health: Health | None) -> str:
    """The evidence behind a citation's status, in plain words ("" when there is nothing to say)."""
    if health is None:
        return "never checked"
    status, rot, claim, drift, paywall = health.status, health.rot, health.claim, health.drift, health.paywall
    parts = []
    if status in (HealthStatus.ROTTEN, HealthStatus.FAILING, HealthStatus.BLOCKED) and rot.evidence:
        parts.append(rot.evidence)
    if claim and claim.lost:
        parts.append("the source no longer says " + ", ".join(claim.lost))
    if drift and drift.drift_class in EDITS:
        parts.append(
            f"{drift.drift_class.replace('_', ' ')} (similarity {drift.score:.0%})"
            + (": " + "; ".join(drift.changes[:3]) if drift.changes else "")
        )
    if paywall and paywall.kind != PaywallKind.NONE:
        parts.append(f"{paywall.kind} paywall: " + "; ".join(paywall.evidence[:2]))
    if rot.moved_to:
        parts.append(f"moved to {rot.moved_to}")
    if rot.recovered_at and status == HealthStatus.OK:
        parts.append(f"recovered on {rot.recovered_at[:10]}")
    if status == HealthStatus.OFFLINE:
        parts.append("the last pass could reach no host")
    return "; ".join(parts) or ("never checked" if status == HealthStatus.UNCHECKED else "")


REVIEW_WORDS = {Decision.ACCEPT: "accepted", Decision.NOT_ROT: "not rot", Decision.IGNORE: "ignored"}


def reviewed(health: Health | None) -> str:
    """The editors' decisions in force, in words: "accepted by alice on 2026-11-30: a typo fixed"; a
    decision the page has changed since says so."""
    if health is None:
        return ""
    parts = []
    for r in health.reviews:
        what = REVIEW_WORDS[r.decision] + (f" ({r.rot_kind.replace('_', ' ')})" if r.rot_kind else "")
        line = f"{what} by {r.by} on {r.at[:10]}" + (f": {r.note}" if r.note else "")
        parts.append(line if r.holds else f"{line} (the page has changed since)")
    return "; ".join(parts)


def support(claim: ClaimState | None) -> str:
    """Whether the source still supports the claim, and with what."""
    if claim is None:
        return "unknown"
    if claim.lost:
        return "no longer (" + ", ".join(claim.lost) + " gone)"
    if claim.supported is True:
        return "yes (" + ", ".join(claim.found) + ")"
    if claim.supported is False:
        return "not found (" + ", ".join(claim.missing) + ")"
    return "nothing to check"


def headline(summary: Mapping[HealthStatus, int]) -> str:
    total = sum(summary.values())
    return f"{total} citation(s): " + ", ".join(f"{n} {status}" for status, n in summary.items() if n)


def day(stamp: str | None) -> str:
    return stamp[:10] if stamp else ""


def capture_date(capture: CaptureRow | None) -> str:
    return timestamp_day(capture.timestamp) if capture else ""


def link_date(citation: CitationRow, first_seen: str) -> str:
    """The date of linking, YYYY-MM-DD: the citation's date, else its first stored version's, else
    the day it joined the citation list."""
    for value in (citation.cited_at, first_seen, citation.added_at):
        if len(value) >= 10 and value[4] == "-" and value[7] == "-":
            return value[:10]
    return ""


def archive_label(archive: str) -> str:
    return "Wayback Machine" if archive == "wayback" else archive


def article_label(article: Article) -> str:
    """How a report names an article: its title, else its id."""
    return article.title or article.id
