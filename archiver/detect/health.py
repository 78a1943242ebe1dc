"""A citation's health: the verdicts of its checks and versions folded into one status and its evidence.

Status is the most serious that applies, in the order of `HealthStatus`: rotten, failing, drifted,
paywalled, blocked, offline, ok, unchecked. Each flag means one thing: `link_rot` rot (`rotten`),
`failing` a failure not confirmed yet, `paywall` a paywall, `drift` a version that changed a fact or
was rewritten (a `minor_edit` or a boilerplate change is recorded, never flagged), `claim_drift` a
fact of the claim the source no longer carries.

Editors' decisions (`ReviewRow`s, see `store.reviews`) enter the fold as rows too, each at its level:
- `accept` (per citation): the version accepted is the citation's baseline from then on: no drift
  or claim drift while it is current; the next version that changes a fact (against the one before
  it) or loses a fact of the claim (against the accepted one) raises the flag again;
- `not_rot` (per watched URL: rot is the page's, whichever article cites it): rot of the kind judged
  a false alarm is not raised while the page's content is what it was when judged;
- `ignore` (per citation): it raises no flag; its history and status stay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import NamedTuple

from archiver.detect.claims import ClaimCheck, lost_facts
from archiver.detect.drift import raises_drift
from archiver.detect.rot_history import DEFAULT_POLICY, Observation, assess
from archiver.models import (
    CheckVerdicts,
    Citation,
    ClaimState,
    Decision,
    DriftClass,
    DriftState,
    Flag,
    Health,
    HealthStatus,
    PaywallKind,
    PaywallState,
    Review,
    RotPolicy,
    Severity,
    VersionDrift,
)
from archiver.models.rows import CheckRow, ReviewRow, VersionRow


def fold(
    citation: Citation,
    checks: Sequence[CheckRow],
    versions: Sequence[VersionRow],
    current: VersionRow | None,
    policy: RotPolicy = DEFAULT_POLICY,
    reviews: Sequence[ReviewRow] = (),
) -> Health:
    """A citation's health from its whole record: its checks (oldest first), its versions, the one
    in force now and the editors' decisions that bear on it (oldest first). The one place the record
    is folded; the store keeps what it returns."""
    observations = [Observation(c.at, c.verdicts.signal, c.offline) for c in checks]
    latest = checks[-1] if checks else None
    drift = claim = None
    decided = _decisions(reviews, latest, current)
    accepted = next((v for v in versions if decided.accept and v.hash == decided.accept.version_hash), None)
    if current is not None and accepted is not None:
        drift, claim = since_accepted(citation, versions, current, accepted)
    elif current is not None:
        recorded = current.drift
        baseline = next((v for v in versions if v.hash == recorded.baseline_hash), current)
        drift = DriftState(
            recorded.drift_class,
            recorded.score,
            current.first_seen,
            recorded.changes,
            recorded.baseline_hash,
            len(versions),
        )
        claim = claim_state(citation, baseline, current)
    health = assess_health(
        citation.id,
        citation.url,
        observations,
        checked_at=latest.checked_at if latest else "",
        http_status=latest.http_status if latest else None,
        final_url=latest.final_url if latest else "",
        paywall=paywall_state(checks),
        drift=drift,
        claim=claim,
        policy=policy,
        false_alarms=decided.false_alarms,
    )
    notes = tuple(reversed(decided.notes))
    if decided.ignore:
        health = replace(health, flags=())
    if current is None:
        return replace(health, reviews=notes)
    return replace(health, title=current.title, versions=len(versions), snapshot=current.text_path, reviews=notes)


class Decided(NamedTuple):
    """The decisions in force, as the fold applies them."""

    accept: ReviewRow | None
    false_alarms: frozenset[str]  # rot kinds judged false alarms on the content checked now
    ignore: bool
    notes: list[Review]


def _decisions(reviews: Sequence[ReviewRow], latest: CheckRow | None, current: VersionRow | None) -> Decided:
    accept = None
    false_alarms: set[str] = set()
    ignore = False
    notes = []
    content = latest.version_hash if latest else ""
    for r in reviews:
        holds = True
        if r.decision == Decision.ACCEPT:
            accept = r
            holds = current is not None and current.hash == r.version_hash
        elif r.decision == Decision.NOT_ROT:
            holds = content == r.version_hash
            if holds:
                false_alarms.add(r.rot_kind)
        else:
            ignore = True
        notes.append(Review(r.decision, r.at, r.by, r.note, r.version_hash, r.rot_kind, holds))
    return Decided(accept, frozenset(false_alarms), ignore, notes)


def since_accepted(
    citation: Citation, versions: Sequence[VersionRow], current: VersionRow, accepted: VersionRow
) -> tuple[DriftState, ClaimState]:
    """Drift and claim drift judged from the version an editor accepted: the newest version since
    that changed a fact against the one before it, and the claim's facts lost since the accepted one."""
    later = [] if current.hash == accepted.hash else versions[versions.index(accepted) + 1 :]
    raising = [v for v in later if raises_drift(v.drift.previous_class)]
    if raising:
        last = raising[-1]
        drift = DriftState(
            last.drift.previous_class,
            last.drift.previous_score,
            last.first_seen,
            (),
            accepted.hash,
            len(versions),
        )
    else:
        drift = DriftState(DriftClass.UNCHANGED, 1.0, accepted.first_seen, (), accepted.hash, len(versions))
    return drift, claim_state(citation, accepted, current)


def claim_state(citation: Citation, baseline: VersionRow, current: VersionRow) -> ClaimState:
    """The claim's facts as the current version holds them, and those lost since `baseline`."""
    recorded = current.drift
    lost = tuple(lost_facts(_claim(baseline.drift), _claim(recorded)))
    return ClaimState(
        citation.claim,
        recorded.claim_facts,
        recorded.claim_found,
        recorded.claim_missing,
        lost,
        current.first_seen if lost else "",
    )


