"""The `versions` table: each distinct content of a watched URL, never stored twice, with its
metadata, its files, its WARC exchange, and how it compared with the versions before it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import datetime

from archiver.models import DriftClass, Extraction, FetchedBy, FetchResult, Outcome, VersionDrift
from archiver.models.rows import VersionRow, WarcPointer
from archiver.store.db import Database, Row
from archiver.store.files import SnapshotFiles


def content_hash(extraction: Extraction, body: bytes) -> str:
    """A version's identity: the hash of its extracted text, or of the raw body when there is none."""
    if extraction.text:
        return hashlib.sha256(extraction.text.encode("utf-8")).hexdigest()
    return "raw-" + hashlib.sha256(body).hexdigest() if body else ""


def identify(
    db: Database, watched_id: str, fetched: FetchResult, extraction: Extraction, unchanged: VersionRow | None
) -> tuple[str, bool]:
    """The version a check saw (its hash, "" when none) and whether it is new content to store.
    `unchanged` is the version a body repeats byte for byte; a 304 saw the current version."""
    if unchanged is not None:
        return unchanged.hash, False
    if fetched.outcome == Outcome.NOT_MODIFIED:
        held = current(db, watched_id)
        return (held.hash if held else ""), False
    if fetched.outcome != Outcome.OK:
        return "", False
    version_hash = content_hash(extraction, fetched.body)
    return version_hash, bool(version_hash) and not has_version(db, watched_id, version_hash)


def new_row(
    watched_id: str,
    version_hash: str,
    seen: datetime,
    extraction: Extraction,
    files: SnapshotFiles,
    drift: VersionDrift | None,
    region: str = "",
    fetched_by: FetchedBy = FetchedBy.HTTP,
) -> VersionRow:
    drift = drift or VersionDrift()
    return VersionRow(
        watched_id,
        version_hash,
        seen.isoformat(),
        extraction.title,
        extraction.author,
        extraction.date,
        extraction.language,
        extraction.words,
        len(extraction.text),
        files.text_path,
        files.raw_path,
        files.raw_bytes,
        drift if drift.baseline_hash else replace(drift, baseline_hash=version_hash),  # a first version is its own
        files.warc,
        files.raw_hash,
        region,
        fetched_by,
        files.screenshot_path,
    )


def insert(db: Database, v: VersionRow, extraction: Extraction, content_type: str) -> bool:
    """One version row (inside the caller's transaction); False when that content is stored already."""
    d = v.drift
    return None is not db.insert(
        "versions",
        {
            "citation_id": v.watched_id,
            "hash": v.hash,
            "first_seen": v.first_seen,
            "title": v.title,
            "author": v.author,
            "date": v.date,
            "language": v.language,
            "description": extraction.description,
            "canonical_url": extraction.canonical_url,
            "words": v.words,
            "chars": v.chars,
            "text_path": v.text_path,
            "raw_path": v.raw_path,
            "raw_hash": v.raw_hash,
            "raw_bytes": v.raw_bytes,
            "content_type": content_type,
            "baseline_hash": d.baseline_hash,
            "drift_class": str(d.drift_class),
            "drift_score": d.score,
            "drift_changes": _json(d.changes),
            "previous_class": str(d.previous_class),
            "previous_score": d.previous_score,
            "claim_facts": _json(d.claim_facts),
            "claim_found": _json(d.claim_found),
            "claim_missing": _json(d.claim_missing),
            "warc_file": v.warc.file if v.warc else "",
            "warc_offset": v.warc.offset if v.warc else None,
            "warc_length": v.warc.length if v.warc else None,
            "region": v.region,
            "fetched_by": str(v.fetched_by),
            "screenshot_path": v.screenshot_path,
        },
        unique=("citation_id", "hash"),
    )


def move_region(db: Database, watched_id: str, version_hash: str, region: str) -> None:
    """Where a version's main text sits now: a full extraction found it elsewhere than recorded (a new
    version keeps its region in its row)."""
    db.execute("UPDATE versions SET region = ? WHERE citation_id = ? AND hash = ?", [region, watched_id, version_hash])


