"""`archiver serve` as a real process: bounded connections, idle ones timed out, a bad
Accept-Datetime answered 400, and a read-only store served (issue 16, items 7, 13 and 14)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from conftest import SUBPROCESS_ENV, archiver_cmd, write_sources
from simweb import LOREM, article

from archiver import run_check


@pytest.fixture
def store(web, settings):
    write_sources(settings.sources, [{"id": "1", "url": web.page("/story", article("Kursk deployment", *LOREM))}])
    run_check(settings)
    return settings


@contextmanager
def serving(settings, *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`archiver serve` on a free port; yields the process and its base URL."""
    proc = subprocess.Popen(
        archiver_cmd(settings, "serve", "--port", "0", *args),
        env=SUBPROCESS_ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stderr.readline() if proc.stderr else ""
        found = re.search(r"at (http://127\.0\.0\.1:\d+)/", line)
        assert found, f"serve did not start: {line}{proc.stderr.read() if proc.stderr else ''}"
        yield proc, found.group(1)
    finally:
        proc.terminate()
        proc.wait(10)


def threads(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^Threads:\s+(\d+)", status, re.M).group(1))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="counts threads through /proc")
def test_500_half_sent_requests_neither_make_500_threads_nor_lock_serve_up(store):
    with serving(store, "--max-connections", "16", "--idle-timeout", "2") as (proc, base):
        port = int(base.rsplit(":", 1)[1])
        sockets = []
        try:
            for _ in range(500):
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line
                sockets.append(s)
            time.sleep(0.5)
            assert threads(proc.pid) <= 16 + 4  # the bound, the accepting thread and Python's own
            busy = httpx.get(f"{base}/api/report", timeout=5)  # answered at once, not queued forever
            assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
            time.sleep(3)  # past the idle timeout, every half-sent request has been dropped
            assert httpx.get(f"{base}/api/report", timeout=5).status_code == 200
            assert threads(proc.pid) <= 4
        finally:
            for s in sockets:
                s.close()


@pytest.mark.parametrize(
    "value",
    [
        "Fri, 31 Dec 9999 23:59:59 -1200",
        "Thu, 01 Jan 1970 00:00:00 +9999",
        "Fri, 31 Dec 99999 23:59:59 GMT",
        "yesterday",
    ],
)
def test_an_accept_datetime_out_of_range_is_a_400_not_a_dropped_connection(store, web, value):
    with serving(store) as (_proc, base):
        url = web.url("/story")
        answer = httpx.get(f"{base}/timegate/{url}", headers={"Accept-Datetime": value}, timeout=5)
        assert answer.status_code == 400 and "is not an RFC 1123 date" in answer.text
        assert httpx.get(f"{base}/timegate/{url}", timeout=5).status_code == 302  # still serving


@contextmanager
def read_only(directory: Path) -> Iterator[Path]:
    """`directory` as a read-only place, for root too: a read-only bind mount (root cannot write
    through it), or the permission bits for anyone else."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        try:
            yield directory
        finally:
            directory.chmod(0o755)
        return
    view = directory.with_name(directory.name + "-read-only")
    view.mkdir()
    mounted = subprocess.run(["mount", "--bind", str(directory), str(view)], capture_output=True).returncode == 0
    if mounted and subprocess.run(["mount", "-o", "remount,ro,bind", str(view)], capture_output=True).returncode:
        subprocess.run(["umount", str(view)], check=True)
        mounted = False
    if not mounted:
        pytest.skip("running as root and no read-only bind mount is allowed here")
    try:
        yield view
    finally:
        subprocess.run(["umount", str(view)], check=True)


def test_read_only_commands_and_serve_work_on_a_read_only_store(store, tmp_path):
    with read_only(store.data_dir) as view:
        with pytest.raises(OSError):
            (view / "probe").write_text("x")  # really read-only, even for root
        ro = store.with_(data_dir=view)

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(archiver_cmd(ro, *args), env=SUBPROCESS_ENV, capture_output=True, text=True)

        report = run("report", "--format", "json")
        assert report.returncode == 0, report.stderr
        assert [c["id"] for c in json.loads(report.stdout)["citations"]] == ["1"]
        lookup = run("lookup", "1")
        assert lookup.returncode == 0 and "versions (1), newest first" in lookup.stdout, lookup.stderr
        verify = run("verify")
        assert verify.returncode == 0 and "store is consistent" in verify.stdout, verify.stderr
        export = run("export", "--warc", str(tmp_path / "deposit.warc.gz"))
        assert export.returncode == 0 and (tmp_path / "deposit.warc.gz").stat().st_size > 0, export.stderr
        check = run("check")
        assert check.returncode == 4 and "StoreError" in check.stderr and "Traceback" not in check.stderr
        with serving(ro) as (_proc, base):
            home = httpx.get(f"{base}/", timeout=10)
            assert home.status_code == 200 and "Kursk deployment" in home.text
            assert httpx.get(f"{base}/api/citations/1", timeout=10).json()["id"] == "1"
        assert sorted(p.name for p in view.iterdir()) == sorted(p.name for p in store.data_dir.iterdir())


def test_serve_refuses_a_store_it_cannot_read_at_start(settings):
    settings.data_dir.mkdir()
    (settings.data_dir / "archiver.db").write_bytes(b"this is not a database" * 100)
    proc = subprocess.run(
        archiver_cmd(settings, "serve", "--port", "0"), env=SUBPROCESS_ENV, capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 4 and "cannot open the store" in proc.stderr and "Traceback" not in proc.stderr
