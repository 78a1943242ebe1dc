"""The store's schema, and every change to it, as sqlite-utils migrations: a store written by an older
release is upgraded when a writing command opens it, never by hand. Migrations are SQLite's own
dialect; they run once, in order, and are recorded in `_sqlite_migrations`."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import sqlite_utils
from sqlite_utils import Migrations

from archiver.errors import StoreError
from archiver.models import LIST_ARTICLE
from archiver.store.db import Database
from archiver.store.warc_format import exchange_length
from archiver.urls import canonical

DATABASE = "archiver.db"
migrations = Migrations("archiver")
log = logging.getLogger("archiver.store")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE citations (
            id TEXT PRIMARY KEY, url TEXT NOT NULL, claim TEXT NOT NULL DEFAULT '',
            cited_at TEXT NOT NULL DEFAULT '', expect TEXT NOT NULL DEFAULT '[]',
            interval TEXT NOT NULL DEFAULT '', extra TEXT NOT NULL DEFAULT '{}',
            added_at TEXT NOT NULL, removed_at TEXT)""")
    db.execute("""
        CREATE TABLE passes (
            id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT,
            citations INTEGER NOT NULL DEFAULT 0, offline INTEGER NOT NULL DEFAULT 0)""")
    db.execute("""
        CREATE TABLE versions (
            id INTEGER PRIMARY KEY, citation_id TEXT NOT NULL REFERENCES citations(id),
            hash TEXT NOT NULL, first_seen TEXT NOT NULL, title TEXT NOT NULL DEFAULT '',
            author TEXT NOT NULL DEFAULT '', date TEXT NOT NULL DEFAULT '',
            language TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '',
            canonical_url TEXT NOT NULL DEFAULT '', words INTEGER NOT NULL DEFAULT 0,
            chars INTEGER NOT NULL DEFAULT 0, text_path TEXT NOT NULL DEFAULT '',
            raw_path TEXT NOT NULL DEFAULT '', raw_hash TEXT NOT NULL DEFAULT '',
            raw_bytes INTEGER NOT NULL DEFAULT 0, content_type TEXT NOT NULL DEFAULT '',
            UNIQUE (citation_id, hash))""")
    db.execute("""
        CREATE TABLE checks (
            id INTEGER PRIMARY KEY, citation_id TEXT NOT NULL REFERENCES citations(id),
            pass_id INTEGER REFERENCES passes(id), checked_at TEXT NOT NULL, url TEXT NOT NULL,
            outcome TEXT NOT NULL, http_status INTEGER, final_url TEXT NOT NULL DEFAULT '',
            redirects TEXT NOT NULL DEFAULT '[]', error TEXT NOT NULL DEFAULT '',
            fetch_ms INTEGER NOT NULL DEFAULT 0, extract_ms INTEGER NOT NULL DEFAULT 0,
            bytes INTEGER NOT NULL DEFAULT 0, content_type TEXT NOT NULL DEFAULT '',
            etag TEXT NOT NULL DEFAULT '', last_modified TEXT NOT NULL DEFAULT '',
            version_hash TEXT NOT NULL DEFAULT '', new_version INTEGER NOT NULL DEFAULT 0,
            note TEXT NOT NULL DEFAULT '')""")
    db.execute("CREATE INDEX checks_by_citation ON checks (citation_id, checked_at)")


