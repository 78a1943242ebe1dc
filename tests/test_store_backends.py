"""What two backends and several writers ask of the store: both build the same schema from one
definition; PostgreSQL migrates once however many workers start at once, opens read-only when asked,
and never shows its password; both keep the same values; and processes writing one store at once never
store a version twice, record a task's check twice, record one change of status twice, or claim one
capture request together."""

from __future__ import annotations

import multiprocessing
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from archiver.detect.health import fold
from archiver.errors import ConfigError, StoreError
from archiver.models import Citation, Extraction, FetchResult, HealthStatus, OutboxState, Outcome
from archiver.store import Store, schema
from archiver.store.db import SqliteDatabase
from archiver.store.postgres import PostgresDatabase

pytest_plugins = ["services"]

T = datetime(2026, 1, 1, 12, tzinfo=UTC)
URL = "https://news.example/world/story"
SQL_TYPES = {"TEXT": "text", "INTEGER": "bigint", "REAL": "double precision"}


def _sqlite_schema(path: Path) -> dict[str, dict[str, object]]:
    db = SqliteDatabase.open(path)
    try:
        tables = [
            r["name"]
            for r in db.query(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'"
            )
        ]
        found: dict[str, dict[str, object]] = {}
        for table in tables:
            info = db.query(f"PRAGMA table_info({table})")
            pk = {r["name"] for r in info if r["pk"]}
            unique = {
                tuple(sorted(c["name"] for c in db.query(f"PRAGMA index_info({i['name']})")))
                for i in db.query(f"PRAGMA index_list({table})")
                if i["unique"] and i["origin"] != "pk"
            }
            found[table] = {
                "columns": {r["name"]: (SQL_TYPES[r["type"]], bool(r["notnull"]) or r["name"] in pk) for r in info},
                "primary key": tuple(sorted(pk)),
                "unique": unique,
            }
        return found
    finally:
        db.close()


def _postgres_schema(url: str) -> dict[str, dict[str, object]]:
    with psycopg.connect(url, connect_timeout=10) as conn:
        found: dict[str, dict[str, object]] = {}
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_name <> 'archiver_migrations'"
        ).fetchall()
        for (table,) in tables:
            columns = conn.execute(
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = %s",
                [table],
            ).fetchall()
            indexes = conn.execute(
                """SELECT ix.indisprimary, array_agg(a.attname::text ORDER BY a.attname)
                   FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid
                   JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(ix.indkey)
                   WHERE t.relname = %s AND ix.indisunique GROUP BY ix.indexrelid, ix.indisprimary""",
                [table],
            ).fetchall()
            found[table] = {
                "columns": {name: (kind, nullable == "NO") for name, kind, nullable in columns},
                "primary key": next((tuple(cols) for primary, cols in indexes if primary), ()),
                "unique": {tuple(cols) for primary, cols in indexes if not primary},
            }
        return found


def test_both_backends_build_the_same_schema_from_one_definition(tmp_path, postgres_url):
    Store.open(tmp_path / "d").close()
    Store.open(tmp_path / "d", database_url=postgres_url).close()
    sqlite, postgres = _sqlite_schema(tmp_path / "d" / "archiver.db"), _postgres_schema(postgres_url)
    assert sqlite == postgres
    assert {"citations", "checks", "versions", "outbox", "dispatches"} <= set(sqlite)


def _open_store(url: str, data_dir: str) -> None:
    Store.open(data_dir, database_url=url).close()


def test_workers_that_start_together_migrate_once(tmp_path, postgres_url):
    ctx = multiprocessing.get_context("spawn")
    starting = [ctx.Process(target=_open_store, args=(postgres_url, str(tmp_path / "d"))) for _ in range(4)]
    for process in starting:
        process.start()
    for process in starting:
        process.join(120)
    assert [p.exitcode for p in starting] == [0, 0, 0, 0]
    with psycopg.connect(postgres_url, connect_timeout=10) as conn:
        applied = [name for (name,) in conn.execute("SELECT name FROM archiver_migrations ORDER BY name")]
    assert applied == [step.name for step in schema.migrations.steps]


