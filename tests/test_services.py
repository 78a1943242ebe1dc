"""The real PostgreSQL and Redis servers the tests get (issue 22): reachable, and a fresh database per
test, so no test sees another's rows; `.ci/services.sh` stops what it started, even when its owner dies."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import redis

# The fixtures (postgres_url, redis_url, ...) come from tests/services.py, a plugin of its own until
# conftest names it for every test. Its helpers are imported where used, after pytest has loaded it
# (an import here would come first and keep pytest from rewriting its asserts).
pytest_plugins = ["services"]

# Two runs of one test: the second fails if anything the first wrote were still there.
RUNS = ["first", "second"]


@pytest.mark.parametrize("run", RUNS)
def test_each_test_gets_an_empty_postgres_database(postgres_url, run):
    with psycopg.connect(postgres_url, connect_timeout=10) as conn:
        tables = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        assert tables.fetchall() == []
        conn.execute("CREATE TABLE citations (id TEXT PRIMARY KEY, url TEXT NOT NULL)")
        conn.execute("INSERT INTO citations VALUES (%s, %s)", ["1", f"https://example.test/{run}"])
    # committed on leaving the block: another connection sees the row
    with psycopg.connect(postgres_url, connect_timeout=10) as other:
        assert other.execute("SELECT url FROM citations").fetchall() == [(f"https://example.test/{run}",)]


def test_a_test_database_is_dropped_even_with_a_connection_left_open(postgres_server, postgres_template):
    """A test that leaves a connection open (a killed worker, a forgotten pool) does not keep its
    database: the drop ends that connection."""
    from services import fresh_database

    template = urlsplit(postgres_template).path.lstrip("/")
    with fresh_database(postgres_server.url, template) as url:
        left_open = psycopg.connect(url, connect_timeout=10)
        left_open.execute("SELECT 1")
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(postgres_server.url, connect_timeout=10) as admin:
        assert admin.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [name]).fetchone() == (0,)
    with pytest.raises(psycopg.OperationalError):
        left_open.execute("SELECT 1")
    left_open.close()


@pytest.mark.parametrize("run", RUNS)
def test_each_test_gets_an_empty_redis_database(redis_url, run):
    client = redis.Redis.from_url(redis_url, socket_timeout=10)
    assert client.dbsize() == 0
    client.set("marker", run)
    assert redis.Redis.from_url(redis_url, socket_timeout=10).get("marker") == run.encode()


def test_redis_tests_leave_database_zero_alone(redis_server, redis_url):
    """Database 0 of a server named by ARCHIVER_TEST_BROKER_URL is never flushed by the fixtures."""
    from services import with_path

    assert urlsplit(redis_url).path != "/0"
    zero = redis.Redis.from_url(with_path(redis_server.url, "0"), socket_timeout=10)
    mine = redis.Redis.from_url(redis_url, socket_timeout=10)
    mine.set("only-here", "1")
    assert zero.get("only-here") is None


def test_our_servers_listen_on_loopback_and_refuse_a_wrong_password(postgres_server, redis_server):
    for url in (postgres_server.url, redis_server.url):
        assert urlsplit(url).hostname == "127.0.0.1"
    if not (postgres_server.started_in or os.environ.get("ARCHIVER_TEST_SERVICES_DIR")):
        pytest.skip("the servers were named by the environment, not started by .ci/services.sh")
    pg = urlsplit(postgres_server.url)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(f"postgresql://{pg.username}:wrong@127.0.0.1:{pg.port}/postgres", connect_timeout=10).close()
    port = urlsplit(redis_server.url).port
    with pytest.raises(redis.AuthenticationError, match="Authentication required"):  # NOAUTH, as redis-py 8 names it
        # RESP2: the command itself is refused (redis-py 8 would open RESP3 with a HELLO, refused first)
        redis.Redis(host="127.0.0.1", port=port, socket_timeout=10, protocol=2).set("k", "v")


def _services_sh() -> str:
    from services import SERVICES_SH

    return str(SERVICES_SH)


def _start(*args: str) -> dict[str, str]:
    done = subprocess.run(["bash", _services_sh(), "start", *args], capture_output=True, text=True, timeout=120)
    if done.returncode == 3:
        pytest.skip(done.stderr.strip())
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in done.stdout.splitlines())


def _answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=2):
            return True
    except OSError:
        return False


def _until(condition, deadline: float) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_services_sh_stop_ends_both_servers_and_removes_their_data():
    started = _start("postgres", "redis")
    data = Path(started["ARCHIVER_TEST_SERVICES_DIR"])
    urls = [started["ARCHIVER_TEST_DATABASE_URL"], started["ARCHIVER_TEST_BROKER_URL"]]
    assert data.is_dir() and all(_answers(url) for url in urls)
    subprocess.run(["bash", _services_sh(), "stop", str(data)], check=True, timeout=120)
    assert not data.exists()
    assert not any(_answers(url) for url in urls)


def test_services_sh_stops_the_servers_when_their_owner_is_killed():
    """A test run killed before its teardown (SIGKILL, a hard timeout) leaves no server behind."""
    owner = subprocess.Popen(["sleep", "300"])
    try:
        started = _start("redis", "--owner", str(owner.pid))
        data = Path(started["ARCHIVER_TEST_SERVICES_DIR"])
        assert _answers(started["ARCHIVER_TEST_BROKER_URL"])
    finally:
        owner.kill()
        owner.wait(timeout=10)
    assert _until(lambda: not data.exists(), deadline=30), f"{data} still there 30 s after its owner died"
    assert not _answers(started["ARCHIVER_TEST_BROKER_URL"])