@migrations()
def m002_verdicts(db: sqlite_utils.Database) -> None:
    for column, decl in [
        ("signal", "TEXT NOT NULL DEFAULT ''"),
        ("severity", "TEXT NOT NULL DEFAULT 'healthy'"),
        ("evidence", "TEXT NOT NULL DEFAULT ''"),
        ("moved_to", "TEXT NOT NULL DEFAULT ''"),
        ("paywall", "TEXT NOT NULL DEFAULT ''"),
        ("paywall_evidence", "TEXT NOT NULL DEFAULT '[]'"),
        ("paywall_truncated", "INTEGER NOT NULL DEFAULT 0"),
    ]:
        db.execute(f"ALTER TABLE checks ADD COLUMN {column} {decl}")
    for column, decl in [
        ("baseline_hash", "TEXT NOT NULL DEFAULT ''"),
        ("drift_class", "TEXT NOT NULL DEFAULT 'unchanged'"),
        ("drift_score", "REAL NOT NULL DEFAULT 1.0"),
        ("drift_changes", "TEXT NOT NULL DEFAULT '[]'"),
        ("previous_class", "TEXT NOT NULL DEFAULT 'unchanged'"),
        ("previous_score", "REAL NOT NULL DEFAULT 1.0"),
        ("claim_facts", "TEXT NOT NULL DEFAULT '[]'"),
        ("claim_found", "TEXT NOT NULL DEFAULT '[]'"),
        ("claim_missing", "TEXT NOT NULL DEFAULT '[]'"),
    ]:
        db.execute(f"ALTER TABLE versions ADD COLUMN {column} {decl}")
    db.execute("""CREATE TABLE probes (site TEXT PRIMARY KEY, url TEXT NOT NULL, status INTEGER,
                    text TEXT NOT NULL DEFAULT '', probed_at TEXT NOT NULL)""")
    db.execute("""CREATE TABLE health (citation_id TEXT PRIMARY KEY REFERENCES citations(id),
                    status TEXT NOT NULL, since TEXT NOT NULL DEFAULT '', updated_at TEXT NOT NULL,
                    report TEXT NOT NULL DEFAULT '{}')""")
    db.execute("""CREATE TABLE status_changes (id INTEGER PRIMARY KEY, citation_id TEXT NOT NULL,
                    at TEXT NOT NULL, old_status TEXT NOT NULL, new_status TEXT NOT NULL,
                    evidence TEXT NOT NULL DEFAULT '')""")


@migrations()
def m003_captures(db: sqlite_utils.Database) -> None:
    db.execute("""CREATE TABLE outbox (
        id INTEGER PRIMARY KEY, citation_id TEXT NOT NULL, url TEXT NOT NULL,
        version_hash TEXT NOT NULL DEFAULT '', state TEXT NOT NULL DEFAULT 'queued',
        job_id TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0,
        next_try TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', capture_url TEXT NOT NULL DEFAULT '',
        capture_timestamp TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        submitted_at TEXT NOT NULL DEFAULT '', UNIQUE (citation_id, version_hash))""")
    db.execute("CREATE INDEX outbox_due ON outbox (state, next_try)")
    db.execute("""CREATE TABLE captures (
        id INTEGER PRIMARY KEY, citation_id TEXT NOT NULL, archive TEXT NOT NULL DEFAULT 'wayback',
        timestamp TEXT NOT NULL, original TEXT NOT NULL, url TEXT NOT NULL, status INTEGER,
        digest TEXT NOT NULL DEFAULT '', mimetype TEXT NOT NULL DEFAULT '', source TEXT NOT NULL,
        found_at TEXT NOT NULL, verified INTEGER, verify_note TEXT NOT NULL DEFAULT '',
        UNIQUE (citation_id, archive, timestamp))""")
    db.execute("CREATE TABLE capture_lookups (citation_id TEXT PRIMARY KEY, looked_at TEXT NOT NULL)")


@migrations()
def m004_warc(db: sqlite_utils.Database) -> None:
    for column, decl in [
        ("warc_file", "TEXT NOT NULL DEFAULT ''"),
        ("warc_offset", "INTEGER"),
        ("warc_length", "INTEGER"),
    ]:
        db.execute(f"ALTER TABLE versions ADD COLUMN {column} {decl}")


@migrations()
def m005_archives(db: sqlite_utils.Database) -> None:
    """Look-ups are kept per source (the CDX API, each Memento endpoint), and a version's WARC
    pointer spans its whole exchange (response, request, and the redirects that led to it)."""
    db.execute("""CREATE TABLE lookups (citation_id TEXT NOT NULL, source TEXT NOT NULL, looked_at TEXT NOT NULL,
                    PRIMARY KEY (citation_id, source))""")
    db.execute(
        "INSERT INTO lookups (citation_id, source, looked_at) SELECT citation_id, 'cdx', looked_at FROM capture_lookups"
    )
    db.execute("DROP TABLE capture_lookups")
    files = [row[2] for row in db.execute("PRAGMA database_list").fetchall() if row[1] == "main" and row[2]]
    if not files:
        return  # an in-memory database has no WARC files beside it
    data_dir = Path(files[0]).parent
    for rowid, warc_file, offset in db.execute(
        "SELECT id, warc_file, warc_offset FROM versions WHERE warc_file != ''"
    ).fetchall():
        try:
            length = exchange_length(data_dir / warc_file, offset)
        except (OSError, ValueError, EOFError) as exc:
            log.warning("WARC record of version %s at %s:%s cannot be read: %s", rowid, warc_file, offset, exc)
            continue
        db.execute("UPDATE versions SET warc_length = ? WHERE id = ?", [length, rowid])


