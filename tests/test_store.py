"""The store on both backends (real SQLite files in a temp directory, and a real PostgreSQL database of
its own per test): what a check records, the citation list's sync, the outbox and captures, health
and its changes, opening read-only, integrity, migrations, and the database seam every statement
goes through."""

from __future__ import annotations

import gzip
import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archiver.detect.health import fold
from archiver.errors import StoreError
from archiver.models import (
    CheckVerdicts,
    Citation,
    Extraction,
    FetchedBy,
    FetchResult,
    HealthStatus,
    OutboxState,
    Outcome,
    Severity,
    Signal,
)
from archiver.models.rows import Capture
from archiver.store import Store, files, schema
from archiver.store.db import SqliteDatabase

T = datetime(2026, 1, 1, 12, tzinfo=UTC)
URL = "https://news.example/world/story"


def fetched(body: bytes, at: datetime = T, outcome: Outcome = Outcome.OK, status: int = 200) -> FetchResult:
    return FetchResult(URL, outcome, at, URL, status, (("Content-Type", "text/html"),), body)


def text(words: str) -> Extraction:
    return Extraction(text=words, title="Story", extracted=True)


# The fixtures postgres_url, ... come from tests/services.py (real servers, a fresh database per test).
pytest_plugins = ["services"]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    """Where the store's database lives: its ARCHIVER_DATABASE_URL ("" for the SQLite file in the
    data directory, the default), so every test of the store runs on both backends."""
    return "" if request.param == "sqlite" else request.getfixturevalue("postgres_url")


@pytest.fixture
def store(tmp_path: Path, backend: str):
    with Store.open(tmp_path / "data", database_url=backend) as opened:
        opened.sync_citations([Citation("1", URL, "a claim", "2025-04-28")], T)
        yield opened


def test_a_version_is_its_text_stored_once_whatever_the_markup_around_it(store):
    first = store.record_check(Citation("1", URL), fetched(b"<p>one</p>"), text("one"), T)
    again = store.record_check(
        Citation("1", URL), fetched(b"<div><p>one</p></div>"), text("one"), T + timedelta(hours=1)
    )
    changed = store.record_check(Citation("1", URL), fetched(b"<p>two</p>"), text("two"), T + timedelta(hours=2))
    assert first.version is not None and again.version is None and changed.version is not None
    assert [c.new_version for c in store.checks("1")] == [True, False, True]
    assert store.checks("1")[1].version_hash == first.check.version_hash  # the same text, the same version
    assert [v.hash for v in store.versions("1")] == [first.check.version_hash, changed.check.version_hash]
    assert store.current_version("1") == changed.version
    assert store.read_text(changed.version) == "two" and store.read_raw(changed.version) == b"<p>two</p>"


def test_a_304_points_at_the_version_held_and_a_failure_at_none(store):
    held = store.record_check(Citation("1", URL), fetched(b"<p>one</p>"), text("one"), T)
    store.record_check(Citation("1", URL), fetched(b"", T, Outcome.NOT_MODIFIED, 304), None, T + timedelta(days=1))
    store.record_check(Citation("1", URL), fetched(b"", T, Outcome.HTTP_ERROR, 503), None, T + timedelta(days=2))
    assert [c.version_hash for c in store.checks("1")] == [held.check.version_hash, held.check.version_hash, ""]
    assert store.count("versions") == 1


def test_verdicts_are_read_back_as_they_were_recorded(store):
    verdicts = CheckVerdicts(Signal("soft_404", Severity.PERMANENT, "the title says 'Page not found'"))
    store.record_check(Citation("1", URL), fetched(b"<p>x</p>"), text("x"), T, verdicts=verdicts)
    (check,) = store.checks("1")
    assert check.verdicts == verdicts and check.at == T and not check.offline
    assert store.latest_check("1") == check


def test_a_citation_is_found_by_id_by_url_as_cited_or_canonical_and_kept_when_dropped(store):
    assert store.citation("1").url == URL  # type: ignore[union-attr]
    assert store.citation("HTTPS://NEWS.EXAMPLE:443/world/story?utm_source=x#top").id == "1"  # type: ignore[union-attr]
    assert store.citation("2") is None and store.citation("https://other.example/") is None
    store.sync_citations([Citation("2", "https://other.example/")], T + timedelta(days=1))
    assert [c.id for c in store.citations()] == ["2"]
    dropped = store.citation("1")
    assert dropped is not None and dropped.removed_at == (T + timedelta(days=1)).isoformat()
    assert [c.id for c in store.citations(include_removed=True)] == ["1", "2"]


