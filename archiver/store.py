"""The store: SQLite (the single source of truth) plus content-addressed files under the data dir.

A file is named by the SHA-256 of its content and written (temporary name, then rename) before
the row that points to it is committed, so a crash leaves at worst an orphan file, never a row
pointing at nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import io
import json
import logging
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils import Migrations

from archiver.errors import LockedError, StoreError
from archiver.models import (
    CheckRecord,
    CheckVerdicts,
    Citation,
    Extraction,
    FetchResult,
    Outcome,
    StatusChange,
    Validators,
    VersionDrift,
    VersionRecord,
)
from archiver.warc import (
    WarcPointer,
    check_exchange,
    exchange_length,
    first_record_end,
    write_exchange,
    write_warcinfo,
)

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


OUTBOX_STATES = ("queued", "submitted", "done", "failed")


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


def content_hash(extraction: Extraction, body: bytes) -> str:
    """A version's identity: the hash of its extracted text, or of the raw body when there is none."""
    if extraction.text:
        return hashlib.sha256(extraction.text.encode("utf-8")).hexdigest()
    return "raw-" + hashlib.sha256(body).hexdigest() if body else ""


@dataclass(frozen=True)
class SnapshotFiles:
    """Where a version's files were written, relative to the data directory."""

    raw_path: str
    raw_hash: str
    raw_bytes: int
    text_path: str = ""
    warc: WarcPointer | None = None


@dataclass(frozen=True)
class StoredCheck:
    """What `record_check` did: the check row and whether it created a version."""

    check: CheckRecord
    version: VersionRecord | None


