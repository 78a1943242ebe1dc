"""Shared fixtures: the simulated web, a resolver that keeps every name on loopback, a temp store."""

from __future__ import annotations

import csv
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from simweb import SimWeb

from archiver.config import Settings
from archiver.fetch import DNSFailure
from archiver.report import build_entry
from archiver.store import Store

_real_getaddrinfo = socket.getaddrinfo
# No test starts Chromium unless it asks for the browser: with Chromium installed, the default mode
# (auto, screenshots on) would render every new version of every pass (tests/test_browser_pass.py
# runs passes with the browser).
os.environ["ARCHIVER_BROWSER"] = "never"


def _loopback_only_getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    """No test resolves a real name: one that tried (a setting left at its public default) fails
    at once here instead of sending a DNS query off this machine."""
    name = host.decode() if isinstance(host, bytes) else str(host or "")
    if name in ("", "localhost") or name.startswith("127.") or name == "::1" or name.endswith(".test"):
        return _real_getaddrinfo("127.0.0.1" if name.endswith(".test") else host, *args, **kwargs)
    raise socket.gaierror(socket.EAI_NONAME, f"{name}: not resolved in tests (loopback only)")


@pytest.fixture(autouse=True, scope="session")
def _no_real_dns() -> Iterator[None]:
    socket.getaddrinfo = _loopback_only_getaddrinfo
    yield
    socket.getaddrinfo = _real_getaddrinfo


@pytest.fixture
def web() -> Iterator[SimWeb]:
    server = SimWeb()
    yield server
    server.close()


async def loopback_resolver(host: str, port: int) -> list[str]:
    """Every `*.test` name is 127.0.0.1; any other name does not exist. No real DNS is asked."""
    if host.endswith(".test") or host == "localhost":
        return ["127.0.0.1"]
    raise DNSFailure(f"{host}: Name or service not known (test resolver)")


async def no_network_resolver(host: str, port: int) -> list[str]:
    raise DNSFailure(f"{host}: Temporary failure in name resolution (test resolver)")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a store in a temp dir, allowed to fetch from loopback only."""
    return Settings.load(
        environ={"ARCHIVER_ALLOW_PRIVATE": "127.0.0.1/32", "ARCHIVER_BROWSER": "never"},
        data_dir=tmp_path / "data",
        sources=tmp_path / "sources.csv",
        workers=1,
        total_timeout=10.0,
        connect_timeout=2.0,
        read_timeout=5.0,
        wayback=False,  # archive tests turn it on, against the fake Wayback Machine
        memento_endpoints=(),  # never the public Memento aggregator: tests name loopback endpoints
    )


def health_of(store: Store, citation_id: str) -> dict[str, Any]:
    """A citation's health as the report's JSON contract gives it."""
    citation = store.citation(citation_id)
    assert citation is not None
    return build_entry(store, citation).to_json()


def write_sources(path: Path, rows: list[dict[str, str]]) -> Path:
    fields = list(dict.fromkeys(k for row in rows for k in row)) or ["id", "url"]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


class FakeClock:
    """Time that moves only when a test says so."""

    def __init__(self, start: datetime = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# The environment of an `archiver` subprocess in tests: loopback allowed, one worker, no Wayback.
SUBPROCESS_ENV = {
    **os.environ,
    "ARCHIVER_ALLOW_PRIVATE": "127.0.0.1/32",
    "ARCHIVER_WORKERS": "1",
    "ARCHIVER_WAYBACK": "0",
    "ARCHIVER_MEMENTO_AGGREGATOR": "none",
    "ARCHIVER_BROWSER": "never",
}


def modules_loaded(script: str, data_dir: Path, sources: Path) -> list[str]:
    """Run `script` in a fresh Python on this store (loopback only, no archive, no browser, one
    worker) and return the words it prints: the modules it found loaded, or "-"."""
    environ = {**SUBPROCESS_ENV, "ARCHIVER_DATA_DIR": str(data_dir), "ARCHIVER_SOURCES": str(sources)}
    done = subprocess.run([sys.executable, "-c", script], env=environ, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def archiver_cmd(settings: Settings, *args: str) -> list[str]:
    """The command line of a real `archiver` process on the test store."""
    return [
        sys.executable,
        "-m",
        "archiver",
        "--data-dir",
        str(settings.data_dir),
        "--sources",
        str(settings.sources),
        *args,
    ]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(profile: Path, *args: str) -> list[str]:
    """Headless Chromium that makes no connection of its own (this machine has no network)."""
    assert CHROMIUM is not None
    return [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *args,
    ]