def test_the_outbox_queues_a_version_once_and_keeps_each_state(store):
    assert store.enqueue_capture("1", URL, "v1", T) is True
    assert store.enqueue_capture("1", URL, "v1", T) is False  # queued already: never twice
    (row,) = store.due_submissions(T)
    store.save_submission(replace(row, state=OutboxState.SUBMITTED, job_id="spn2-1", next_try=T.isoformat()), T)
    store.enqueue_capture("1", URL, "v2", T)
    assert [r.state for r in store.due_submissions(T)] == ["submitted", "queued"]  # jobs are polled first
    assert store.due_submissions(T - timedelta(seconds=1)) == []
    (first, _second) = store.outbox("1")
    assert first.job_id == "spn2-1" and first.updated_at == T.isoformat()


def test_captures_are_kept_once_with_what_verification_found(store):
    capture = Capture("20250427000000", URL)
    assert store.add_captures("1", [capture], "cdx", T) == 1
    assert store.add_captures("1", [capture, Capture("20250101000000", URL)], "cdx", T) == 1
    store.mark_capture("1", capture, True, "the article", url="https://web.archive.org/web/20250427000000/elsewhere")
    newest, oldest = store.captures("1")
    assert newest.verified is True and newest.verify_note == "the article"
    assert newest.url.endswith("/elsewhere") and oldest.verified is None
    store.mark_looked_up("1", "cdx", T)
    assert store.looked_up_at("1", "cdx") == T.isoformat() and store.looked_up_at("1", "memento x") == ""


def test_health_is_kept_typed_and_a_change_of_status_is_recorded_with_its_evidence(store):
    citation = Citation("1", URL)
    store.record_check(
        citation,
        fetched(b"", T, Outcome.HTTP_ERROR, 404),
        None,
        T,
        verdicts=CheckVerdicts(Signal("not_found", Severity.PERMANENT, "HTTP 404 Not Found")),
    )
    health = fold(citation, store.checks("1"), store.versions("1"), store.current_version("1"))
    assert store.save_health(health, T, "gone") == HealthStatus.UNCHECKED
    assert store.save_health(health, T, "gone") == HealthStatus.ROTTEN  # unchanged: no second change
    assert store.health("1") == health and store.all_health() == {("sources", "1"): health}
    changes = store.db.execute("SELECT old_status, new_status, evidence FROM status_changes").fetchall()
    assert changes == [("unchecked", "rotten", "gone")]


def test_a_read_only_store_is_never_created_nor_upgraded(tmp_path):
    with pytest.raises(StoreError, match="no store in"):
        Store.open(tmp_path / "none", read_only=True)
    assert not (tmp_path / "none").exists()
    with Store.open(tmp_path / "old") as store:
        store.db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm006_typed_health'")
    with pytest.raises(StoreError, match="written by an older version"):
        Store.open(tmp_path / "old", read_only=True)
    with Store.open(tmp_path / "old") as store:  # a writing command upgrades it
        pass
    Store.open(tmp_path / "old", read_only=True).close()