def has_version(db: Database, watched_id: str, version_hash: str) -> bool:
    return (
        db.one("SELECT 1 AS x FROM versions WHERE citation_id = ? AND hash = ?", [watched_id, version_hash]) is not None
    )


def versions(db: Database, watched_id: str) -> list[VersionRow]:
    """Every version, oldest first."""
    return [_row(r) for r in db.query("SELECT * FROM versions WHERE citation_id = ? ORDER BY id", [watched_id])]


def current(db: Database, watched_id: str) -> VersionRow | None:
    """The version the newest check that saw content pointed to."""
    row = db.one(
        """SELECT v.* FROM checks c JOIN versions v ON v.citation_id = c.citation_id AND v.hash = c.version_hash
           WHERE c.citation_id = ? AND c.version_hash != '' ORDER BY c.id DESC LIMIT 1""",
        [watched_id],
    )
    return _row(row) if row else None


def first_seen_dates(db: Database) -> dict[str, str]:
    """When each watched URL's first version was stored."""
    rows = db.query("SELECT citation_id, min(first_seen) AS first FROM versions GROUP BY citation_id")
    return {r["citation_id"]: r["first"] for r in rows}


def looks(db: Database) -> dict[tuple[str, str], tuple[str, FetchedBy]]:
    """(watched id, text path) -> (screenshot path, fetcher) of every version with a screenshot or
    fetched by the browser: one read for a whole report."""
    rows = db.query(
        "SELECT citation_id, text_path, screenshot_path, fetched_by FROM versions "
        "WHERE text_path != '' AND (screenshot_path != '' OR fetched_by != 'http')"
    )
    return {(r["citation_id"], r["text_path"]): (r["screenshot_path"], FetchedBy(r["fetched_by"])) for r in rows}


def all_versions(db: Database) -> list[VersionRow]:
    return [_row(r) for r in db.query("SELECT * FROM versions ORDER BY id")]


def warc_ends(db: Database) -> dict[str, int | None]:
    """Per WARC file, where the last exchange a version points to ends; None when some pointer of the
    file is not known (a store written before pointers spanned whole exchanges)."""
    rows = db.query(
        """SELECT warc_file, max(warc_offset + warc_length) AS end_, sum(CASE WHEN warc_length IS NULL THEN 1 ELSE 0 END) AS unknown
           FROM versions WHERE warc_file != '' GROUP BY warc_file"""
    )
    return {r["warc_file"]: None if r["unknown"] else int(r["end_"] or 0) for r in rows}


def warc_ends_apart(db: Database) -> dict[str, int | None]:
    """`warc_ends` through a connection of its own: WARC appends run in a worker thread, where the
    store's connection may not be used."""
    own = db.reopen()
    try:
        return warc_ends(own)
    finally:
        own.close()


def _row(r: Row) -> VersionRow:
    warc = WarcPointer(r["warc_file"], r["warc_offset"], r["warc_length"] or 0) if r["warc_file"] else None
    drift = VersionDrift(
        r["baseline_hash"],
        DriftClass(r["drift_class"]),
        r["drift_score"],
        tuple(json.loads(r["drift_changes"])),
        DriftClass(r["previous_class"]),
        r["previous_score"],
        tuple(json.loads(r["claim_facts"])),
        tuple(json.loads(r["claim_found"])),
        tuple(json.loads(r["claim_missing"])),
    )
    return VersionRow(
        r["citation_id"],
        r["hash"],
        r["first_seen"],
        r["title"],
        r["author"],
        r["date"],
        r["language"],
        r["words"],
        r["chars"],
        r["text_path"],
        r["raw_path"],
        r["raw_bytes"],
        drift,
        warc,
        r["raw_hash"],
        r["region"],
        FetchedBy(r["fetched_by"]),
        r["screenshot_path"],
    )


def _json(values: tuple[str, ...]) -> str:
    return json.dumps(list(values), ensure_ascii=False)