def paywall_state(checks: Sequence[CheckRow]) -> PaywallState | None:
    """The paywall of the latest check that judged one, and since when it has stood."""
    judged = [(c.checked_at, c.verdicts.paywall) for c in checks if c.verdicts.paywall is not None]
    if not judged:
        return None
    at, latest = judged[-1]
    since = at
    for checked_at, paywall in reversed(judged):
        if paywall.kind != latest.kind:
            break
        since = checked_at
    return PaywallState(latest.kind, since, latest.evidence, latest.truncated)


def _claim(drift: VersionDrift) -> ClaimCheck:
    return ClaimCheck(drift.claim_facts, drift.claim_found, drift.claim_missing)


def assess_health(
    citation_id: str,
    url: str,
    observations: Sequence[Observation],
    *,
    checked_at: str = "",
    http_status: int | None = None,
    final_url: str = "",
    paywall: PaywallState | None = None,
    drift: DriftState | None = None,
    claim: ClaimState | None = None,
    policy: RotPolicy = DEFAULT_POLICY,
    false_alarms: frozenset[str] = frozenset(),
) -> Health:
    rot = assess(observations, policy)
    if rot.kind in false_alarms and rot.status in (HealthStatus.ROTTEN, HealthStatus.FAILING):
        rot = replace(rot, status=HealthStatus.OK)  # an editor judged this kind a false alarm here
    if paywall and paywall.kind != PaywallKind.NONE and paywall.truncated:
        # a cut text differs from the baseline because of the paywall, not because the article changed
        drift = claim = None
    flags = []
    if rot.status == HealthStatus.ROTTEN:
        flags.append(Flag.LINK_ROT)
    if rot.status == HealthStatus.FAILING:
        flags.append(Flag.FAILING)
    if paywall and paywall.kind != PaywallKind.NONE:
        flags.append(Flag.PAYWALL)
    if drift and raises_drift(drift.drift_class):
        flags.append(Flag.DRIFT)
    if claim and claim.lost:
        flags.append(Flag.CLAIM_DRIFT)
    latest_offline = bool(observations) and observations[-1].offline
    candidates = {
        HealthStatus.ROTTEN: rot.status == HealthStatus.ROTTEN,
        HealthStatus.FAILING: rot.status == HealthStatus.FAILING,
        HealthStatus.DRIFTED: bool(claim and claim.lost) or Flag.DRIFT in flags,
        HealthStatus.PAYWALLED: Flag.PAYWALL in flags and rot.status == HealthStatus.OK,
        HealthStatus.BLOCKED: rot.status == HealthStatus.BLOCKED,
        HealthStatus.OFFLINE: latest_offline or rot.status == HealthStatus.OFFLINE,
        HealthStatus.OK: rot.status == HealthStatus.OK,
    }
    status = next((s for s in HealthStatus if candidates.get(s)), HealthStatus.UNCHECKED)
    since = {
        HealthStatus.ROTTEN: rot.since,
        HealthStatus.FAILING: rot.since,
        HealthStatus.BLOCKED: rot.since,
        HealthStatus.DRIFTED: (claim.since if claim and claim.lost else drift.since if drift else ""),
        HealthStatus.PAYWALLED: paywall.since if paywall else "",
    }.get(status, "")
    return Health(
        citation_id, url, status, tuple(flags), since, checked_at, http_status, final_url, rot, paywall, drift, claim
    )


# --- one check, in a word ---------------------------------------------------------------------------------

KIND_WORDS = {
    "soft_404": "soft 404",
    "redirect_home": "redirect to home",
    "not_found": "not found",
    "client_error": "client error",
    "server_error": "server error",
    "rate_limited": "rate limited",
    "connection_refused": "connection refused",
    "connection_reset": "connection reset",
    "redirect_loop": "redirect loop",
    "too_many_redirects": "too many redirects",
    "too_large": "too large",
    "protocol_error": "protocol error",
    "bad_url": "bad URL",
    "refused_address": "refused address",
    "bot_wall": "bot wall",
    "blocked": "access refused",
    "cookie_wall": "cookie wall",
    "dns": "DNS failure",
    "tls": "TLS failure",
}
SEVERITY_STATUS = {
    Severity.HEALTHY: HealthStatus.OK,
    Severity.TRANSIENT: HealthStatus.FAILING,
    Severity.PERMANENT: HealthStatus.ROTTEN,
    Severity.BLOCKED: HealthStatus.BLOCKED,
}


def mark(severity: Severity, offline: bool) -> HealthStatus:
    """One word for one check, as a timeline shows it: offline, or what its severity means."""
    return HealthStatus.OFFLINE if offline else SEVERITY_STATUS[severity]


def check_verdict(verdicts: CheckVerdicts, drift_class: DriftClass | None = None) -> str:
    """What one check found, for a line of `check`'s table or log: "rotten: soft 404", "failing:
    server error", "paywalled: metered", "drifted: fact change", "ok: moved" or "ok". `drift_class` is
    the class of a version this check stored, if any."""
    signal, paywall = verdicts.signal, verdicts.paywall
    status = SEVERITY_STATUS[signal.severity]
    if status != HealthStatus.OK:
        return f"{status}: {KIND_WORDS.get(signal.kind, signal.kind.replace('_', ' '))}"
    if paywall and paywall.paywalled:
        return f"paywalled: {paywall.kind}"
    if drift_class and raises_drift(drift_class):
        return f"drifted: {drift_class.replace('_', ' ')}"
    if signal.moved_to:
        return "ok: moved"
    return "ok"
