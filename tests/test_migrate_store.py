"""`archiver migrate-store --to postgresql://…`: a store written by real passes (versions, redirects,
health, captures and the outbox) copied into PostgreSQL reads back the same through every command,
goes on from there, and is checked by `verify` on both sides; a store already there, a damaged
source or a wrong URL are refused with nothing written, and no message shows a password."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import psycopg
import pytest
from click.testing import CliRunner
from conftest import write_sources
from fakewayback import FakeWayback
from simweb import LOREM, article

from archiver.cli import cli
from archiver.pipeline import run_check
from archiver.store import Store

pytest_plugins = ["services"]


@pytest.fixture
def wayback():
    fake = FakeWayback()
    yield fake
    fake.close()


@pytest.fixture
def written(web, wayback, settings):
    """A SQLite store after two passes over three citations: versions, a redirect, a 404, captures."""
    settings = settings.with_(
        wayback=True,
        wayback_url=wayback.base.rstrip("/"),
        archive_url=wayback.base.rstrip("/"),
        wayback_interval=0.0,
        wayback_poll_seconds=0.01,
    )
    first = web.page("/a", article("Kursk", *LOREM))
    moved = web.redirect("/old", web.page("/b", article("Troops", *LOREM[1:])))
    gone = web.url("/gone")
    write_sources(settings.sources, [{"id": "1", "url": first}, {"id": "2", "url": moved}, {"id": "3", "url": gone}])
    run_check(settings)
    web.page("/a", article("Kursk", *LOREM[:2], "A correction was appended to this article."))
    run_check(settings)
    return settings


def invoke(settings, *args, database_url=""):
    env = {"ARCHIVER_WAYBACK": "0", "ARCHIVER_DATABASE_URL": database_url}
    return CliRunner().invoke(
        cli, ["--data-dir", str(settings.data_dir), "--sources", str(settings.sources), *args], env=env
    )


def report(settings, database_url=""):
    done = invoke(settings, "report", "--format", "json", database_url=database_url)
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    data.pop("generated_at")
    return data


def test_a_store_copied_into_postgresql_reads_back_the_same_and_goes_on(written, postgres_url, web):
    done = invoke(written, "migrate-store", "--to", postgres_url)
    assert done.exit_code == 0, done.output
    for table in ("citations", "passes", "checks", "versions", "health", "status_changes", "outbox", "captures"):
        assert any(line.split()[:1] == [table] and line.rstrip().endswith("yes") for line in done.output.splitlines())
    assert "NO" not in done.output and "0 problem(s), copy 0 problem(s)" in done.output
    assert report(written, postgres_url) == report(written)
    for args in (["lookup", "1"], ["lookup", "2", "--text"]):
        assert invoke(written, *args, database_url=postgres_url).output == invoke(written, *args).output
    assert invoke(written, "verify", database_url=postgres_url).exit_code == 0
    # and the PostgreSQL store goes on where the copy left it: new rows get new ids
    summary = run_check(written.with_(database_url=postgres_url, wayback=False))
    assert len(summary.checks) == 3
    with Store.open(written.data_dir, database_url=postgres_url) as store:
        assert len(store.checks("1")) == 3 and store.count("passes") == 3


def test_a_database_that_holds_a_store_already_is_refused_and_left_as_it_was(written, postgres_url):
    assert invoke(written, "migrate-store", "--to", postgres_url).exit_code == 0
    with psycopg.connect(postgres_url, connect_timeout=10) as conn:
        before = conn.execute("SELECT count(*) FROM checks").fetchone()
    again = invoke(written, "migrate-store", "--to", postgres_url)
    assert again.exit_code == 4 and "already holds a store" in again.output and "empty database only" in again.output
    with psycopg.connect(postgres_url, connect_timeout=10) as conn:
        assert conn.execute("SELECT count(*) FROM checks").fetchone() == before


def test_a_damaged_store_is_not_copied(written, postgres_url):
    with Store.open(written.data_dir) as store:
        version = store.versions("1")[0]
    (written.data_dir / version.text_path).unlink()
    done = invoke(written, "migrate-store", "--to", postgres_url)
    assert done.exit_code == 6 and "is missing" in done.output and "fix them" in done.output
    with psycopg.connect(postgres_url, connect_timeout=10) as conn:  # nothing made there
        tables = conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        assert tables.fetchone() == (0,)


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("mysql://me:s3cret-pw@127.0.0.1/db", "must be a postgresql:// or postgres:// URL"),
        ("postgresql://me:s3cret-pw@127.0.0.1:99999/db", "is not a URL"),
    ],
)
def test_a_wrong_target_url_is_named_without_its_password(written, url, said):
    done = invoke(written, "migrate-store", "--to", url)
    assert done.exit_code == 3 and said in done.output and "s3cret-pw" not in done.output


def test_an_unreachable_server_is_a_store_error_without_its_password(written, postgres_url):
    wrong = postgres_url.replace("@", "nope@", 1)
    done = invoke(written, "migrate-store", "--to", wrong)
    assert done.exit_code == 4 and "cannot connect to postgresql://" in done.output
    assert wrong.split("@", 1)[0].rsplit(":", 1)[1] not in done.output


def test_instants_are_copied_as_written(written, postgres_url):
    """The same ISO-8601 UTC text in both: a check's time reads back exactly as it was recorded."""
    invoke(written, "migrate-store", "--to", postgres_url)
    with Store.open(written.data_dir) as sqlite, Store.open(written.data_dir, database_url=postgres_url) as pg:
        assert [c.checked_at for c in pg.checks("1")] == [c.checked_at for c in sqlite.checks("1")]
        assert datetime.fromisoformat(pg.checks("1")[0].checked_at).tzinfo == UTC
