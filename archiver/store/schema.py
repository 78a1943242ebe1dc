"""The store's schema, and every change to it, as migrations written once for both backends: a store
written by an older release is upgraded when a writing command opens it, never by hand.

A step speaks the seam's portable SQL: `db.ddl()` for schema statements, in SQLite's type names
(`INTEGER PRIMARY KEY`, `INTEGER`, `REAL`, `TEXT`; the PostgreSQL backend translates them), and
`db.execute()` for data. Steps run once, in order, and are recorded with their changes: in SQLite by
sqlite-utils (`_sqlite_migrations`, as every release has), in PostgreSQL in `archiver_migrations`
under an advisory lock (see `db` and `postgres`)."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

from archiver.errors import ConfigError, StoreError
from archiver.models import LIST_ARTICLE
from archiver.store.db import Database, Migration, SqliteDatabase
from archiver.store.warc_format import exchange_length
from archiver.urls import canonical

DATABASE = "archiver.db"
log = logging.getLogger("archiver.store")


class Migrations:
    """The ordered steps of the schema; `@migrations()` registers one under its function's name."""

    def __init__(self) -> None:
        self.steps: list[Migration] = []

    def __call__(self) -> Callable[[Callable[[Database], None]], Callable[[Database], None]]:
        def register(fn: Callable[[Database], None]) -> Callable[[Database], None]:
            if any(step.name == fn.__name__ for step in self.steps):
                raise ValueError(f"migration {fn.__name__} is registered twice")
            self.steps.append(Migration(fn.__name__, fn))
            return fn

        return register


migrations = Migrations()


