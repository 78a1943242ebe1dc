"""Real PostgreSQL and Redis servers for the tests (issue 22): the `postgres_url` and `redis_url` fixtures.

Where a server comes from, first that applies:
1. ARCHIVER_TEST_DATABASE_URL / ARCHIVER_TEST_BROKER_URL, set by `.ci/run` (through `.ci/services.sh`) or
   by a developer. That server is handed to the tests: they create and drop PostgreSQL databases on it,
   and flush Redis databases 1 and up, so name a server kept for tests, never one holding data.
2. When the server binaries are installed, `.ci/services.sh` starts a private server for this session
   (the same script as CI; as root it runs the server as an unprivileged user), stopped at its end.
3. Otherwise the test is skipped, with what to install.

A server that is named or installed but does not answer fails the test: a broken setup never passes as
skipped. Every test gets a fresh database: PostgreSQL's is created from a session template (`CREATE
DATABASE ... TEMPLATE`, the place to apply migrations once per session) and dropped after the test;
Redis's is a database number of its own, flushed before and after the test.

To use them, import the fixtures into a test module, or name this module in conftest's `pytest_plugins`.
"""

from __future__ import annotations

import itertools
import os
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis
from psycopg import sql

DATABASE_ENV = "ARCHIVER_TEST_DATABASE_URL"
BROKER_ENV = "ARCHIVER_TEST_BROKER_URL"
SERVICES_SH = Path(__file__).resolve().parent.parent / ".ci" / "services.sh"
START_DEADLINE = 120  # seconds for `services.sh start` (each server has 30 s inside it)
CONNECT_TIMEOUT = 10  # seconds


@dataclass(frozen=True)
class Server:
    """A server for this session: its URL (with credentials), and the directory to remove when we started it."""

    url: str
    started_in: str | None = None


def redacted(url: str) -> str:
    """A URL fit for a message: the password replaced by `***`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def with_path(url: str, path: str) -> str:
    """The same server, another database (the URL's path)."""
    return urlunsplit(urlsplit(url)._replace(path="/" + path))


def _start(server: str, env_name: str) -> Server:
    """A private server started by `.ci/services.sh`; skip when its binaries are not installed."""
    try:
        done = subprocess.run(
            ["bash", str(SERVICES_SH), "start", server, "--owner", str(os.getpid())],
            capture_output=True,
            text=True,
            timeout=START_DEADLINE,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{SERVICES_SH} start {server} did not finish in {START_DEADLINE} s")
    if done.returncode == 3:
        pytest.skip(f"{env_name} is not set and {done.stderr.strip().removeprefix('services: ')}")
    if done.returncode != 0:
        pytest.fail(f"{SERVICES_SH} start {server} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    values = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return Server(url=values[env_name], started_in=values["ARCHIVER_TEST_SERVICES_DIR"])


def _stop(server: Server) -> None:
    if server.started_in:
        subprocess.run(["bash", str(SERVICES_SH), "stop", server.started_in], timeout=START_DEADLINE, check=True)


def _admin(url: str) -> psycopg.Connection:
    """An autocommit connection (CREATE and DROP DATABASE cannot run in a transaction)."""
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
    except psycopg.Error as exc:
        pytest.fail(f"cannot connect to PostgreSQL at {redacted(url)}: {exc}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Server]:
    """The PostgreSQL server of this session, as a superuser URL to its maintenance database."""
    given = os.environ.get(DATABASE_ENV)
    server = Server(given) if given else _start("postgres", DATABASE_ENV)
    try:
        with _admin(server.url) as conn:
            conn.execute("SELECT 1")
        yield server
    finally:
        _stop(server)


@pytest.fixture(scope="session")
def postgres_template(postgres_server: Server) -> Iterator[str]:
    """An empty database every test's database is copied from; its name is unique to this session,
    so two runs can share one server. Close every connection to it before a test copies it."""
    name = f"archiver_template_{secrets.token_hex(4)}"
    with _admin(postgres_server.url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    try:
        yield with_path(postgres_server.url, name)
    finally:
        with _admin(postgres_server.url) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def fresh_database(server_url: str, template: str) -> Iterator[str]:
    """A new database copied from `template`, and its URL; dropped on leaving, connections left open too."""
    name = f"archiver_test_{secrets.token_hex(6)}"
    with _admin(server_url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    try:
        yield with_path(server_url, name)
    finally:
        with _admin(server_url) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def postgres_url(postgres_server: Server, postgres_template: str) -> Iterator[str]:
    """The URL of a new database for this test alone, dropped after it."""
    with fresh_database(postgres_server.url, urlsplit(postgres_template).path.lstrip("/")) as url:
        yield url


def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=CONNECT_TIMEOUT, socket_connect_timeout=CONNECT_TIMEOUT)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Server]:
    """The Redis server of this session (its URL names database 0, which the tests leave alone)."""
    given = os.environ.get(BROKER_ENV)
    server = Server(given) if given else _start("redis", BROKER_ENV)
    try:
        try:
            client = _redis(server.url)
            client.ping()
            client.connection_pool.disconnect()
        except redis.RedisError as exc:
            pytest.fail(f"cannot connect to Redis at {redacted(server.url)}: {exc}")
        yield server
    finally:
        _stop(server)


@pytest.fixture(scope="session")
def _redis_databases(redis_server: Server) -> Iterator[int]:
    """Database numbers 1 .. N-1 of the server, in turn (N is its `databases` setting, 16 by default)."""
    client = _redis(redis_server.url)
    count = int(client.config_get("databases")["databases"])
    client.connection_pool.disconnect()
    if count < 2:
        pytest.fail(f"Redis at {redacted(redis_server.url)} has {count} database; the tests need at least 2")
    return itertools.cycle(range(1, count))


@pytest.fixture
def redis_url(redis_server: Server, _redis_databases: Iterator[int]) -> Iterator[str]:
    """The URL of an empty Redis database for this test alone (tests run one at a time: a number is
    reused only after every other one, and flushed again before and after)."""
    url = with_path(redis_server.url, str(next(_redis_databases)))
    client = _redis(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.connection_pool.disconnect()
