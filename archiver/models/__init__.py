"""Frozen records and enums shared by every stage. No I/O here.

- `enums`      the vocabulary: outcomes, severities, statuses, flags, kinds and states
- `time`       the one clock type, `utcnow`, dates and 14-digit archive timestamps
- `records`    a citation as listed, a fetch's result, a page's extracted text
- `verdicts`   what the detectors find and the health a citation's verdicts fold into
- `summaries`  what a pass and an archiving run report to their caller
- `rows`       what the store keeps, read back typed (imported from `archiver.models.rows`)
"""

from archiver.models.enums import (
    BrowserMode,
    ClaimKind,
    Decision,
    DriftClass,
    FetchedBy,
    Flag,
    HealthStatus,
    OutboxState,
    Outcome,
    PaywallKind,
    Severity,
)
from archiver.models.records import (
    LIST_ARTICLE,
    Article,
    Citation,
    Extraction,
    FetchResult,
    Hop,
    Validators,
    citation_key,
)
from archiver.models.summaries import ArchiveSummary, CheckSummary, PassSummary, StatusChange
from archiver.models.time import Clock, utcnow
from archiver.models.verdicts import (
    HEALTHY,
    CheckVerdicts,
    ClaimState,
    DriftState,
    Health,
    PaywallState,
    PaywallVerdict,
    Review,
    RotPolicy,
    RotVerdict,
    Signal,
    VersionDrift,
)

__all__ = [
    "HEALTHY",
    "LIST_ARTICLE",
    "Article",
    "ArchiveSummary",
    "BrowserMode",
    "CheckSummary",
    "CheckVerdicts",
    "Citation",
    "ClaimKind",
    "ClaimState",
    "Clock",
    "Decision",
    "DriftClass",
    "DriftState",
    "Extraction",
    "FetchResult",
    "FetchedBy",
    "Flag",
    "Health",
    "HealthStatus",
    "Hop",
    "Outcome",
    "OutboxState",
    "PassSummary",
    "PaywallKind",
    "PaywallState",
    "PaywallVerdict",
    "Review",
    "RotPolicy",
    "RotVerdict",
    "Severity",
    "Signal",
    "StatusChange",
    "Validators",
    "VersionDrift",
    "citation_key",
    "utcnow",
]
