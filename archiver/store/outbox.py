"""The `outbox` table: capture requests of a watched URL's versions, queued, submitted (with a job
id), done or failed. Every change is committed before the next request to an archive, so a crash
or an outage loses nothing."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from archiver.models import OutboxState
from archiver.models.rows import OutboxRow
from archiver.store.db import Database, Row

_KEPT = ("id", "watched_id", "url", "version_hash", "created_at")  # what a later state never changes


def enqueue(db: Database, watched_id: str, url: str, version_hash: str, now: datetime) -> bool:
    """Queue a capture of this content; False when it is queued (or done) already."""
    stamp = now.isoformat()
    with db.transaction():
        new = db.insert(
            "outbox",
            {
                "citation_id": watched_id,
                "url": url,
                "version_hash": version_hash,
                "next_try": stamp,
                "created_at": stamp,
                "updated_at": stamp,
            },
            unique=("citation_id", "version_hash"),
        )
    return new is not None


def rows(db: Database, watched_id: str | None = None) -> list[OutboxRow]:
    if watched_id is None:
        return [_row(r) for r in db.query("SELECT * FROM outbox ORDER BY id")]
    return [_row(r) for r in db.query("SELECT * FROM outbox WHERE citation_id = ? ORDER BY id", [watched_id])]


_PENDING = ", ".join(f"'{s}'" for s in OutboxState if s.pending)
_ORDER = "ORDER BY state DESC, next_try, id"  # submitted jobs first (to poll), then queued ones, oldest first


def due(db: Database, now: datetime) -> list[OutboxRow]:
    """Rows to work on now, in the order they are worked on."""
    rows = db.query(f"SELECT * FROM outbox WHERE state IN ({_PENDING}) AND next_try <= ? {_ORDER}", [now.isoformat()])
    return [_row(r) for r in rows]


def claim(db: Database, now: datetime, claimer: str, until: datetime, limit: int) -> list[OutboxRow]:
    """Take up to `limit` due rows that no one holds (or whose holder's claim ran out: it died) for
    `claimer` alone until `until`, in the order they are worked on. In PostgreSQL, rows another
    claimer is taking at this very moment are passed over (`SKIP LOCKED`), never waited for or shared;
    in SQLite the statement holds the whole file."""
    stamp = now.isoformat()
    with db.transaction():
        db.execute(
            f"""UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id IN (
                  SELECT id FROM outbox WHERE state IN ({_PENDING}) AND next_try <= ?
                  AND (claimed_by = '' OR claimed_until < ?) {_ORDER} LIMIT ?{db.skip_locked})""",
            [claimer, until.isoformat(), stamp, stamp, limit],
        )
        rows = db.query(f"SELECT * FROM outbox WHERE claimed_by = ? {_ORDER}", [claimer])
    return [_row(r) for r in rows]


def release(db: Database, claimer: str) -> None:
    """Let go of every row `claimer` still holds (its work stopped before it got to them)."""
    with db.transaction():
        db.execute("UPDATE outbox SET claimed_by = '', claimed_until = '' WHERE claimed_by = ?", [claimer])


def save(db: Database, row: OutboxRow, now: datetime) -> None:
    """Write a row's new state (what `dataclasses.replace` made of the row read), and let go of it."""
    changes = {k: str(v) if isinstance(v, OutboxState) else v for k, v in asdict(row).items() if k not in _KEPT}
    changes.update(updated_at=now.isoformat(), claimed_by="", claimed_until="")
    with db.transaction():
        db.update("outbox", {"id": row.id}, changes)


def _row(r: Row) -> OutboxRow:
    return OutboxRow(
        id=r["id"],
        watched_id=r["citation_id"],
        url=r["url"],
        version_hash=r["version_hash"],
        state=OutboxState(r["state"]),
        job_id=r["job_id"],
        attempts=r["attempts"],
        next_try=r["next_try"],
        reason=r["reason"],
        capture_url=r["capture_url"],
        capture_timestamp=r["capture_timestamp"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        submitted_at=r["submitted_at"],
    )
