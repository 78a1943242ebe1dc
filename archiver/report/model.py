"""The report's read model: per citation, its health and what the report shows beside it, typed; and
the JSON contract of `archiver report --format json` (and `archiver serve`'s API), built here once,
by `Report.to_json`. Pure: the store is read by `build`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from archiver.models import Health, HealthStatus
from archiver.models.rows import CaptureRow, CitationRow


@dataclass(frozen=True)
class Entry:
    """One citation of the report: its health (None when never checked) and what is shown beside it."""

    citation: CitationRow
    health: Health | None
    archive: CaptureRow | None = None  # the verified capture offered
    first_seen: str = ""  # when its first version was stored
    snapshot: str = ""  # the newest text's path
    timeline: tuple[tuple[str, HealthStatus], ...] = ()  # (checked_at, mark) of the latest checks
    diff: str | None = None  # the latest drift against the baseline, when it is an edit
    screenshot: str = ""  # the current version's screenshot (a PNG's path), "" when it has none
    fetched_by: str = ""  # which fetcher produced the current version: http or browser; "" when none

    @property
    def status(self) -> HealthStatus:
        return self.health.status if self.health else HealthStatus.UNCHECKED

    @property
    def title(self) -> str:
        return self.health.title if self.health else ""

    @property
    def versions(self) -> int:
        return self.health.versions if self.health else 0

    def to_json(self) -> dict[str, Any]:
        """The entry as the contract writes it: fields are added, never renamed or removed."""
        c, h = self.citation, self.health
        out: dict[str, Any] = {
            "id": c.id,
            "url": c.url,
            "status": self.status,
            "since": (h.since or None) if h else None,
            "flags": list(h.flags) if h else [],
            "checked_at": (h.checked_at or None) if h else None,
            "http_status": h.http_status if h else None,
            "final_url": (h.final_url or None) if h else None,
            "rot": None,
            "paywall": None,
            "drift": None,
            "claim": None,
        }
        if h is not None:
            out.update(_verdicts(h))
        out.update(
            {
                "title": self.title,
                "versions": self.versions,
                "snapshot": self.snapshot or None,
                "claim_text": c.claim,
                "cited_at": c.cited_at or None,
                "added_at": c.added_at or None,
                "archive": (
                    {
                        "url": self.archive.url,
                        "timestamp": self.archive.timestamp,
                        "archive": self.archive.archive,
                        "verified": True,
                    }
                    if self.archive
                    else None
                ),
                "first_seen": self.first_seen or None,
                "timeline": list(self.timeline),  # (checked_at, mark) pairs: JSON arrays
                "diff": self.diff,
                "screenshot": self.screenshot or None,
                "fetched_by": self.fetched_by or None,
            }
        )
        return out


@dataclass(frozen=True)
class Report:
    """Every citation in footnote order, as of `generated_at`."""

    generated_at: datetime
    entries: tuple[Entry, ...]

    @property
    def summary(self) -> dict[HealthStatus, int]:
        """How many citations have each status (every status named, most serious first)."""
        counts = Counter(e.status for e in self.entries)
        return {status: counts[status] for status in HealthStatus}

    def to_json(self) -> dict[str, Any]:
        """The report contract (see README, "The report contract")."""
        return {
            "generated_at": self.generated_at.isoformat(),
            "summary": {str(status): n for status, n in self.summary.items()},
            "citations": [e.to_json() for e in self.entries],
        }


def _verdicts(h: Health) -> dict[str, Any]:
    rot = h.rot
    out: dict[str, Any] = {
        "rot": {
            "status": rot.status,
            "kind": rot.kind or None,
            "since": rot.since or None,
            "confirmed": rot.confirmed,
            "failures": rot.failures,
            "evidence": rot.evidence,
            "recovered_at": rot.recovered_at or None,
            "moved_to": rot.moved_to or None,
        }
    }
    if h.paywall:
        out["paywall"] = {
            "kind": h.paywall.kind,
            "since": h.paywall.since or None,
            "truncated": h.paywall.truncated,
            "evidence": list(h.paywall.evidence),
        }
    if h.drift:
        out["drift"] = {
            "kind": h.drift.drift_class,
            "score": h.drift.score,
            "since": h.drift.since or None,
            "changes": list(h.drift.changes),
            "versions": h.drift.versions,
        }
    if h.claim:
        out["claim"] = {
            "kind": h.claim.kind,
            "text": h.claim.claim,
            "supported": h.claim.supported,
            "facts": list(h.claim.facts),
            "found": list(h.claim.found),
            "missing": list(h.claim.missing),
            "lost": list(h.claim.lost),
            "since": h.claim.since or None,
        }
    return out
