"""The store: SQLite (the single source of truth) plus content-addressed files and WARC files under
the data directory. `Store` is the facade every stage uses; behind it:

- `db`           the database seam: every SQL statement goes through it
- `schema`       the tables and their migrations; opening a store
- `files`        content-addressed snapshot files;  `warc`, `warc_format`: the WARC files
- `lock`         one writer per data directory;      `verify`: the integrity check
- the table families, each turning its rows into `archiver.models.rows`: `citations` (articles and
  their citations), `watched` (the watched URLs, one per page), `checks` (passes and checks),
  `versions`, `captures` (and look-ups), `outbox`, `probes`, `health` (and changes of status) and `reviews`

A file is named by the SHA-256 of its content and written (temporary name, then rename) before the
row that points to it is committed, so a crash leaves at worst an orphan file, never a row pointing
at nothing.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from archiver.cadence import Record
from archiver.errors import ConfigError, StoreError
from archiver.models import (
    LIST_ARTICLE,
    BrowserTrace,
    CheckVerdicts,
    Citation,
    Extraction,
    FetchedBy,
    FetchResult,
    Health,
    HealthStatus,
    Outcome,
    Validators,
    VersionDrift,
)
from archiver.models.rows import (
    Capture,
    CaptureRow,
    CheckRow,
    OutboxRow,
    ProbeRow,
    TimelinePoint,
    VersionRow,
)
from archiver.store import captures, checks, citations, files, health, outbox, probes, record, reviews, schema, versions
from archiver.store.db import Database
from archiver.store.files import SnapshotFiles
from archiver.store.lock import DataDirLock
from archiver.store.record import StoredCheck
from archiver.store.verify import Verification, verify
from archiver.store.versions import content_hash
from archiver.store.warc import StoredResponse, WarcLog
from archiver.store.warc_format import PackedExchange

__all__ = [
    "DataDirLock",
    "PackedExchange",
    "SnapshotFiles",
    "Store",
    "StoredCheck",
    "StoredResponse",
    "Verification",
    "content_hash",
]

COUNTED = ("citations", "passes", "checks", "versions")


class Store(citations.Publication, reviews.Reviews):
    """The archive of checks and versions in one data directory. Use `Store.open(path)`. Its articles,
    citations and watched URLs are read and written through `citations.Publication`, its editors'
    decisions through `reviews.Reviews`."""

    def __init__(self, data_dir: Path, db: Database, writer: str = "") -> None:
        self.data_dir = data_dir
        self.db = db
        self.warc = WarcLog(data_dir, lambda: versions.warc_ends_apart(db), writer)
        self.task_id: str | None = None  # the worker's task this store records checks for (`for_task`)
        self.worker = ""

    @classmethod
    def open(cls, data_dir: str | Path, *, read_only: bool = False, database_url: str = "", writer: str = "") -> Store:
        """Open (and create or upgrade) the store: its files in `data_dir`, its database there (SQLite)
        or at `database_url` (PostgreSQL). `read_only` opens an existing one for reading only: nothing
        is created, migrated or locked, so a read-only directory works. `writer` names this process's
        own WARC files when several processes write into one data directory."""
        data_dir = Path(data_dir)
        if read_only:
            return cls(data_dir, schema.open_read_only(data_dir, database_url))
        if data_dir.is_dir() and not os.access(data_dir, os.W_OK):
            raise StoreError(
                f"the data directory {data_dir} is read-only: give this user write access, "
                "or set --data-dir / ARCHIVER_DATA_DIR to a writable place"
            )
        return cls(data_dir, schema.open_writable(data_dir, database_url), writer)

    def for_task(self, task_id: str, worker: str) -> Store:
        """This store (its connection and files) recording checks for one task of a worker: a check
        whose task was recorded already (a redelivered task) is not recorded again."""
        view = copy.copy(self)
        view.task_id, view.worker = task_id, worker
        return view

    def close(self) -> None:
        self.db.close()
        self.warc.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # passes and checks ---------------------------------------------------------------------------

    def begin_pass(self, now: datetime, count: int) -> int:
        return checks.begin_pass(self.db, now, count)

    def finish_pass(self, pass_id: int, now: datetime, offline: bool) -> None:
        checks.finish_pass(self.db, pass_id, now, offline)

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
        written: SnapshotFiles | None = None,
        unchanged: VersionRow | None = None,
        region: str = "",
        browser: BrowserTrace | None = None,
    ) -> StoredCheck:
        """Record one check of the watched URL (and what the browser did in it); add a version when the
        content is new (files first, then one commit). `unchanged`: the version a body repeats byte for
        byte; `region`: see `versions.move_region`."""
        extraction = extraction or Extraction()
        version_hash, new_content = versions.identify(self.db, citation.id, fetched, extraction, unchanged)
        new = None
        if new_content:
            written = written or self.write_snapshot(fetched.body, extraction.text, exchange=fetched)
            new = versions.new_row(
                citation.id, version_hash, checked_at, extraction, written, drift, region, fetched.fetched_by
            )
        note = extraction.note if fetched.outcome == Outcome.OK and unchanged is None else ""
        check = checks.NewCheck(
            citation, fetched, checked_at, pass_id, extract_ms, verdicts or CheckVerdicts(), note, browser
        )
        return record.commit(self.db, check, version_hash, new, extraction, (self.task_id, self.worker), region)

    def checks(self, watched_id: str) -> list[CheckRow]:
        """Every check of a watched URL, oldest first, with whether its pass was offline."""
        return checks.checks(self.db, watched_id)

    def latest_check(self, watched_id: str) -> CheckRow | None:
        return checks.latest(self.db, watched_id)

    def validators(self, watched_id: str) -> Validators:
        """ETag and Last-Modified of the newest successful response, for a conditional request."""
        return checks.validators(self.db, watched_id)

    def timeline(self, watched_id: str, limit: int) -> list[TimelinePoint]:
        """The newest `limit` checks, oldest first (an indexed read, however long the history)."""
        return checks.timeline(self.db, watched_id, limit)

    def schedule_records(self) -> dict[str, Record]:
        """Per watched URL: its last check and its failures since the last healthy or blocked one."""
        return checks.schedule_records(self.db)

    # versions and their files --------------------------------------------------------------------

    def has_version(self, watched_id: str, version_hash: str) -> bool:
        return versions.has_version(self.db, watched_id, version_hash)

    def versions(self, watched_id: str) -> list[VersionRow]:
        """Every version, oldest first."""
        return versions.versions(self.db, watched_id)

    def current_version(self, watched_id: str) -> VersionRow | None:
        """The version the newest check that saw content pointed to."""
        return versions.current(self.db, watched_id)

    def looks(self) -> dict[tuple[str, str], tuple[str, FetchedBy]]:
        """(watched id, text path: the health's `snapshot`) -> (screenshot, fetcher), for the report."""
        return versions.looks(self.db)

    def first_seen_dates(self) -> dict[str, str]:
        """When each watched URL's first version was stored."""
        return versions.first_seen_dates(self.db)

    def write_snapshot(
        self,
        body: bytes,
        text: str,
        exchange: FetchResult | None = None,
        user_agent: str = "",
        packed: PackedExchange | None = None,
        screenshot: bytes | None = None,
    ) -> SnapshotFiles:
        """Write a version's text file and screenshot (named by content hash) and append its exchange
        (`packed` by a worker) to today's WARC file, the body's one copy (a raw file without an
        exchange). No shared connection: any thread may run it."""
        try:
            written = files.write(self.data_dir, body, text, raw_file=exchange is None)
            warc = self.warc.append(exchange, user_agent, packed) if exchange is not None else None
            shot = files.write_screenshot(self.data_dir, screenshot) if screenshot else ""
            return replace(written, warc=warc, screenshot_path=shot)
        except OSError as exc:
            raise StoreError(f"cannot write snapshot files under {self.data_dir}: {exc.strerror or exc}") from None

    def read_text(self, version: VersionRow) -> str:
        return files.read_text(self.data_dir, version)

    def read_raw(self, version: VersionRow) -> bytes:
        """The body as served: the one place a raw body is read (see `WarcLog.body`)."""
        return self.warc.body(version)

    def raw_location(self, version: VersionRow) -> str:
        return self.warc.location(version)

    def response(self, version: VersionRow) -> StoredResponse:
        """The version's response as stored: its WARC record, or the raw body when it has none."""
        if version.warc is not None:
            return self.warc.response(version.warc)
        return StoredResponse("200 OK", (("Content-Type", "text/html; charset=utf-8"),), self.read_raw(version))

    def raw_response(self, version: VersionRow) -> bytes | None:
        """The exact stored HTTP response (status line, headers, body); None without a WARC record."""
        return self.warc.raw(version.warc) if version.warc is not None else None

    def export(self, target: Path, only: Sequence[str] = ()) -> tuple[int, int]:
        """One self-contained WARC of the versions of the citations `only` names (all when empty) at
        `target`, written whole or not at all: (versions written, citations)."""
        listed = self.citations(include_removed=True)
        keys = {c.key: c.watched_id for c in listed}
        unknown = [i for i in only if i not in keys]
        if unknown:
            raise ConfigError(f"no citation with id {', '.join(unknown)} in the store")
        chosen = list(dict.fromkeys(keys[k] for k in only)) if only else list(dict.fromkeys(keys.values()))
        pointers = [v.warc for wid in chosen for v in self.versions(wid) if v.warc is not None]
        return self.warc.export(pointers, target), len(only or keys)

    # soft-404 probes -----------------------------------------------------------------------------

    def probe(self, site: str) -> ProbeRow | None:
        return probes.probe(self.db, site)

    def save_probe(self, answer: ProbeRow) -> None:
        probes.save(self.db, answer)

    # health --------------------------------------------------------------------------------------

    def health(self, citation_id: str, article: str = LIST_ARTICLE) -> Health | None:
        return health.health(self.db, article, citation_id)

    def all_health(self) -> dict[tuple[str, str], Health]:
        """Every citation's health, by (article, citation id)."""
        return health.all_health(self.db)

    def save_health(self, folded: Health, now: datetime, evidence: str, article: str = LIST_ARTICLE) -> HealthStatus:
        """Keep a citation's health, and the change when its status moved; returns the old status."""
        return health.save(self.db, article, folded, now, evidence)

    # captures, look-ups and the capture outbox ---------------------------------------------------

    def add_captures(self, watched_id: str, found: Iterable[Capture], source: str, now: datetime) -> int:
        """Keep captures found (CDX, Memento) or made (SPN); returns how many were new."""
        return captures.add(self.db, watched_id, found, source, now)

    def captures(self, watched_id: str) -> list[CaptureRow]:
        """Every known capture, newest first."""
        return captures.captures(self.db, watched_id)

    def mark_capture(self, watched_id: str, capture: Capture, verified: bool, note: str, url: str = "") -> None:
        """Record what verification found; `url` is where the capture is offered."""
        captures.mark(self.db, watched_id, capture, verified, note, url)

    def mark_looked_up(self, watched_id: str, source: str, now: datetime) -> None:
        captures.mark_looked_up(self.db, watched_id, source, now)

    def looked_up_at(self, watched_id: str, source: str = "cdx") -> str:
        return captures.looked_up_at(self.db, watched_id, source)

    def enqueue_capture(self, watched_id: str, url: str, version_hash: str, now: datetime) -> bool:
        """Queue a capture of this content; False when it is queued (or done) already."""
        return outbox.enqueue(self.db, watched_id, url, version_hash, now)

    def outbox(self, watched_id: str | None = None) -> list[OutboxRow]:
        return outbox.rows(self.db, watched_id)

    def due_submissions(self, now: datetime) -> list[OutboxRow]:
        return outbox.due(self.db, now)

    def save_submission(self, row: OutboxRow, now: datetime) -> None:
        """Write a row's new state, and let go of its claim."""
        outbox.save(self.db, row, now)

    def claim_submissions(self, now: datetime, claimer: str, until: datetime, limit: int) -> list[OutboxRow]:
        """Take up to `limit` due rows for `claimer` alone until `until` (see `outbox.claim`)."""
        return outbox.claim(self.db, now, claimer, until, limit)

    def release_submissions(self, claimer: str) -> None:
        outbox.release(self.db, claimer)

    # integrity -----------------------------------------------------------------------------------

    def verify(self) -> Verification:
        """Check the database, every file it points to, and the hashes of their contents."""
        return verify(self.db, self.warc)

    def count(self, table: str) -> int:
        if table not in COUNTED:
            raise ValueError(table)
        return int(self.db.scalar(f"SELECT count(*) FROM {table}"))