@migrations()
def m006_typed_health(db: sqlite_utils.Database) -> None:
    """A health row keeps the fields of the typed record, no longer the report contract's shape (the
    report builds its contract itself)."""
    for citation_id, text in db.execute("SELECT citation_id, report FROM health").fetchall():
        db.execute("UPDATE health SET report = ? WHERE citation_id = ?", [_health_fields(text), citation_id])


def _health_fields(text: str) -> str:
    """A health document of the contract's shape (releases before m006) in the record's own fields."""
    old = json.loads(text)
    rot, paywall, drift, claim = old["rot"], old.get("paywall"), old.get("drift"), old.get("claim")
    new = {
        "citation_id": old["id"],
        "url": old["url"],
        "status": old["status"],
        "flags": old["flags"],
        "since": old["since"] or "",
        "checked_at": old["checked_at"] or "",
        "http_status": old["http_status"],
        "final_url": old["final_url"] or "",
        "rot": {k: rot[k] if k in ("confirmed", "failures", "evidence") else rot[k] or "" for k in _ROT},
        "paywall": {**paywall, "since": paywall["since"] or ""} if paywall else None,
        "drift": {
            "drift_class": drift["kind"],
            "score": drift["score"],
            "since": drift["since"] or "",
            "changes": drift["changes"],
            "baseline": "",
            "versions": drift["versions"],
        }
        if drift
        else None,
        "claim": {
            "claim": claim["text"],
            **{k: claim[k] for k in ("facts", "found", "missing", "lost")},
            "since": claim["since"] or "",
        }
        if claim
        else None,
        "title": old.get("title") or "",
        "versions": old.get("versions") or 0,
        "snapshot": old.get("snapshot") or "",
    }
    return json.dumps(new, ensure_ascii=False)


_ROT = ("status", "kind", "since", "confirmed", "failures", "evidence", "recovered_at", "moved_to")


@migrations()
def m007_articles(db: sqlite_utils.Database) -> None:
    """A publication: articles, and their citations, each watching one watched URL. The `citations`
    table keeps the watched URLs (checks, versions, captures and the outbox point at its ids, as they
    did when each citation watched its own URL), with their canonical form as the key that makes two
    cited URLs one watched page. A store made before articles is one article, `sources` (the
    citation list's own): each of its citations watches the URL it watched under its own id."""
    db.execute("ALTER TABLE citations ADD COLUMN canonical TEXT NOT NULL DEFAULT ''")
    for watched_id, url in db.execute("SELECT id, url FROM citations").fetchall():
        db.execute("UPDATE citations SET canonical = ? WHERE id = ?", [_canonical(url), watched_id])
    db.execute("CREATE INDEX citations_by_canonical ON citations (canonical)")
    db.execute("""CREATE TABLE articles (
        id TEXT PRIMARY KEY, title TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '',
        published TEXT NOT NULL DEFAULT '', added_at TEXT NOT NULL, removed_at TEXT)""")
    db.execute("""CREATE TABLE article_citations (
        article_id TEXT NOT NULL REFERENCES articles(id), id TEXT NOT NULL, url TEXT NOT NULL,
        watched_id TEXT NOT NULL REFERENCES citations(id), claim TEXT NOT NULL DEFAULT '',
        cited_at TEXT NOT NULL DEFAULT '', expect TEXT NOT NULL DEFAULT '[]',
        interval TEXT NOT NULL DEFAULT '', extra TEXT NOT NULL DEFAULT '{}',
        added_at TEXT NOT NULL, removed_at TEXT, PRIMARY KEY (article_id, id))""")
    db.execute("CREATE INDEX article_citations_by_watched ON article_citations (watched_id)")
    db.execute("""CREATE TABLE citation_health (
        article_id TEXT NOT NULL, citation_id TEXT NOT NULL, status TEXT NOT NULL,
        since TEXT NOT NULL DEFAULT '', updated_at TEXT NOT NULL, report TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (article_id, citation_id))""")
    db.execute(f"ALTER TABLE status_changes ADD COLUMN article_id TEXT NOT NULL DEFAULT '{LIST_ARTICLE}'")
    first = db.execute("SELECT min(added_at) FROM citations").fetchone()[0]
    if first is None:
        return  # a new store: nothing to carry over
    db.execute("INSERT INTO articles (id, added_at) VALUES (?, ?)", [LIST_ARTICLE, first])
    db.execute(
        """INSERT INTO article_citations (article_id, id, url, watched_id, claim, cited_at, expect, interval,
                                          extra, added_at, removed_at)
           SELECT ?, id, url, id, claim, cited_at, expect, interval, extra, added_at, removed_at FROM citations""",
        [LIST_ARTICLE],
    )
    db.execute(
        """INSERT INTO citation_health (article_id, citation_id, status, since, updated_at, report)
           SELECT ?, citation_id, status, since, updated_at, report FROM health""",
        [LIST_ARTICLE],
    )


