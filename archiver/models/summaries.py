"""What a pass and an archiving run tell their caller: a line per check, the changes of status, the
archive's tally. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

from archiver.models.enums import HealthStatus, Outcome
from archiver.models.records import Citation


@dataclass(frozen=True, slots=True)
class CheckSummary:
    """One line of a pass's summary: the citation, its outcome, and whether the content changed.
    A pass keeps one per URL until it ends: slots, not a dict each (about 100 bytes less a line)."""

    citation: Citation
    outcome: Outcome
    http_status: int | None
    final_url: str
    new_version: bool
    version_hash: str
    title: str
    error: str
    elapsed_ms: int
    verdict: str = ""  # what the detectors found, in words: "ok", "rotten: soft 404", "paywalled: hard"...


@dataclass
class ArchiveSummary:
    """What one archiving run did: captures found, submissions made, captures verified."""

    found: int = 0  # captures learned from the CDX API and Memento endpoints
    queued: int = 0
    done: int = 0
    retried: int = 0
    failed: int = 0
    pending: int = 0
    verified: int = 0
    rejected: int = 0
    quota: int | None = None  # captures still available today (SPN2 with keys); None when unknown
    events: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)  # archives found down in this run, with why
    budget_spent: bool = False  # the step stopped at ARCHIVER_ARCHIVE_BUDGET; the rest waits


@dataclass(frozen=True)
class StatusChange:
    """A citation's health status moved: what alerts are made of."""

    citation_id: str  # the citation's key (`Citation.key`): its id, or ARTICLE:ID
    url: str
    at: str
    old: HealthStatus
    new: HealthStatus
    evidence: str
    article: str = ""


@dataclass(frozen=True)
class PassSummary:
    """The result of one `check` pass."""

    pass_id: int
    started_at: str
    finished_at: str
    checks: tuple[CheckSummary, ...]
    offline: bool
    changes: tuple[StatusChange, ...] = ()  # worth telling only: not a new citation's first healthy check
    archive: ArchiveSummary | None = None
    interrupted: bool = False  # stopped (SIGTERM) before every citation was checked

    @property
    def new_versions(self) -> int:
        return sum(c.new_version for c in self.checks)