def test_a_health_row_of_the_previous_release_is_migrated_to_the_typed_record(tmp_path):
    (tmp_path / "d").mkdir()
    old_db = SqliteDatabase.open(tmp_path / "d" / schema.DATABASE)
    names = [step.name for step in schema.migrations.steps]
    old_db.migrate(schema.migrations.steps[: names.index("m006_typed_health")])  # a store of that release
    old = {
        "id": "1", "url": URL, "status": "drifted", "since": "2026-01-02", "flags": ["drift", "claim_drift"],
        "checked_at": "2026-01-03", "http_status": 200, "final_url": URL,
        "rot": {"status": "ok", "kind": None, "since": None, "confirmed": False, "failures": 0, "evidence": "",
                "recovered_at": None, "moved_to": None},
        "paywall": None,
        "drift": {"kind": "fact_change", "score": 0.9, "since": "2026-01-02", "changes": ["figure changed"], "versions": 2},
        "claim": {"kind": "claim_drift", "text": "15 000", "supported": False, "facts": ["15 000"], "found": [],
                  "missing": ["15 000"], "lost": ["15 000"], "since": "2026-01-02"},
        "title": "Story", "versions": 2, "snapshot": "text/ab/x.txt",
    }  # fmt: skip
    old_db.execute("INSERT INTO citations (id, url, added_at) VALUES ('1', ?, ?)", [URL, T.isoformat()])
    old_db.execute(
        "INSERT INTO health (citation_id, status, since, updated_at, report) VALUES ('1', 'drifted', '', '', ?)",
        [json.dumps(old)],
    )
    old_db.close()
    with Store.open(tmp_path / "d") as store:  # m006 and every later migration
        health = store.health("1")
    assert health is not None and health.status == HealthStatus.DRIFTED and health.flags == ("drift", "claim_drift")
    assert health.drift is not None and health.drift.drift_class == "fact_change" and health.drift.versions == 2
    assert health.claim is not None and health.claim.lost == ("15 000",) and health.claim.claim == "15 000"
    assert health.rot.moved_to == "" and health.title == "Story" and health.snapshot == "text/ab/x.txt"


def test_verify_names_a_missing_file_and_notes_an_orphan_one(store):
    stored = store.record_check(Citation("1", URL), fetched(b"<p>one</p>"), text("one"), T)
    assert store.verify().ok
    assert stored.version is not None
    (store.data_dir / stored.version.text_path).unlink()
    (store.data_dir / "raw" / "zz").mkdir(parents=True)
    (store.data_dir / "raw" / "zz" / "orphan.gz").write_bytes(b"x")
    result = store.verify()
    assert not result.ok and any(stored.version.text_path in p and "is missing" in p for p in result.problems)
    assert any("orphan file raw/zz/orphan.gz" in n for n in result.notes)


def test_every_write_is_one_transaction_and_a_failed_one_leaves_nothing(store):
    db = store.db
    with pytest.raises(RuntimeError), db.transaction():
        db.insert("passes", {"started_at": T.isoformat(), "citations": 1})
        raise RuntimeError("interrupted")
    assert store.count("passes") == 0
    with db.transaction():
        first = db.insert("passes", {"started_at": "a", "citations": 1})
    assert first is not None and store.count("passes") == 1
    with pytest.raises(StoreError, match="cannot write"), db.transaction():
        db.insert("passes", {"no_such_column": 1})
    with db.transaction():  # a row that conflicts is left as it is
        assert db.insert("outbox", _row(), unique=("citation_id", "version_hash")) is not None
        assert db.insert("outbox", _row(), unique=("citation_id", "version_hash")) is None


def _row() -> dict[str, object]:
    return {"citation_id": "1", "url": URL, "version_hash": "v", "next_try": "", "created_at": "", "updated_at": ""}


def test_a_store_that_is_not_a_database_is_refused_with_a_store_error(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "archiver.db").write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError, match="cannot open the store"):
        Store.open(tmp_path / "d")
    with pytest.raises(StoreError, match="cannot open the store"):
        Store.open(tmp_path / "d", read_only=True)
    assert sqlite3.sqlite_version_info >= (3, 35)  # RETURNING, which the seam's inserts use


def test_citations_come_in_footnote_order(tmp_path, backend):
    ids = ["10", "2", "u-3fa2c1d0", "1b", "1"]
    with Store.open(tmp_path / "d", database_url=backend) as store:
        store.sync_citations([Citation(i, f"https://a.example/{i}") for i in ids], T)
        assert [c.id for c in store.citations()] == ["u-3fa2c1d0", "1", "1b", "2", "10"]
        store.sync_citations([], T)  # an empty list drops every citation, and keeps its history
        assert store.citations() == [] and len(store.citations(include_removed=True)) == 5


def test_a_body_is_kept_once_in_its_warc_record_and_verify_checks_it_against_the_raw_hash(store):
    stored = store.record_check(Citation("1", URL), fetched(b"<p>one</p>"), text("one"), T)
    assert stored.version is not None and stored.version.raw_path == "" and stored.version.warc is not None
    assert not (store.data_dir / "raw").exists()  # no second compressed copy beside the WARC record
    assert store.read_raw(stored.version) == b"<p>one</p>" and store.verify().ok
    store.db.execute("UPDATE versions SET raw_hash = ?", ["0" * 64])
    result = store.verify()
    assert not result.ok and any("does not match the raw hash" in p for p in result.problems)


