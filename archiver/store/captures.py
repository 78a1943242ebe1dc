"""The `captures` and `lookups` tables: the archived copies known of a watched URL (found in the
Wayback Machine's CDX API or a Memento archive, or made by a capture request), what verification
found of each, and when each source was last asked."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from archiver.models.rows import Capture, CaptureRow
from archiver.store.db import Database, Row


def add(db: Database, watched_id: str, captures: Iterable[Capture], source: str, now: datetime) -> int:
    """Keep captures found or made; returns how many were new."""
    added = 0
    with db.transaction():
        for c in captures:
            new = db.insert(
                "captures",
                {
                    "citation_id": watched_id,
                    "archive": c.archive,
                    "timestamp": c.timestamp,
                    "original": c.original,
                    "url": c.url,
                    "status": c.status,
                    "digest": c.digest,
                    "mimetype": c.mimetype,
                    "source": source,
                    "found_at": now.isoformat(),
                },
                unique=("citation_id", "archive", "timestamp"),
            )
            added += new is not None
    return added


def captures(db: Database, watched_id: str) -> list[CaptureRow]:
    """Every known capture, newest first."""
    return [
        _row(r) for r in db.query("SELECT * FROM captures WHERE citation_id = ? ORDER BY timestamp DESC", [watched_id])
    ]


def mark(db: Database, watched_id: str, capture: Capture, verified: bool, note: str, url: str = "") -> None:
    """Record what verification found; `url` is where the capture is offered (after the redirects
    of a cited URL that moved, the memento the chain ends at)."""
    changes: dict[str, object] = {"verified": int(verified), "verify_note": note}
    if url:
        changes["url"] = url
    with db.transaction():
        db.update(
            "captures", {"citation_id": watched_id, "archive": capture.archive, "timestamp": capture.timestamp}, changes
        )


def mark_looked_up(db: Database, watched_id: str, source: str, now: datetime) -> None:
    """Remember when a source (`cdx`, `memento {endpoint}`) was last asked about a watched URL."""
    with db.transaction():
        db.upsert(
            "lookups",
            {"citation_id": watched_id, "source": source, "looked_at": now.isoformat()},
            ("citation_id", "source"),
        )


def looked_up_at(db: Database, watched_id: str, source: str) -> str:
    row = db.one("SELECT looked_at FROM lookups WHERE citation_id = ? AND source = ?", [watched_id, source])
    return str(row["looked_at"]) if row else ""


def _row(r: Row) -> CaptureRow:
    """A stored capture (the one place that knows its columns); its stored URL is where it is offered."""
    return CaptureRow(
        timestamp=r["timestamp"],
        original=r["original"],
        status=r["status"],
        digest=r["digest"] or "",
        mimetype=r["mimetype"] or "",
        archive=r["archive"] or "wayback",
        replay=r["url"] or "",
        watched_id=r["citation_id"],
        source=r["source"],
        found_at=r["found_at"],
        verified=None if r["verified"] is None else bool(r["verified"]),
        verify_note=r["verify_note"],
    )