def test_a_postgresql_store_opened_read_only_writes_nothing_and_says_what_is_missing(tmp_path, postgres_url):
    with pytest.raises(StoreError, match="no store in postgresql://"):
        Store.open(tmp_path / "d", read_only=True, database_url=postgres_url)
    older = PostgresDatabase.open(postgres_url)  # a store written by the release before the last step
    older.migrate(schema.migrations.steps[:-1])
    older.execute("INSERT INTO citations (id, url, added_at) VALUES ('1', ?, ?)", [URL, T.isoformat()])
    older.close()
    with pytest.raises(StoreError, match="written by an older version"):
        Store.open(tmp_path / "d", read_only=True, database_url=postgres_url)
    Store.open(tmp_path / "d", database_url=postgres_url).close()  # a writing command upgrades it (once)
    with Store.open(tmp_path / "d", read_only=True, database_url=postgres_url) as reader:
        assert [r["id"] for r in reader.db.query("SELECT id FROM citations")] == ["1"]  # the watched URL
        with pytest.raises(StoreError, match="read-only transaction"):
            reader.sync_citations([Citation("2", URL)], T)


def test_a_server_that_cannot_be_reached_is_named_without_its_password(tmp_path, postgres_url):
    wrong = postgres_url.replace("@", "x@", 1)  # the same server, a wrong password
    password = wrong.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    with pytest.raises(StoreError) as caught:
        Store.open(tmp_path / "d", database_url=wrong)
    assert "cannot connect to postgresql://" in str(caught.value) and ":***@" in str(caught.value)
    assert password not in str(caught.value)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_both_backends_keep_the_same_values_a_nul_character_included(tmp_path, request, backend):
    url = "" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    with Store.open(tmp_path / "d", database_url=url) as store:
        store.sync_citations([Citation("1", URL, "a claim with\x00 a NUL")], T)
        body = b"<p>x</p>"
        fetched = FetchResult(URL, Outcome.OK, T, URL, 200, (("Content-Type", "text/html"),), body, error="")
        stored = store.record_check(Citation("1", URL), fetched, Extraction(text="x", title="T\x00itle"), T)
        assert stored.version is not None and store.versions("1")[0].title == "T\ufffditle"
        assert store.citation("1").claim == "a claim with\ufffd a NUL"  # type: ignore[union-attr]
        assert store.checks("1")[0].checked_at == T.isoformat()  # instants: the same ISO text in both


def _fetched(body: bytes) -> FetchResult:
    return FetchResult(URL, Outcome.OK, T, URL, 200, (("Content-Type", "text/html"),), body)


