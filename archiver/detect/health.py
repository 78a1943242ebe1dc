"""A citation's health: the verdicts of its checks and versions folded into one status and its evidence.

Status is the most serious that applies, in this order: rotten, failing, drifted, paywalled,
blocked, offline, ok, unchecked. Each flag means one thing: `link_rot` rot (`rotten`), `failing` a
failure not confirmed yet, `paywall` a paywall, `drift` a version that changed a fact or was
rewritten (a `minor_edit` or a boilerplate change is recorded, never flagged), `claim_drift` a fact
of the claim the source no longer carries. This module defines the JSON contract of `archiver report`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from archiver.detect.drift import raises_drift
from archiver.detect.rot import Observation, RotPolicy, RotVerdict, Severity, Signal, assess

DEFAULT_POLICY = RotPolicy()
STATUSES = ("rotten", "failing", "drifted", "paywalled", "blocked", "offline", "ok", "unchecked")
FLAGS = ("link_rot", "failing", "paywall", "drift", "claim_drift")


@dataclass(frozen=True)
class PaywallState:
    kind: str  # hard, metered, registration, none
    since: str = ""
    evidence: tuple[str, ...] = ()
    truncated: bool = False  # the text we see is cut by the paywall


@dataclass(frozen=True)
class DriftState:
    """How the current version differs from the baseline, as recorded when it was stored."""

    drift_class: str  # unchanged, cosmetic, boilerplate, minor_edit, fact_change, major_rewrite
    score: float
    since: str = ""
    changes: tuple[str, ...] = ()
    baseline: str = ""  # hash of the baseline version
    versions: int = 1


@dataclass(frozen=True)
class ClaimState:
    claim: str
    facts: tuple[str, ...] = ()
    found: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()  # found in the baseline, missing now
    since: str = ""

    @property
    def supported(self) -> bool | None:
        return None if not self.facts else not self.missing


@dataclass(frozen=True)
class Health:
    citation_id: str
    url: str
    status: str
    flags: tuple[str, ...]
    since: str
    checked_at: str
    http_status: int | None
    final_url: str
    rot: RotVerdict
    paywall: PaywallState | None = None
    drift: DriftState | None = None
    claim: ClaimState | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The report contract: keep it stable, other tools read it."""
        rot = self.rot
        out: dict[str, Any] = {
            "id": self.citation_id,
            "url": self.url,
            "status": self.status,
            "since": self.since or None,
            "flags": list(self.flags),
            "checked_at": self.checked_at or None,
            "http_status": self.http_status,
            "final_url": self.final_url or None,
            "rot": {
                "status": rot.status,
                "kind": rot.kind or None,
                "since": rot.since or None,
                "confirmed": rot.confirmed,
                "failures": rot.failures,
                "evidence": rot.evidence,
                "recovered_at": rot.recovered_at or None,
                "moved_to": rot.moved_to or None,
            },
            "paywall": None,
            "drift": None,
            "claim": None,
        }
        if self.paywall:
            out["paywall"] = {
                "kind": self.paywall.kind,
                "since": self.paywall.since or None,
                "truncated": self.paywall.truncated,
                "evidence": list(self.paywall.evidence),
            }
        if self.drift:
            out["drift"] = {
                "kind": self.drift.drift_class,
                "score": self.drift.score,
                "since": self.drift.since or None,
                "changes": list(self.drift.changes),
                "versions": self.drift.versions,
            }
        if self.claim:
            c = self.claim
            out["claim"] = {
                "kind": "claim_drift"
                if c.lost
                else "supported"
                if c.supported
                else "unsupported"
                if c.supported is False
                else "nothing_to_check",
                "text": c.claim,
                "supported": c.supported,
                "facts": list(c.facts),
                "found": list(c.found),
                "missing": list(c.missing),
                "lost": list(c.lost),
                "since": c.since or None,
            }
        return out


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
) -> Health:
    rot = assess(observations, policy)
    if paywall and paywall.kind != "none" and paywall.truncated:
        # a cut text differs from the baseline because of the paywall, not because the article changed
        drift = claim = None
    flags = []
    if rot.status == "rotten":
        flags.append("link_rot")
    if rot.status == "failing":
        flags.append("failing")
    if paywall and paywall.kind != "none":
        flags.append("paywall")
    if drift and raises_drift(drift.drift_class):
        flags.append("drift")
    if claim and claim.lost:
        flags.append("claim_drift")
    latest_offline = bool(observations) and observations[-1].offline
    candidates = {
        "rotten": rot.status == "rotten",
        "failing": rot.status == "failing",
        "drifted": bool(claim and claim.lost) or "drift" in flags,
        "paywalled": "paywall" in flags and rot.status == "ok",
        "blocked": rot.status == "blocked",
        "offline": latest_offline or rot.status == "offline",
        "ok": rot.status == "ok",
    }
    status = next((s for s in STATUSES if candidates.get(s)), "unchecked")
    since = {
        "rotten": rot.since,
        "failing": rot.since,
        "blocked": rot.since,
        "drifted": (claim.since if claim and claim.lost else drift.since if drift else ""),
        "paywalled": paywall.since if paywall else "",
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
    Severity.HEALTHY: "ok",
    Severity.TRANSIENT: "failing",
    Severity.PERMANENT: "rotten",
    Severity.BLOCKED: "blocked",
}


def check_verdict(signal: Signal, paywall: str = "", drift_class: str = "") -> str:
    """What one check found, for a line of `check`'s table or log: "rotten: soft 404", "failing:
    server error", "paywalled: metered", "drifted: fact change", "ok: moved" or "ok". `drift_class` is
    the class of a version this check stored, if any."""
    status = SEVERITY_STATUS[signal.severity]
    if status != "ok":
        return f"{status}: {KIND_WORDS.get(signal.kind, signal.kind.replace('_', ' '))}"
    if paywall and paywall != "none":
        return f"paywalled: {paywall}"
    if drift_class and raises_drift(drift_class):
        return f"drifted: {drift_class.replace('_', ' ')}"
    if signal.moved_to:
        return "ok: moved"
    return "ok"