def test_a_damaged_warc_record_is_named_by_verify_and_read_raw_raises_no_traceback_error(store):
    """Each record's gzip member differs (its own record id and date), so the same damage breaks each
    one differently: about one in twenty still inflated to a record without its HTTP headers, which
    verify passed and reading turned into an AttributeError. Forty records, each damaged alike."""
    for n in range(40):
        stored = store.record_check(Citation("1", URL), fetched(b"<p>one %d</p>" % n * 50), text(f"one {n}"), T)
        assert stored.version is not None and stored.version.warc is not None
        path = store.data_dir / stored.version.warc.file
        data = bytearray(path.read_bytes())
        data[stored.version.warc.offset + 30 : stored.version.warc.offset + 60] = b"\xff" * 30
        path.write_bytes(bytes(data))
        where = f"{stored.version.warc.file}:{stored.version.warc.offset}:"
        assert any(where in problem for problem in store.verify().problems)
        with pytest.raises(ValueError, match="cannot be read"):
            store.read_raw(stored.version)
        with pytest.raises(ValueError, match="cannot be read"):
            store.raw_response(stored.version)  # what `archiver lookup --raw` replays


def test_a_store_written_with_raw_files_is_still_read_and_verified(store):
    """Stores written before the WARC record was a body's one copy keep `raw/ab/<sha256>.gz` beside it:
    the raw file is what `read_raw` reads and `verify` checks, with no conversion needed."""
    old = fetched(b"<p>old</p>")
    written = files.write(store.data_dir, old.body, "old", raw_file=True)
    written = replace(written, warc=store.warc.append(old, "archiver/old"))
    stored = store.record_check(Citation("1", URL), old, text("old"), T, written=written)
    assert stored.version is not None and stored.version.raw_path.startswith("raw/")
    assert store.read_raw(stored.version) == b"<p>old</p>" and store.verify().ok
    assert store.raw_location(stored.version) == str(store.data_dir / stored.version.raw_path)
    (store.data_dir / stored.version.raw_path).write_bytes(gzip.compress(b"<p>tampered</p>"))
    result = store.verify()
    assert not result.ok and any("does not match its hash" in p for p in result.problems)


def test_a_store_of_the_release_before_the_browser_is_upgraded_and_its_rows_read_as_http(tmp_path):
    with Store.open(tmp_path / "d") as store:
        store.sync_citations([Citation("1", URL)], T)
        store.record_check(Citation("1", URL), fetched(b"<p>one</p>"), text("one"), T)
        for table, column in [("checks", "fetched_by"), ("checks", "browser_note"), ("checks", "refused")] + [
            ("versions", "fetched_by"),
            ("versions", "screenshot_path"),
        ]:
            store.db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        store.db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm010_browser'")
    with Store.open(tmp_path / "d") as store:
        (version,) = store.versions("1")
        check = store.latest_check("1")
    assert version.fetched_by == FetchedBy.HTTP and version.screenshot_path == ""
    assert check is not None and check.fetched_by == FetchedBy.HTTP and check.browser_note == "" and check.refused == ()


def test_a_read_of_the_sqlite_store_is_one_statement_and_duplicate_column_names_stay_apart(tmp_path):
    """A check reads the store some 25 times; each read is its one statement (sqlite-utils' `query`
    wrapped each in a savepoint and its release: three statements a read, issue 18)."""
    with Store.open(tmp_path / "data") as opened:
        opened.sync_citations([Citation("1", URL, "a claim", "2025-04-28")], T)
        opened.record_check(Citation("1", URL), fetched(b"<p>one</p>"), text("one"), T)
        db = opened.db
        assert isinstance(db, SqliteDatabase)
        statements: list[str] = []
        db.conn.set_trace_callback(statements.append)
        (version,) = opened.versions("1")
        rows = db.query("SELECT v.hash AS id, c.id FROM versions v JOIN citations c ON c.id = v.citation_id")
        db.conn.set_trace_callback(None)
    assert version.title == "Story"
    assert len(statements) == 2 and not any("SAVEPOINT" in s for s in statements)
    assert rows == [{"id": version.hash, "id_2": "1"}]  # as sqlite-utils names them: none lost
