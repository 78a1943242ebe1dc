"""The `citations` table, which holds the watched URLs (its name is older than articles): one row
per page however many citations cite it, whose id the checks, versions, captures, look-ups and the
outbox carry as `citation_id`. Its `canonical` column (`urls.canonical`) is the page's key."""

from __future__ import annotations

from datetime import datetime

from archiver.models.rows import WatchedRow
from archiver.store.db import Database, Row
from archiver.urls import canonical


def canonical_key(url: str) -> str:
    """The key of the page a cited URL names (what makes two citations watch one URL)."""
    try:
        return canonical(url)
    except ValueError:
        return url


def find(db: Database, key: str) -> WatchedRow | None:
    """The watched URL of this canonical key; the first one made when an older store holds several."""
    row = db.one("SELECT * FROM citations WHERE canonical = ? ORDER BY added_at, id LIMIT 1", [key])
    return _row(row) if row else None


def get(db: Database, watched_id: str) -> WatchedRow | None:
    row = db.one("SELECT * FROM citations WHERE id = ?", [watched_id])
    return _row(row) if row else None


def create(db: Database, wanted: str, url: str, now: datetime) -> str:
    """A new watched URL (inside the caller's transaction), named `wanted` when that id is free (so a
    single article's citations watch URLs named by their own ids), else `wanted-2`, `wanted-3`…"""
    candidate, n = wanted, 1
    while db.one("SELECT 1 AS x FROM citations WHERE id = ?", [candidate]) is not None:
        n += 1
        candidate = f"{wanted}-{n}"
    db.execute(
        "INSERT INTO citations (id, url, canonical, added_at) VALUES (?, ?, ?, ?)",
        [candidate, url, canonical_key(url), now.isoformat()],
    )
    return candidate


def refresh(db: Database, now: datetime) -> None:
    """A watched URL no active citation cites is marked removed (its history stays); one cited again
    is watched again (inside the caller's transaction)."""
    active = "SELECT 1 FROM article_citations a WHERE a.watched_id = citations.id AND a.removed_at IS NULL"
    db.execute(
        f"UPDATE citations SET removed_at = ? WHERE removed_at IS NULL AND NOT EXISTS ({active})", [now.isoformat()]
    )
    db.execute(f"UPDATE citations SET removed_at = NULL WHERE removed_at IS NOT NULL AND EXISTS ({active})")


def all_watched(db: Database, include_removed: bool = False) -> list[WatchedRow]:
    where = "" if include_removed else " WHERE removed_at IS NULL"
    return [_row(r) for r in db.query(f"SELECT * FROM citations{where} ORDER BY added_at, id")]


def _row(r: Row) -> WatchedRow:
    return WatchedRow(r["id"], r["url"], r["canonical"] or canonical_key(r["url"]), r["added_at"], r["removed_at"])
