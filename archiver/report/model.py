"""The report's read model: per citation, its health and what the report shows beside it, typed; and
the JSON contract of `archiver report --format json` (and `archiver serve`'s API), built here once,
by `Report.to_json`. Pure: the store is read by `build`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from archiver.models import Article, Health, HealthStatus
from archiver.models.rows import CaptureRow, CitationRow, VersionRow

# What "no longer holds" means for a citation: its source is gone (rotten) or no longer says what it
# said (drifted: a fact changed, a rewrite, a fact of the claim lost). A paywall, a refusal, a failure
# not confirmed yet, or no network say nothing against the source.
NO_LONGER_HOLDS = frozenset({HealthStatus.ROTTEN, HealthStatus.DRIFTED})


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
    snapshot_uri: str = ""  # the newest text as a file: URI (absolute), for a report opened from disk

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
            "article": c.article,
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
                "reviews": [
                    {
                        "decision": r.decision,
                        "at": r.at,
                        "by": r.by,
                        "note": r.note or None,
                        "version": r.version_hash or None,
                        "rot_kind": r.rot_kind or None,
                        "holds": r.holds,
                    }
                    for r in (h.reviews if h else ())
                ],
            }
        )
        return out


@dataclass(frozen=True)
class CheckMark:
    """One check on a citation page's timeline: how it went, and the events it brought."""

    checked_at: str
    mark: HealthStatus
    paywall: str = ""  # the paywall kind it saw ("" none)
    drift: str = ""  # the drift class of the new version it stored, when that raises a flag


@dataclass(frozen=True)
class VersionView:
    """A version as a citation page shows it: its number (1 = newest), its text and what changed
    from the version before it, and its screenshot when one was taken (issue 21)."""

    version: VersionRow
    number: int
    text: str
    diff: str = ""
    screenshot: str = ""  # path of the PNG, relative to the data directory


@dataclass(frozen=True)
class CitationPage:
    """Everything the page of one citation shows: the place an editor decides."""

    entry: Entry
    checks: tuple[CheckMark, ...]
    versions: tuple[VersionView, ...]  # newest first
    captures: tuple[CaptureRow, ...]  # newest first, with what verification found
    cited_by: tuple[str, ...] = ()  # the other citations of the same page


def summary_of(entries: tuple[Entry, ...]) -> dict[HealthStatus, int]:
    """How many citations have each status (every status named, most serious first)."""
    counts = Counter(e.status for e in entries)
    return {status: counts[status] for status in HealthStatus}


@dataclass(frozen=True)
class ArticleSummary:
    """One article's line of the publication summary."""

    article: Article
    entries: tuple[Entry, ...]

    @property
    def summary(self) -> dict[HealthStatus, int]:
        return summary_of(self.entries)

    @property
    def broken(self) -> int:
        """How many of its citations no longer hold (`NO_LONGER_HOLDS`)."""
        return sum(1 for e in self.entries if e.status in NO_LONGER_HOLDS)

    @property
    def share(self) -> float:
        return self.broken / len(self.entries) if self.entries else 0.0

    def to_json(self) -> dict[str, Any]:
        a = self.article
        return {
            "id": a.id,
            "title": a.title,
            "source": a.source or None,
            "published": a.published or None,
            "citations": len(self.entries),
            "no_longer_hold": self.broken,
            "share": round(self.share, 4),
            "summary": {str(status): n for status, n in self.summary.items()},
        }


@dataclass(frozen=True)
class Report:
    """Every citation, each article's in footnote order, as of `generated_at`."""

    generated_at: datetime
    entries: tuple[Entry, ...]
    articles: tuple[Article, ...] = ()  # the articles its citations belong to

    @property
    def summary(self) -> dict[HealthStatus, int]:
        """How many citations have each status (every status named, most serious first)."""
        return summary_of(self.entries)

    def by_article(self) -> list[ArticleSummary]:
        """Each article with its entries, in the order the store lists articles."""
        known = {a.id: a for a in self.articles}
        grouped: dict[str, list[Entry]] = {a: [] for a in known}
        for e in self.entries:  # one walk: a publication has up to hundreds of thousands of articles
            grouped.setdefault(e.citation.article, []).append(e)
        return [ArticleSummary(known.get(a, Article(a)), tuple(entries)) for a, entries in grouped.items()]

    def ranking(self) -> list[ArticleSummary]:
        """The publication summary: articles ranked by the share of their citations that no longer
        hold, then by how many, then by id."""
        return sorted(self.by_article(), key=lambda s: (-s.share, -s.broken, s.article.id))

    def to_json(self) -> dict[str, Any]:
        """The report contract (see README, "The report contract"); `articles` is the publication
        summary, ranked."""
        return {
            "generated_at": self.generated_at.isoformat(),
            "summary": {str(status): n for status, n in self.summary.items()},
            "citations": [e.to_json() for e in self.entries],
            "articles": [s.to_json() for s in self.ranking()],
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