@migrations()
def m001_initial(db: Database) -> None:
    db.ddl("""
        CREATE TABLE citations (
            id TEXT PRIMARY KEY, url TEXT NOT NULL, claim TEXT NOT NULL DEFAULT '',
            cited_at TEXT NOT NULL DEFAULT '', expect TEXT NOT NULL DEFAULT '[]',
            interval TEXT NOT NULL DEFAULT '', extra TEXT NOT NULL DEFAULT '{}',
            added_at TEXT NOT NULL, removed_at TEXT)""")
    db.ddl("""
        CREATE TABLE passes (
            id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT,
            citations INTEGER NOT NULL DEFAULT 0, offline INTEGER NOT NULL DEFAULT 0)""")
    db.ddl("""
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
    db.ddl("""
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
    db.ddl("CREATE INDEX checks_by_citation ON checks (citation_id, checked_at)")


@migrations()
def m002_verdicts(db: Database) -> None:
    for column, decl in [
        ("signal", "TEXT NOT NULL DEFAULT ''"),
        ("severity", "TEXT NOT NULL DEFAULT 'healthy'"),
        ("evidence", "TEXT NOT NULL DEFAULT ''"),
        ("moved_to", "TEXT NOT NULL DEFAULT ''"),
        ("paywall", "TEXT NOT NULL DEFAULT ''"),
        ("paywall_evidence", "TEXT NOT NULL DEFAULT '[]'"),
        ("paywall_truncated", "INTEGER NOT NULL DEFAULT 0"),
    ]:
        db.ddl(f"ALTER TABLE checks ADD COLUMN {column} {decl}")
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
        db.ddl(f"ALTER TABLE versions ADD COLUMN {column} {decl}")
    db.ddl("""CREATE TABLE probes (site TEXT PRIMARY KEY, url TEXT NOT NULL, status INTEGER,
                    text TEXT NOT NULL DEFAULT '', probed_at TEXT NOT NULL)""")
    db.ddl("""CREATE TABLE health (citation_id TEXT PRIMARY KEY REFERENCES citations(id),
                    status TEXT NOT NULL, since TEXT NOT NULL DEFAULT '', updated_at TEXT NOT NULL,
                    report TEXT NOT NULL DEFAULT '{}')""")
    db.ddl("""CREATE TABLE status_changes (id INTEGER PRIMARY KEY, citation_id TEXT NOT NULL,
                    at TEXT NOT NULL, old_status TEXT NOT NULL, new_status TEXT NOT NULL,
                    evidence TEXT NOT NULL DEFAULT '')""")


@migrations()
def m003_captures(db: Database) -> None:
    db.ddl("""CREATE TABLE outbox (
        id INTEGER PRIMARY KEY, citation_id TEXT NOT NULL, url TEXT NOT NULL,
        version_hash TEXT NOT NULL DEFAULT '', state TEXT NOT NULL DEFAULT 'queued',
        job_id TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0,
        next_try TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', capture_url TEXT NOT NULL DEFAULT '',
        capture_timestamp TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        submitted_at TEXT NOT NULL DEFAULT '', UNIQUE (citation_id, version_hash))""")
    db.ddl("CREATE INDEX outbox_due ON outbox (state, next_try)")
    db.ddl("""CREATE TABLE captures (
        id INTEGER PRIMARY KEY, citation_id TEXT NOT NULL, archive TEXT NOT NULL DEFAULT 'wayback',
        timestamp TEXT NOT NULL, original TEXT NOT NULL, url TEXT NOT NULL, status INTEGER,
        digest TEXT NOT NULL DEFAULT '', mimetype TEXT NOT NULL DEFAULT '', source TEXT NOT NULL,
        found_at TEXT NOT NULL, verified INTEGER, verify_note TEXT NOT NULL DEFAULT '',
        UNIQUE (citation_id, archive, timestamp))""")
    db.ddl("CREATE TABLE capture_lookups (citation_id TEXT PRIMARY KEY, looked_at TEXT NOT NULL)")


@migrations()
def m004_warc(db: Database) -> None:
    for column, decl in [
        ("warc_file", "TEXT NOT NULL DEFAULT ''"),
        ("warc_offset", "INTEGER"),
        ("warc_length", "INTEGER"),
    ]:
        db.ddl(f"ALTER TABLE versions ADD COLUMN {column} {decl}")


@migrations()
def m005_archives(db: Database) -> None:
    """Look-ups are kept per source (the CDX API, each Memento endpoint), and a version's WARC
    pointer spans its whole exchange (response, request, and the redirects that led to it)."""
    db.ddl("""CREATE TABLE lookups (citation_id TEXT NOT NULL, source TEXT NOT NULL, looked_at TEXT NOT NULL,
                    PRIMARY KEY (citation_id, source))""")
    db.execute(
        "INSERT INTO lookups (citation_id, source, looked_at) SELECT citation_id, 'cdx', looked_at FROM capture_lookups"
    )
    db.ddl("DROP TABLE capture_lookups")
    if db.path is None:
        return  # PostgreSQL starts past this step's files: `migrate-store` copies the lengths made here
    data_dir = db.path.parent
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
def m006_typed_health(db: Database) -> None:
    """A health row keeps the fields of the typed record, no longer the report contract's shape (the
    report builds its contract itself)."""
    for citation_id, text in db.execute("SELECT citation_id, report FROM health").fetchall():
        db.execute("UPDATE health SET report = ? WHERE citation_id = ?", [_health_fields(text), citation_id])


@migrations()
def m007_articles(db: Database) -> None:
    """A publication: articles, and their citations, each watching one watched URL. The `citations`
    table keeps the watched URLs (checks, versions, captures and the outbox point at its ids, as they
    did when each citation watched its own URL), with their canonical form as the key that makes two
    cited URLs one watched page. A store made before articles is one article, `sources` (the
    citation list's own): each of its citations watches the URL it watched under its own id."""
    db.ddl("ALTER TABLE citations ADD COLUMN canonical TEXT NOT NULL DEFAULT ''")
    for watched_id, url in db.execute("SELECT id, url FROM citations").fetchall():
        db.execute("UPDATE citations SET canonical = ? WHERE id = ?", [_canonical(url), watched_id])
    db.ddl("CREATE INDEX citations_by_canonical ON citations (canonical)")
    db.ddl("""CREATE TABLE articles (
        id TEXT PRIMARY KEY, title TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '',
        published TEXT NOT NULL DEFAULT '', added_at TEXT NOT NULL, removed_at TEXT)""")
    db.ddl("""CREATE TABLE article_citations (
        article_id TEXT NOT NULL REFERENCES articles(id), id TEXT NOT NULL, url TEXT NOT NULL,
        watched_id TEXT NOT NULL REFERENCES citations(id), claim TEXT NOT NULL DEFAULT '',
        cited_at TEXT NOT NULL DEFAULT '', expect TEXT NOT NULL DEFAULT '[]',
        interval TEXT NOT NULL DEFAULT '', extra TEXT NOT NULL DEFAULT '{}',
        added_at TEXT NOT NULL, removed_at TEXT, PRIMARY KEY (article_id, id))""")
    db.ddl("CREATE INDEX article_citations_by_watched ON article_citations (watched_id)")
    db.ddl("""CREATE TABLE citation_health (
        article_id TEXT NOT NULL, citation_id TEXT NOT NULL, status TEXT NOT NULL,
        since TEXT NOT NULL DEFAULT '', updated_at TEXT NOT NULL, report TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (article_id, citation_id))""")
    db.ddl(f"ALTER TABLE status_changes ADD COLUMN article_id TEXT NOT NULL DEFAULT '{LIST_ARTICLE}'")
    first = db.execute("SELECT min(added_at) FROM citations").fetchall()[0][0]
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
def m008_reviews(db: Database) -> None:
    """Editors' review decisions, one row each, never deleted: an undo sets `undone_at`. Portable SQL."""
    db.ddl("""CREATE TABLE reviews (
        id INTEGER PRIMARY KEY, article_id TEXT NOT NULL, citation_id TEXT NOT NULL,
        watched_id TEXT NOT NULL, decision TEXT NOT NULL, at TEXT NOT NULL, by_user TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '', version_hash TEXT NOT NULL DEFAULT '',
        rot_kind TEXT NOT NULL DEFAULT '', undone_at TEXT, undone_by TEXT NOT NULL DEFAULT '')""")
    db.ddl("CREATE INDEX reviews_by_citation ON reviews (article_id, citation_id)")
    db.ddl("CREATE INDEX reviews_by_watched ON reviews (watched_id)")


def _canonical(url: str) -> str:
    try:
        return canonical(url)
    except ValueError:
        return url


@migrations()
def m009_version_region(db: Database) -> None:
    """Where each version's main text sat in its page (archiver.region): a re-check finding the same
    text in the same place skips the full extraction."""
    db.ddl("ALTER TABLE versions ADD COLUMN region TEXT NOT NULL DEFAULT ''")


@migrations()
def m010_browser(db: Database) -> None:
    """Which fetcher produced a check and a version (the HTTP client or the browser), what the browser
    did in a check (why it rendered, what it refused), and a version's screenshot."""
    for column, decl in [
        ("fetched_by", "TEXT NOT NULL DEFAULT 'http'"),
        ("browser_note", "TEXT NOT NULL DEFAULT ''"),
        ("refused", "TEXT NOT NULL DEFAULT '[]'"),
    ]:
        db.ddl(f"ALTER TABLE checks ADD COLUMN {column} {decl}")
    for column, decl in [
        ("fetched_by", "TEXT NOT NULL DEFAULT 'http'"),
        ("screenshot_path", "TEXT NOT NULL DEFAULT ''"),
    ]:
        db.ddl(f"ALTER TABLE versions ADD COLUMN {column} {decl}")


@migrations()
def m011_distributed(db: Database) -> None:
    """Checks made by workers (distributed mode): each names its task, so a redelivered task never
    records a check twice, and the worker that made it; a worker's pass belongs to the pass the
    dispatcher queued (its `batch`), whose tasks are kept in `dispatches`; a capture request is held
    by one claimer at a time (`claimed_by`, until `claimed_until`)."""
    db.ddl("ALTER TABLE checks ADD COLUMN task_id TEXT")
    db.ddl("ALTER TABLE checks ADD COLUMN worker TEXT NOT NULL DEFAULT ''")
    db.ddl("CREATE UNIQUE INDEX checks_by_task ON checks (task_id)")
    db.ddl("ALTER TABLE passes ADD COLUMN batch INTEGER REFERENCES passes(id)")
    db.ddl("ALTER TABLE passes ADD COLUMN worker TEXT NOT NULL DEFAULT ''")
    db.ddl("CREATE UNIQUE INDEX passes_by_worker ON passes (batch, worker)")
    db.ddl("ALTER TABLE outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT ''")
    db.ddl("ALTER TABLE outbox ADD COLUMN claimed_until TEXT NOT NULL DEFAULT ''")
    db.ddl("""CREATE TABLE dispatches (
        task_id TEXT PRIMARY KEY, batch INTEGER NOT NULL REFERENCES passes(id),
        citation_id TEXT NOT NULL REFERENCES citations(id), queued_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 1, state TEXT NOT NULL DEFAULT 'queued')""")
    db.ddl("CREATE INDEX dispatches_by_batch ON dispatches (batch, state)")


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


def open_writable(data_dir: Path, database_url: str = "") -> Database:
    """The store's database, created or upgraded (every migration it has not had yet, applied): the
    SQLite file in `data_dir`, or the PostgreSQL database `database_url` names."""
    if database_url:
        db = _postgres(database_url, read_only=False)
        try:
            db.migrate(migrations.steps)
        except StoreError as exc:
            db.close()
            raise StoreError(f"cannot create or upgrade the store: {exc}") from None
        return db
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        sqlite = SqliteDatabase.open(data_dir / DATABASE)
        sqlite.migrate(migrations.steps)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot open the store in {data_dir}: {exc}") from None
    return sqlite


def open_read_only(data_dir: Path, database_url: str = "") -> Database:
    """The store's database for reading only: nothing created, migrated or locked. A store written by
    an older release must be upgraded by a writing command first."""
    if database_url:
        db: Database = _postgres(database_url, read_only=True)
        where = db.where
    else:
        path = data_dir / DATABASE
        where = str(data_dir)
        if not path.is_file():
            raise StoreError(f"no store in {data_dir}: run `archiver check` first")
        try:
            db = SqliteDatabase.open_read_only(path)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store in {data_dir} for reading: {exc}") from None
    pending = db.pending(migrations.steps)
    if pending:
        db.close()
        if pending == [s.name for s in migrations.steps]:
            raise StoreError(f"no store in {where}: run `archiver check` (or `archiver migrate-store`) first")
        raise StoreError(
            f"the store in {where} was written by an older version of archiver: run a write "
            "command (`archiver check`) once with write access to upgrade it"
        )
    return db


def _postgres(url: str, *, read_only: bool) -> Database:
    try:
        from archiver.store.postgres import PostgresDatabase
    except ImportError:
        raise ConfigError(
            "ARCHIVER_DATABASE_URL names a PostgreSQL database, and psycopg is not installed: "
            "pip install 'citation-archiver[postgres]'"
        ) from None
    return PostgresDatabase.open(url, read_only=read_only)