@dataclass
class Verification:
    """What `archiver verify` found: problems mean damage; notes are harmless."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    versions: int = 0
    checks: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


class DataDirLock:
    """One process at a time per data directory: a `flock` on `archiver.lock`, released by the
    kernel even when the holder is killed. The file says who holds it."""

    def __init__(self, data_dir: Path, what: str) -> None:
        self.path = Path(data_dir) / "archiver.lock"
        self.what = what
        self._fd: int | None = None

    def acquire(self, wait: bool = False) -> DataDirLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot create the lock {self.path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = os.read(fd, 1000).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise LockedError(
                f"the data directory {self.path.parent} is in use by {holder}; try again later, or pass --wait"
            ) from None
        with contextlib.suppress(OSError):  # who holds it is a courtesy to the next process; a full disk says no
            os.ftruncate(fd, 0)
            os.write(
                fd,
                f"pid {os.getpid()} ({self.what}) since {datetime.now().astimezone().isoformat(timespec='seconds')}".encode(),
            )
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DataDirLock:
        return self if self._fd is not None else self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class Store:
    """The archive of checks and versions in one data directory. Use `Store.open(path)`."""

    def __init__(self, data_dir: Path, db: sqlite_utils.Database) -> None:
        self.data_dir = data_dir
        self.db = db
        self._warc_lock = threading.Lock()
        self._warc_repaired = False

    @classmethod
    def open(cls, data_dir: str | Path, *, read_only: bool = False) -> Store:
        """Open (and create or upgrade) the store; `read_only` opens an existing one for reading
        only: no file is created, no migration or lock is attempted, so a read-only directory works."""
        data_dir = Path(data_dir)
        if read_only:
            return cls(data_dir, _open_read_only(data_dir))
        if data_dir.is_dir() and not os.access(data_dir, os.W_OK):
            raise StoreError(
                f"the data directory {data_dir} is read-only: give this user write access, "
                "or set --data-dir / ARCHIVER_DATA_DIR to a writable place"
            )
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(data_dir / "archiver.db", timeout=30, isolation_level=None)
            db = sqlite_utils.Database(conn)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            migrations.apply(db)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the store in {data_dir}: {exc}") from None
        return cls(data_dir, db)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write to {self.data_dir / 'archiver.db'}: {exc}") from None

    # citations -----------------------------------------------------------------------------

    def sync_citations(self, citations: Iterable[Citation], now: datetime) -> None:
        """Make the citations table match the list; removed ones keep their history."""
        stamp = now.isoformat()
        ids = []
        with self._transaction():
            for c in citations:
                ids.append(c.id)
                self.db.execute(
                    """INSERT INTO citations (id, url, claim, cited_at, expect, interval, extra, added_at)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT(id) DO UPDATE SET url=excluded.url, claim=excluded.claim,
                         cited_at=excluded.cited_at, expect=excluded.expect,
                         interval=excluded.interval, extra=excluded.extra, removed_at=NULL""",
                    [
                        c.id,
                        c.url,
                        c.claim,
                        c.cited_at,
                        json.dumps(list(c.expect)),
                        c.interval,
                        json.dumps(c.extra, ensure_ascii=False),
                        stamp,
                    ],
                )
            placeholders = ",".join("?" * len(ids))
            self.db.execute(
                f"UPDATE citations SET removed_at = ? WHERE removed_at IS NULL AND id NOT IN ({placeholders})",
                [stamp, *ids],
            )

    # passes --------------------------------------------------------------------------------

    def begin_pass(self, now: datetime, citations: int) -> int:
        with self._transaction():
            cursor = self.db.execute(
                "INSERT INTO passes (started_at, citations) VALUES (?, ?)", [now.isoformat(), citations]
            )
        return int(cursor.lastrowid or 0)

    def finish_pass(self, pass_id: int, now: datetime, offline: bool) -> None:
        with self._transaction():
            self.db.execute(
                "UPDATE passes SET finished_at = ?, offline = ? WHERE id = ?", [now.isoformat(), int(offline), pass_id]
            )

    # reading -------------------------------------------------------------------------------

    def validators(self, citation_id: str) -> Validators:
        """ETag and Last-Modified of the newest successful response, for a conditional request."""
        row = self._one(
            """SELECT etag, last_modified FROM checks
                           WHERE citation_id = ? AND outcome = 'ok' AND version_hash != ''
                           ORDER BY id DESC LIMIT 1""",
            [citation_id],
        )
        return Validators(row["etag"], row["last_modified"]) if row else Validators()

    def current_version(self, citation_id: str) -> VersionRecord | None:
        """The version the newest check that saw content pointed to."""
        row = self._one(
            """SELECT v.* FROM checks c JOIN versions v
                             ON v.citation_id = c.citation_id AND v.hash = c.version_hash
                           WHERE c.citation_id = ? AND c.version_hash != ''
                           ORDER BY c.id DESC LIMIT 1""",
            [citation_id],
        )
        return _version(row) if row else None

    def versions(self, citation_id: str) -> list[VersionRecord]:
        return [
            _version(r) for r in self._all("SELECT * FROM versions WHERE citation_id = ? ORDER BY id", [citation_id])
        ]

    def checks(self, citation_id: str) -> list[CheckRecord]:
        return [_check(r) for r in self._all("SELECT * FROM checks WHERE citation_id = ? ORDER BY id", [citation_id])]

    def pass_offline(self, pass_id: int) -> bool:
        row = self._one("SELECT offline FROM passes WHERE id = ?", [pass_id])
        return bool(row and row["offline"])

    def read_text(self, version: VersionRecord) -> str:
        return (self.data_dir / version.text_path).read_text("utf-8")

    def read_raw(self, version: VersionRecord) -> bytes:
        return gzip.decompress((self.data_dir / version.raw_path).read_bytes())

    def count(self, table: str) -> int:
        if table not in {"citations", "passes", "checks", "versions"}:
            raise ValueError(table)
        return int(self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def version_drift(self, citation_id: str, version_hash: str) -> VersionDrift | None:
        row = self._one("SELECT * FROM versions WHERE citation_id = ? AND hash = ?", [citation_id, version_hash])
        if row is None:
            return None
        return VersionDrift(
            row["baseline_hash"],
            row["drift_class"],
            row["drift_score"],
            tuple(json.loads(row["drift_changes"])),
            row["previous_class"],
            row["previous_score"],
            tuple(json.loads(row["claim_facts"])),
            tuple(json.loads(row["claim_found"])),
            tuple(json.loads(row["claim_missing"])),
        )

    def history(self, citation_id: str) -> list[dict[str, Any]]:
        """Every check of a citation, oldest first, with whether its pass was offline."""
        return self._all(
            """SELECT c.id, c.checked_at, c.outcome, c.http_status, c.final_url, c.signal,
                                   c.severity, c.evidence, c.moved_to, c.paywall, c.paywall_evidence, c.paywall_truncated,
                                   c.version_hash, c.error, coalesce(p.offline, 0) AS offline
                            FROM checks c LEFT JOIN passes p ON p.id = c.pass_id
                            WHERE c.citation_id = ? ORDER BY c.id""",
            [citation_id],
        )

    def timeline(self, citation_id: str, limit: int) -> list[dict[str, Any]]:
        """The newest `limit` checks of a citation, oldest first (an indexed read, however long the history)."""
        rows = self._all(
            """SELECT c.checked_at, c.severity, coalesce(p.offline, 0) AS offline
                            FROM checks c LEFT JOIN passes p ON p.id = c.pass_id
                            WHERE c.citation_id = ? ORDER BY c.checked_at DESC LIMIT ?""",
            [citation_id, limit],
        )
        return rows[::-1]

    def probe(self, site: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM probes WHERE site = ?", [site])

    def save_probe(self, site: str, url: str, status: int | None, text: str, now: datetime) -> None:
        with self._transaction():
            self.db.execute(
                """INSERT INTO probes (site, url, status, text, probed_at) VALUES (?, ?, ?, ?, ?)
                               ON CONFLICT(site) DO UPDATE SET url=excluded.url, status=excluded.status,
                                 text=excluded.text, probed_at=excluded.probed_at""",
                [site, url, status, text[:100_000], now.isoformat()],
            )

    def health(self, citation_id: str) -> dict[str, Any] | None:
        row = self._one("SELECT report FROM health WHERE citation_id = ?", [citation_id])
        return json.loads(row["report"]) if row else None

    def all_health(self) -> dict[str, dict[str, Any]]:
        return {
            r["citation_id"]: json.loads(r["report"]) for r in self._all("SELECT citation_id, report FROM health", [])
        }

    def save_health(self, citation_id: str, url: str, report: dict[str, Any], now: datetime) -> StatusChange | None:
        """Keep a citation's health; record and return the change when its status moved."""
        previous = self._one("SELECT status FROM health WHERE citation_id = ?", [citation_id])
        old = previous["status"] if previous else "unchecked"
        new = report["status"]
        change = None
        with self._transaction():
            self.db.execute(
                """INSERT INTO health (citation_id, status, since, updated_at, report)
                               VALUES (?, ?, ?, ?, ?) ON CONFLICT(citation_id) DO UPDATE SET
                               status=excluded.status, since=excluded.since,
                               updated_at=excluded.updated_at, report=excluded.report""",
                [citation_id, new, report.get("since") or "", now.isoformat(), json.dumps(report, ensure_ascii=False)],
            )
            if old != new:
                evidence = _evidence_line(report)
                self.db.execute(
                    """INSERT INTO status_changes (citation_id, at, old_status, new_status, evidence)
                                   VALUES (?, ?, ?, ?, ?)""",
                    [citation_id, now.isoformat(), old, new, evidence],
                )
                change = StatusChange(citation_id, url, now.isoformat(), old, new, evidence)
        return change

    def citations(self, include_removed: bool = False) -> list[dict[str, Any]]:
        where = "" if include_removed else "WHERE removed_at IS NULL"
        return self._all(f"SELECT * FROM citations {where} ORDER BY CAST(id AS INTEGER), id", [])

    def schedule_records(self) -> dict[str, tuple[str, int]]:
        """For every citation checked: its last check time and its failures since the last healthy
        or blocked check (checks in offline passes are not failures)."""
        rows = self._all(
            """
            SELECT c.citation_id, max(c.checked_at) AS last_at,
                   sum(CASE WHEN c.severity IN ('transient', 'permanent') AND c.id > coalesce(h.ok_id, 0)
                            AND coalesce(p.offline, 0) = 0 THEN 1 ELSE 0 END) AS failures
            FROM checks c
            LEFT JOIN (SELECT citation_id, max(id) AS ok_id FROM checks
                       WHERE severity IN ('healthy', 'blocked') GROUP BY citation_id) h USING (citation_id)
            LEFT JOIN passes p ON p.id = c.pass_id
            GROUP BY c.citation_id""",
            [],
        )
        return {r["citation_id"]: (r["last_at"], int(r["failures"] or 0)) for r in rows}

    # captures and the submission outbox ---------------------------------------------------

    def enqueue_capture(self, citation_id: str, url: str, version_hash: str, now: datetime) -> bool:
        """Queue a capture of this content; False when it is queued (or done) already."""
        stamp = now.isoformat()
        with self._transaction():
            cursor = self.db.execute(
                """INSERT OR IGNORE INTO outbox (citation_id, url, version_hash, next_try, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?)""",
                [citation_id, url, version_hash, stamp, stamp, stamp],
            )
        return bool(cursor.rowcount)

    def outbox(self, citation_id: str | None = None) -> list[dict[str, Any]]:
        if citation_id is None:
            return self._all("SELECT * FROM outbox ORDER BY id", [])
        return self._all("SELECT * FROM outbox WHERE citation_id = ? ORDER BY id", [citation_id])

    def due_submissions(self, now: datetime) -> list[dict[str, Any]]:
        return self._all(
            """SELECT * FROM outbox WHERE state IN ('queued', 'submitted') AND next_try <= ?
                            ORDER BY state DESC, next_try, id""",
            [now.isoformat()],
        )

    def update_submission(self, outbox_id: int, now: datetime, **fields: Any) -> None:
        allowed = {
            "state",
            "job_id",
            "attempts",
            "next_try",
            "reason",
            "capture_url",
            "capture_timestamp",
            "submitted_at",
        }
        if not set(fields) <= allowed or ("state" in fields and fields["state"] not in OUTBOX_STATES):
            raise ValueError(f"bad outbox update {fields}")
        assignments = ", ".join(f"{k} = ?" for k in fields)
        with self._transaction():
            self.db.execute(
                f"UPDATE outbox SET {assignments}, updated_at = ? WHERE id = ?",
                [*fields.values(), now.isoformat(), outbox_id],
            )

    def add_captures(self, citation_id: str, captures: Iterable[Any], source: str, now: datetime) -> int:
        """Keep captures found (CDX, Memento) or made (SPN); returns how many were new."""
        added = 0
        with self._transaction():
            for c in captures:
                cursor = self.db.execute(
                    """INSERT OR IGNORE INTO captures (citation_id, archive, timestamp, original, url, status,
                         digest, mimetype, source, found_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    [
                        citation_id,
                        c.archive,
                        c.timestamp,
                        c.original,
                        c.url,
                        c.status,
                        c.digest,
                        c.mimetype,
                        source,
                        now.isoformat(),
                    ],
                )
                added += cursor.rowcount
        return added

    def mark_looked_up(self, citation_id: str, source: str, now: datetime) -> None:
        """Remember when a source (`cdx`, `memento {endpoint}`) was last asked about a citation."""
        with self._transaction():
            self.db.execute(
                """INSERT INTO lookups (citation_id, source, looked_at) VALUES (?, ?, ?)
                   ON CONFLICT(citation_id, source) DO UPDATE SET looked_at = excluded.looked_at""",
                [citation_id, source, now.isoformat()],
            )

    def looked_up_at(self, citation_id: str, source: str = "cdx") -> str:
        row = self._one("SELECT looked_at FROM lookups WHERE citation_id = ? AND source = ?", [citation_id, source])
        return row["looked_at"] if row else ""

    def captures(self, citation_id: str) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM captures WHERE citation_id = ? ORDER BY timestamp DESC", [citation_id])

    def mark_capture(
        self, citation_id: str, archive: str, timestamp: str, verified: bool, note: str, url: str = ""
    ) -> None:
        """Record what verification found; `url` is where the capture is offered (after the redirects
        of a cited URL that moved, the memento the chain ends at)."""
        with self._transaction():
            self.db.execute(
                """UPDATE captures SET verified = ?, verify_note = ?, url = CASE WHEN ? != '' THEN ? ELSE url END
                               WHERE citation_id = ? AND archive = ? AND timestamp = ?""",
                [int(verified), note, url, url, citation_id, archive, timestamp],
            )

    def latest_verdict(self, citation_id: str) -> tuple[str, str] | None:
        """(signal, severity) of a citation's latest check; None before its first."""
        row = self._one(
            "SELECT signal, severity FROM checks WHERE citation_id = ? ORDER BY id DESC LIMIT 1", [citation_id]
        )
        return (row["signal"], row["severity"]) if row else None

    def first_seen_dates(self) -> dict[str, str]:
        """When each citation's first version was stored."""
        rows = self._all("SELECT citation_id, min(first_seen) AS first FROM versions GROUP BY citation_id", [])
        return {r["citation_id"]: r["first"] for r in rows}

    # integrity -----------------------------------------------------------------------------

    def verify(self) -> Verification:
        """Check the database, every file it points to, and the hashes of their contents."""
        result = Verification()
        try:
            for (line,) in self.db.execute("PRAGMA integrity_check").fetchall():
                if line != "ok":
                    result.problems.append(f"database: {line}")
            for row in self.db.execute("PRAGMA foreign_key_check").fetchall():
                result.problems.append(f"database: row {row[1]} of {row[0]} points to a missing {row[2]}")
        except sqlite3.DatabaseError as exc:
            result.problems.append(f"database: {exc}")
            return result
        referenced = set()
        for v in self._all("SELECT citation_id, hash, text_path, raw_path, raw_hash FROM versions", []):
            result.versions += 1
            for relative, check in ((v["raw_path"], "raw"), (v["text_path"], "text")):
                if not relative:
                    continue
                referenced.add(relative)
                path = self.data_dir / relative
                if not path.is_file():
                    result.problems.append(f"[{v['citation_id']}] version {v['hash'][:12]}: {relative} is missing")
                    continue
                try:
                    data = gzip.decompress(path.read_bytes()) if check == "raw" else path.read_bytes()
                except (OSError, EOFError, gzip.BadGzipFile) as exc:
                    result.problems.append(f"[{v['citation_id']}] {relative} cannot be read: {exc}")
                    continue
                want = v["raw_hash"] if check == "raw" else v["hash"]
                if hashlib.sha256(data).hexdigest() != want:
                    result.problems.append(f"[{v['citation_id']}] {relative} does not match its hash")
        for w in self._all(
            "SELECT citation_id, hash, warc_file, warc_offset, warc_length FROM versions WHERE warc_file != ''", []
        ):
            path = self.data_dir / w["warc_file"]
            referenced.add(w["warc_file"])
            where = f"[{w['citation_id']}] version {w['hash'][:12]}: WARC record at {w['warc_file']}:{w['warc_offset']}"
            if not path.is_file():
                result.problems.append(f"{where}: {w['warc_file']} is missing")
                continue
            problem = check_exchange(path, w["warc_offset"], w["warc_length"] or 0)
            if problem:
                result.problems.append(f"{where}: {problem}")
        for path, size, end in self._warc_tails(self.db.conn):
            result.notes.append(
                f"{size - end} byte(s) at the end of warc/{path.name} belong to no version (left by an "
                "interrupted write; the next check removes them)"
            )
        dangling = self._all(
            """SELECT c.id, c.citation_id FROM checks c WHERE c.version_hash != '' AND NOT EXISTS
                                (SELECT 1 FROM versions v WHERE v.citation_id = c.citation_id
                                 AND v.hash = c.version_hash)""",
            [],
        )
        result.problems += [
            f"[{d['citation_id']}] check {d['id']} names a version that is not stored" for d in dangling
        ]
        result.checks = self.count("checks")
        for folder in ("raw", "text"):
            for path in (self.data_dir / folder).rglob("*") if (self.data_dir / folder).is_dir() else []:
                relative = path.relative_to(self.data_dir).as_posix()
                if path.is_file() and relative not in referenced:
                    result.notes.append(f"orphan file {relative} (harmless: left by an interrupted write)")
        unfinished = self._all("SELECT id, started_at FROM passes WHERE finished_at IS NULL", [])
        result.notes += [
            f"pass {p['id']} started {p['started_at'][:19]} never finished (stopped or killed); "
            "the checks it recorded are complete"
            for p in unfinished
        ]
        return result

    # writing -------------------------------------------------------------------------------

    def record_check(
        self,
        citation: Citation,
        fetched: FetchResult,
        extraction: Extraction | None,
        checked_at: datetime,
        pass_id: int | None = None,
        extract_ms: int = 0,
        verdicts: CheckVerdicts | None = None,
        drift: VersionDrift | None = None,
        files: SnapshotFiles | None = None,
        unchanged: VersionRecord | None = None,
    ) -> StoredCheck:
        """Record one check; add a version when the content is new. Files first, then one commit.
        `unchanged` names the version a body is known to repeat byte for byte (nothing re-extracted)."""
        extraction = extraction or Extraction()
        verdicts = verdicts or CheckVerdicts()
        version_hash = ""
        new_version: VersionRecord | None = None
        if unchanged is not None:
            version_hash = unchanged.hash
        elif fetched.outcome == Outcome.NOT_MODIFIED:
            current = self.current_version(citation.id)
            version_hash = current.hash if current else ""
        elif fetched.outcome == Outcome.OK:
            version_hash = content_hash(extraction, fetched.body)
        if (
            version_hash
            and fetched.outcome == Outcome.OK
            and unchanged is None
            and not self.has_version(citation.id, version_hash)
        ):
            files = files or self.write_snapshot(fetched.body, extraction.text, exchange=fetched)
            new_version = VersionRecord(
                citation.id,
                version_hash,
                checked_at.isoformat(),
                extraction.title,
                extraction.author,
                extraction.date,
                extraction.language,
                extraction.words,
                len(extraction.text),
                files.text_path,
                files.raw_path,
                files.raw_bytes,
            )
        validators = fetched.validators if fetched.outcome == Outcome.OK else Validators()
        note = extraction.note if fetched.outcome == Outcome.OK and unchanged is None else ""
        with self._transaction():
            if new_version is not None:
                self._insert_version(new_version, extraction, fetched.content_type, drift or VersionDrift())
                if files is not None and files.warc is not None:
                    self.db.execute(
                        "UPDATE versions SET warc_file = ?, warc_offset = ?, warc_length = ? "
                        "WHERE citation_id = ? AND hash = ?",
                        [files.warc.file, files.warc.offset, files.warc.length, citation.id, version_hash],
                    )
            cursor = self.db.execute(
                """INSERT INTO checks (citation_id, pass_id, checked_at, url, outcome, http_status,
                     final_url, redirects, error, fetch_ms, extract_ms, bytes, content_type, etag,
                     last_modified, version_hash, new_version, note, signal, severity, evidence,
                     moved_to, paywall, paywall_evidence, paywall_truncated)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    citation.id,
                    pass_id,
                    checked_at.isoformat(),
                    citation.url,
                    str(fetched.outcome),
                    fetched.status,
                    fetched.final_url,
                    json.dumps([[h.url, h.status, h.location] for h in fetched.redirects]),
                    fetched.error,
                    fetched.elapsed_ms,
                    extract_ms,
                    len(fetched.body),
                    fetched.content_type,
                    validators.etag,
                    validators.last_modified,
                    version_hash,
                    int(new_version is not None),
                    note,
                    verdicts.signal,
                    verdicts.severity,
                    verdicts.evidence,
                    verdicts.moved_to,
                    verdicts.paywall,
                    json.dumps(list(verdicts.paywall_evidence), ensure_ascii=False),
                    int(verdicts.paywall_truncated),
                ],
            )
        record = CheckRecord(
            int(cursor.lastrowid or 0),
            citation.id,
            checked_at.isoformat(),
            fetched.outcome,
            fetched.status,
            fetched.final_url,
            version_hash,
            new_version is not None,
            fetched.error,
            pass_id,
        )
        return StoredCheck(record, new_version)

    def has_version(self, citation_id: str, version_hash: str) -> bool:
        return (
            self._one("SELECT 1 AS x FROM versions WHERE citation_id = ? AND hash = ?", [citation_id, version_hash])
            is not None
        )

    def write_snapshot(
        self,
        body: bytes,
        text: str,
        body_gz: bytes | None = None,
        exchange: FetchResult | None = None,
        user_agent: str = "",
    ) -> SnapshotFiles:
        """Write a version's files, named by content hash (temporary name, then rename), and append
        the exchange to today's WARC file. Uses no shared connection, so it may run in another thread."""
        raw_hash = hashlib.sha256(body).hexdigest()
        text_hash = hashlib.sha256(text.encode("utf-8")).hexdigest() if text else ""
        raw_path = f"raw/{raw_hash[:2]}/{raw_hash}.gz"
        text_path = f"text/{text_hash[:2]}/{text_hash}.txt" if text_hash else ""
        warc = None
        try:
            self._write_file(raw_path, lambda: body_gz if body_gz is not None else gzip.compress(body, 6, mtime=0))
            if text_path:
                self._write_file(text_path, lambda: text.encode("utf-8"))
            if exchange is not None:
                warc = self._append_warc(exchange, user_agent)
        except OSError as exc:
            raise StoreError(f"cannot write snapshot files under {self.data_dir}: {exc.strerror or exc}") from None
        return SnapshotFiles(raw_path, raw_hash, len(body), text_path, warc)

    def _append_warc(self, exchange: FetchResult, user_agent: str) -> WarcPointer:
        """Records go to warc/YYYY-MM-DD[-n].warc.gz, a new file each day or past WARC_ROLL_BYTES, each
        file beginning with a warcinfo record. The exchange is written whole or not at all: a failed
        write (a full disk) truncates the file back to where it was."""
        with self._warc_lock:
            folder = self.data_dir / "warc"
            folder.mkdir(parents=True, exist_ok=True)
            if not self._warc_repaired:
                self._repair_warc()
                self._warc_repaired = True
            day = exchange.started_at.astimezone(UTC).strftime("%Y-%m-%d")
            n = 0
            while (folder / _warc_name(day, n)).exists() and (
                folder / _warc_name(day, n)
            ).stat().st_size > WARC_ROLL_BYTES:
                n += 1
            path = folder / _warc_name(day, n)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                start = os.fstat(fd).st_size
                buffer = io.BytesIO()
                if start == 0:
                    write_warcinfo(buffer, path.name, "citation-archiver snapshots of cited pages")
                offset, length = write_exchange(buffer, exchange, user_agent)
                try:
                    _write_all(fd, buffer.getvalue())
                    os.fsync(fd)
                except OSError:
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, start)
                    raise
            finally:
                os.close(fd)
            return WarcPointer(f"warc/{path.name}", start + offset, length)

    def _warc_tails(self, conn: sqlite3.Connection | None = None) -> list[tuple[Path, int, int]]:
        """WARC files that end with records no version points to: (path, size, where the last
        referenced exchange ends). Files whose pointers are not all known are left out.
        Without `conn`, a connection of its own: snapshot writes (and so the repair) run in a
        worker thread, where the store's connection may not be used."""
        folder = self.data_dir / "warc"
        if not folder.is_dir():
            return []
        query = """SELECT warc_file, max(warc_offset + warc_length), sum(warc_length IS NULL)
                   FROM versions WHERE warc_file != '' GROUP BY warc_file"""
        if conn is not None:
            rows = conn.execute(query).fetchall()
        else:
            with contextlib.closing(sqlite3.connect(self.data_dir / "archiver.db", timeout=30)) as own:
                rows = own.execute(query).fetchall()
        ends = {file: (end, unknown) for file, end, unknown in rows}
        tails = []
        for path in sorted(folder.glob("*.warc.gz")):
            end, unknown = ends.get(f"warc/{path.name}", (0, 0))
            if unknown:
                continue
            size = path.stat().st_size
            if not end:
                try:
                    end = first_record_end(path)
                except (OSError, ValueError, EOFError):
                    end = 0
            if size > end:
                tails.append((path, size, end))
        return tails

    def _repair_warc(self) -> None:
        """Cut what a killed or failed run appended after the last exchange the store points to, so a
        version is never written twice (its next check writes it again) and every file stays readable."""
        for path, size, end in self._warc_tails():
            if end:
                os.truncate(path, end)
            else:
                path.unlink()
            log.warning("removed %d byte(s) of WARC records no version points to from %s", size - end, path.name)

    def warc_pointer(self, citation_id: str, version_hash: str) -> WarcPointer | None:
        row = self._one(
            "SELECT warc_file, warc_offset, warc_length FROM versions WHERE citation_id = ? AND hash = ?",
            [citation_id, version_hash],
        )
        if not row or not row["warc_file"]:
            return None
        return WarcPointer(row["warc_file"], row["warc_offset"], row["warc_length"])

    def _write_file(self, relative: str, content: Any) -> None:
        path = self.data_dir / relative
        if path.exists():
            return  # content-addressed: same name, same bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(content())
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _insert_version(self, v: VersionRecord, extraction: Extraction, content_type: str, drift: VersionDrift) -> None:
        raw_hash = Path(v.raw_path).name.removesuffix(".gz")
        self.db.execute(
            """INSERT INTO versions (citation_id, hash, first_seen, title, author, date, language,
                 description, canonical_url, words, chars, text_path, raw_path, raw_hash, raw_bytes,
                 content_type, baseline_hash, drift_class, drift_score, drift_changes, previous_class,
                 previous_score, claim_facts, claim_found, claim_missing)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                v.citation_id,
                v.hash,
                v.first_seen,
                v.title,
                v.author,
                v.date,
                v.language,
                extraction.description,
                extraction.canonical_url,
                v.words,
                v.chars,
                v.text_path,
                v.raw_path,
                raw_hash,
                v.raw_bytes,
                content_type,
                drift.baseline_hash or v.hash,
                drift.drift_class,
                drift.score,
                _json(drift.changes),
                drift.previous_class,
                drift.previous_score,
                _json(drift.claim_facts),
                _json(drift.claim_found),
                _json(drift.claim_missing),
            ],
        )

    def _all(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        cursor = self.db.execute(sql, params)
        cols = [d[0] for d in cursor.description]
        return [dict(zip(cols, row, strict=True)) for row in cursor.fetchall()]

    def _one(self, sql: str, params: list[Any]) -> dict[str, Any] | None:
        rows = self._all(sql + ("" if "LIMIT" in sql else " LIMIT 1"), params)
        return rows[0] if rows else None


WARC_ROLL_BYTES = 1024**3  # a day's WARC file is rolled past this size


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _open_read_only(data_dir: Path) -> sqlite_utils.Database:
    """SQLite's read-only mode; when the directory is read-only and no writer has the store open
    (a WAL database then has no `-shm` file, and none can be made), SQLite's `immutable` mode."""
    path = data_dir / "archiver.db"
    if not path.is_file():
        raise StoreError(f"no store in {data_dir}: run `archiver check` first")
    uri = path.resolve().as_uri()
    error: sqlite3.Error | None = None
    for mode in ("mode=ro", "immutable=1"):
        try:
            conn = sqlite3.connect(f"{uri}?{mode}", uri=True, timeout=30, isolation_level=None)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as exc:
            error = exc
            continue
        db = sqlite_utils.Database(conn)
        db.execute("PRAGMA query_only=ON")
        if migrations.pending(db):
            db.close()
            raise StoreError(
                f"the store in {data_dir} was written by an older version of archiver: run a write "
                "command (`archiver check`) once with write access to upgrade it"
            )
        return db
    raise StoreError(f"cannot open the store in {data_dir} for reading: {error}")


def _warc_name(day: str, n: int) -> str:
    return f"{day}.warc.gz" if n == 0 else f"{day}-{n}.warc.gz"


def _json(values: tuple[str, ...]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def _evidence_line(report: dict[str, Any]) -> str:
    """The one sentence that best explains a status."""
    status = report["status"]
    if status in ("rotten", "failing", "blocked", "ok") and report.get("rot"):
        return str(report["rot"].get("evidence") or status)
    if status == "paywalled" and report.get("paywall"):
        return "; ".join(report["paywall"]["evidence"])
    if status == "drifted":
        claim = report.get("claim") or {}
        if claim.get("lost"):
            return "the source no longer says: " + ", ".join(claim["lost"])
        return "; ".join((report.get("drift") or {}).get("changes", [])) or "major rewrite"
    return str(status)


def _version(row: dict[str, Any]) -> VersionRecord:
    return VersionRecord(
        row["citation_id"],
        row["hash"],
        row["first_seen"],
        row["title"],
        row["author"],
        row["date"],
        row["language"],
        row["words"],
        row["chars"],
        row["text_path"],
        row["raw_path"],
        row["raw_bytes"],
    )


def _check(row: dict[str, Any]) -> CheckRecord:
    return CheckRecord(
        row["id"],
        row["citation_id"],
        row["checked_at"],
        Outcome(row["outcome"]),
        row["http_status"],
        row["final_url"],
        row["version_hash"],
        bool(row["new_version"]),
        row["error"],
        row["pass_id"],
    )