@migrations()
def m008_reviews(db: sqlite_utils.Database) -> None:
    """Editors' review decisions, one row each, never deleted: an undo sets `undone_at`. Portable SQL."""
    db.execute("""CREATE TABLE reviews (
        id INTEGER PRIMARY KEY, article_id TEXT NOT NULL, citation_id TEXT NOT NULL,
        watched_id TEXT NOT NULL, decision TEXT NOT NULL, at TEXT NOT NULL, by_user TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '', version_hash TEXT NOT NULL DEFAULT '',
        rot_kind TEXT NOT NULL DEFAULT '', undone_at TEXT, undone_by TEXT NOT NULL DEFAULT '')""")
    db.execute("CREATE INDEX reviews_by_citation ON reviews (article_id, citation_id)")
    db.execute("CREATE INDEX reviews_by_watched ON reviews (watched_id)")


@migrations()
def m009_version_region(db: sqlite_utils.Database) -> None:
    """Where each version's main text sat in its page (archiver.region): a re-check finding the same
    text in the same place skips the full extraction."""
    db.execute("ALTER TABLE versions ADD COLUMN region TEXT NOT NULL DEFAULT ''")


@migrations()
def m010_browser(db: sqlite_utils.Database) -> None:
    """Which fetcher produced a check and a version (the HTTP client or the browser), what the browser
    did in a check (why it rendered, what it refused), and a version's screenshot."""
    for column, decl in [
        ("fetched_by", "TEXT NOT NULL DEFAULT 'http'"),
        ("browser_note", "TEXT NOT NULL DEFAULT ''"),
        ("refused", "TEXT NOT NULL DEFAULT '[]'"),
    ]:
        db.execute(f"ALTER TABLE checks ADD COLUMN {column} {decl}")
    for column, decl in [
        ("fetched_by", "TEXT NOT NULL DEFAULT 'http'"),
        ("screenshot_path", "TEXT NOT NULL DEFAULT ''"),
    ]:
        db.execute(f"ALTER TABLE versions ADD COLUMN {column} {decl}")


def _canonical(url: str) -> str:
    try:
        return canonical(url)
    except ValueError:
        return url


def open_writable(data_dir: Path) -> Database:
    """The store's database, created or upgraded (every migration it has not had yet, applied)."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        db = Database.open(data_dir / DATABASE)
        migrations.apply(db.sqlite)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot open the store in {data_dir}: {exc}") from None
    return db


def open_read_only(data_dir: Path) -> Database:
    """The store's database for reading only: nothing created, migrated or locked. A store written by
    an older release must be upgraded by a writing command first."""
    path = data_dir / DATABASE
    if not path.is_file():
        raise StoreError(f"no store in {data_dir}: run `archiver check` first")
    try:
        db = Database.open_read_only(path)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the store in {data_dir} for reading: {exc}") from None
    if migrations.pending(db.sqlite):
        db.close()
        raise StoreError(
            f"the store in {data_dir} was written by an older version of archiver: run a write "
            "command (`archiver check`) once with write access to upgrade it"
        )
    return db
