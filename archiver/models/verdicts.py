"""What the detectors find, per check and per version, and what a citation's health folds them into.
Frozen records: the detectors make them, the store keeps them, the report reads them. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from archiver.models.enums import ClaimKind, Decision, DriftClass, Flag, HealthStatus, PaywallKind, Severity


@dataclass(frozen=True)
class Signal:
    """What one check says: its kind of failure ('' when healthy), severity, evidence in plain words."""

    kind: str
    severity: Severity
    evidence: str = ""
    moved_to: str = ""  # a suggested new address when the page moved


HEALTHY = Signal("", Severity.HEALTHY)


@dataclass(frozen=True)
class PaywallVerdict:
    kind: PaywallKind
    evidence: tuple[str, ...] = ()
    truncated: bool = False  # the paywall cut the text: drift is not judged on it

    @property
    def paywalled(self) -> bool:
        return self.kind != PaywallKind.NONE


@dataclass(frozen=True)
class CheckVerdicts:
    """What the detectors said of one check, as the store keeps it."""

    signal: Signal = HEALTHY
    paywall: PaywallVerdict | None = None  # None when there was no page to judge


@dataclass(frozen=True)
class VersionDrift:
    """How a new version compares with the baseline and the previous version, and what it says of the claim."""

    baseline_hash: str = ""
    drift_class: DriftClass = DriftClass.UNCHANGED
    score: float = 1.0
    changes: tuple[str, ...] = ()
    previous_class: DriftClass = DriftClass.UNCHANGED
    previous_score: float = 1.0
    claim_facts: tuple[str, ...] = ()
    claim_found: tuple[str, ...] = ()
    claim_missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class RotPolicy:
    """When transient failures become rot: at least `failures` failed checks, the first and the
    last at least `span` apart (Wikipedia's InternetArchiveBot waits likewise before calling a link dead)."""

    failures: int = 3
    span: timedelta = timedelta(days=3)


@dataclass(frozen=True)
class RotVerdict:
    status: HealthStatus  # ok, failing, rotten, blocked, unchecked or offline
    kind: str = ""
    since: str = ""
    confirmed: bool = False
    failures: int = 0
    evidence: str = ""
    recovered_at: str = ""
    moved_to: str = ""


@dataclass(frozen=True)
class PaywallState:
    kind: PaywallKind
    since: str = ""
    evidence: tuple[str, ...] = ()
    truncated: bool = False  # the text we see is cut by the paywall


@dataclass(frozen=True)
class DriftState:
    """How the current version differs from the baseline, as recorded when it was stored."""

    drift_class: DriftClass
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

    @property
    def kind(self) -> ClaimKind:
        if self.lost:
            return ClaimKind.CLAIM_DRIFT
        if self.supported is None:
            return ClaimKind.NOTHING_TO_CHECK
        return ClaimKind.SUPPORTED if self.supported else ClaimKind.UNSUPPORTED


@dataclass(frozen=True)
class Review:
    """An editor's decision as the health shows it: who, when, why, and whether it still holds (the
    next real change, a new version or another rot kind, raises the flag again)."""

    decision: Decision
    at: str
    by: str
    note: str = ""
    version_hash: str = ""  # the content it was made on
    rot_kind: str = ""  # not_rot: the kind of rot judged a false alarm
    holds: bool = True  # False once the content or the kind changed since


@dataclass(frozen=True)
class Health:
    """A citation's health: its status, flags and the verdicts behind them (see `detect.health`)."""

    citation_id: str
    url: str
    status: HealthStatus
    flags: tuple[Flag, ...]
    since: str
    checked_at: str
    http_status: int | None
    final_url: str
    rot: RotVerdict
    paywall: PaywallState | None = None
    drift: DriftState | None = None
    claim: ClaimState | None = None
    reviews: tuple[Review, ...] = ()  # the editors' decisions in force, newest first
    # what the report shows beside the verdicts, kept with them so a report reads one row per citation
    title: str = ""  # of the current version
    versions: int = 0
    snapshot: str = ""  # the current version's text file, relative to the data directory