def test_the_same_content_stored_by_two_processes_at_once_is_one_version(tmp_path, postgres_url):
    stores = [Store.open(tmp_path / "d", database_url=postgres_url) for _ in range(2)]
    stores[0].sync_citations([Citation("1", URL)], T)
    barrier = threading.Barrier(2)
    results = []

    def record(store: Store) -> None:
        barrier.wait(10)
        results.append(store.record_check(Citation("1", URL), _fetched(b"<p>one</p>"), Extraction(text="one"), T))

    threads = [threading.Thread(target=record, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 2 and stores[0].count("versions") == 1 and stores[0].count("checks") == 2
    assert sorted(r.check.new_version for r in results) == [False, True]
    assert sum(r.version is not None for r in results) == 1
    for store in stores:
        store.close()


def test_a_task_recorded_twice_leaves_one_check(tmp_path, postgres_url):
    """A redelivered task (its worker died after the commit, before the acknowledgement) records nothing more."""
    with Store.open(tmp_path / "d", database_url=postgres_url) as store:
        store.sync_citations([Citation("1", URL)], T)
        first = store.for_task("task-1", "w1").record_check(
            Citation("1", URL), _fetched(b"<p>a</p>"), Extraction(text="a"), T
        )
        again = store.for_task("task-1", "w2").record_check(
            Citation("1", URL), _fetched(b"<p>b</p>"), Extraction(text="b"), T + timedelta(seconds=5)
        )
        assert again.check == first.check and again.version is None
        assert store.count("checks") == 1 and store.count("versions") == 1  # the second content was not kept
        assert store.db.execute("SELECT worker FROM checks").fetchall() == [("w1",)]


def test_two_writers_record_one_change_of_status(tmp_path, postgres_url):
    stores = [Store.open(tmp_path / "d", database_url=postgres_url) for _ in range(4)]
    citation = Citation("1", URL)
    stores[0].sync_citations([citation], T)
    stores[0].record_check(citation, _fetched(b"<p>a</p>"), Extraction(text="a " * 60), T)
    health = fold(citation, stores[0].checks("1"), stores[0].versions("1"), stores[0].current_version("1"))
    barrier = threading.Barrier(len(stores))
    olds = []

    def save(store: Store) -> None:
        barrier.wait(10)
        olds.append(store.save_health(health, T, "ok"))

    threads = [threading.Thread(target=save, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(olds) == sorted([HealthStatus.UNCHECKED] + [health.status] * 3)
    assert stores[0].db.execute("SELECT old_status, new_status FROM status_changes").fetchall() == [
        ("unchecked", str(health.status))
    ]
    for store in stores:
        store.close()


def test_capture_requests_are_claimed_by_one_claimer_and_a_dead_claimers_come_free(tmp_path, postgres_url):
    first, second = (Store.open(tmp_path / "d", database_url=postgres_url) for _ in range(2))
    for n in range(4):
        first.enqueue_capture("1", URL, f"v{n}", T)
    until = T + timedelta(minutes=10)
    mine = first.claim_submissions(T, "a", until, 2)
    theirs = second.claim_submissions(T, "b", until, 10)
    assert [r.version_hash for r in mine] == ["v0", "v1"] and [r.version_hash for r in theirs] == ["v2", "v3"]
    assert second.claim_submissions(T, "c", until, 10) == []  # all held
    first.save_submission(replace(mine[0], state=OutboxState.DONE), T)  # an answer recorded lets go
    first.release_submissions("a")  # ... and so does the end of a run
    assert [r.version_hash for r in second.claim_submissions(T, "c", until, 10)] == ["v1"]
    second.release_submissions("c")
    # "b" died holding v2 and v3: they come free when its claim runs out
    assert [r.version_hash for r in second.claim_submissions(T + timedelta(minutes=5), "d", until, 10)] == ["v1"]
    second.release_submissions("d")
    later = T + timedelta(minutes=11)
    assert [r.version_hash for r in second.claim_submissions(later, "d", later + timedelta(minutes=10), 10)] == [
        "v1",
        "v2",
        "v3",
    ]
    first.close()
    second.close()


def test_a_claimer_passes_over_a_row_another_is_claiming_without_waiting(tmp_path, postgres_url):
    """`SKIP LOCKED`: a row locked by a transaction still open elsewhere is neither waited for nor shared."""
    with (
        Store.open(tmp_path / "d", database_url=postgres_url) as holder,
        Store.open(tmp_path / "d", database_url=postgres_url) as other,
    ):
        for n in range(2):
            holder.enqueue_capture("1", URL, f"v{n}", T)
        other.db.execute("SET lock_timeout = '2s'")  # were the row waited for, this test would fail, not hang
        with holder.db.transaction():
            holder.db.execute("SELECT id FROM outbox WHERE version_hash = 'v0' FOR UPDATE")
            claimed = other.claim_submissions(T, "b", T + timedelta(minutes=10), 10)
        assert [r.version_hash for r in claimed] == ["v1"]


def test_a_postgres_database_url_without_psycopg_says_what_to_install(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_psycopg(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name == "archiver.store.postgres":
            raise ImportError("No module named 'psycopg'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_psycopg)
    with pytest.raises(ConfigError, match=r"pip install 'citation-archiver\[postgres\]'"):
        schema.open_writable(tmp_path, "postgresql://u:p@127.0.0.1:1/x")
