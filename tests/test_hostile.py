"""A hostile web, bad input and crashes: every case ends as a recorded outcome or a clear message,
the rest of the pass goes on, and the store stays whole."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SUBPROCESS_ENV, archiver_cmd, health_of, write_sources
from simweb import LOREM, Response, SimWeb, article

from archiver import Outcome, Store, run_check
from archiver.cli import cli


class RawServer:
    """A socket server on 127.0.0.1 that answers every connection with `behave(conn)`."""

    def __init__(self, behave):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.behave = behave
        self.closed = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn):
        try:
            conn.recv(65536)
            self.behave(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def url(self, path="/"):
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self):
        # shut down first: that wakes the thread blocked in accept(), which closing alone does not; left
        # blocked, it could retry its accept on the reused descriptor number of a later test's server
        # and take that server's connections (test_memento's hung so in CI)
        self.closed = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


def drip(conn):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
    for _ in range(600):
        conn.sendall(b"x")
        time.sleep(0.1)


def endless(conn):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"<p>" + b"spam " * 2000 + b"</p>"
    for _ in range(100_000):
        conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))


def huge_headers(conn):
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Junk: " + b"a" * 300_000 + b"\r\nContent-Length: 2\r\n\r\nhi")


@pytest.fixture
def hostile(web):
    servers = {"drip": RawServer(drip), "endless": RawServer(endless), "headers": RawServer(huge_headers)}
    yield servers
    for server in servers.values():
        server.close()


def test_a_hostile_web_becomes_recorded_outcomes_and_the_pass_goes_on(web, hostile, settings):
    import gzip

    good = web.page("/good", article("A good page", *LOREM))
    latin = web.set(
        "/latin",
        Response(
            200,
            article(
                "Café crème",
                "Le café est très apprécié à Paris, où les terrasses débordent en été comme en hiver.",
                *LOREM,
            ).encode("latin-1", "replace"),
            {"Content-Type": "text/html; charset=utf-8"},
        ),
    )
    pdf = web.set("/paper.pdf", Response(200, b"%PDF-1.7\n" + os.urandom(5000), {"Content-Type": "application/pdf"}))
    binary = web.set("/blob", Response(200, os.urandom(4000), {"Content-Type": "application/octet-stream"}))
    empty = web.set("/empty", Response(200, b"", {"Content-Type": "text/html"}))
    bomb = web.set(
        "/bomb",
        Response(200, gzip.compress(b"\0" * 30_000_000), {"Content-Type": "text/html", "Content-Encoding": "gzip"}),
    )
    web.redirect("/a", "/b")
    web.redirect("/b", "/a")
    other = SimWeb(host="127.0.0.2")
    web.redirect("/to-private", other.url("/admin"))
    rows = [
        ("good", good),
        ("latin", latin),
        ("pdf", pdf),
        ("binary", binary),
        ("empty", empty),
        ("bomb", bomb),
        ("loop", web.url("/a")),
        ("private", web.url("/to-private")),
        ("drip", hostile["drip"].url()),
        ("endless", hostile["endless"].url()),
        ("headers", hostile["headers"].url()),
    ]
    write_sources(settings.sources, [{"id": name, "url": url} for name, url in rows])
    started = time.monotonic()
    try:
        summary = run_check(settings.with_(total_timeout=2.0, max_body_bytes=2_000_000))
    finally:
        other.close()
    assert time.monotonic() - started < 20
    got = {c.citation.id: c for c in summary.checks}
    assert got["good"].outcome == Outcome.OK and got["good"].new_version
    assert got["drip"].outcome == Outcome.TIMEOUT
    assert got["endless"].outcome == Outcome.TOO_LARGE and got["bomb"].outcome == Outcome.TOO_LARGE
    assert got["headers"].outcome in (Outcome.TOO_LARGE, Outcome.PROTOCOL_ERROR)
    assert got["loop"].outcome == Outcome.REDIRECT_LOOP
    assert got["private"].outcome == Outcome.REFUSED_ADDRESS and other.requests == []
    assert got["empty"].outcome == Outcome.OK and not got["empty"].new_version
    with Store.open(settings.data_dir) as store:
        assert "Le café est très apprécié" in store.read_text(store.versions("latin")[0])
        (pdf_version,) = store.versions("pdf")
        assert pdf_version.hash.startswith("raw-") and pdf_version.words == 0  # kept, by its bytes
        assert store.read_raw(pdf_version).startswith(b"%PDF-1.7")
        assert health_of(store, "private")["status"] == "blocked"
        assert health_of(store, "drip")["status"] == "failing" and health_of(store, "drip")["rot"]["kind"] == "timeout"
        assert store.verify().ok


def kill_mid_pass(settings, web, count=30) -> list[str]:
    urls = [
        web.set(
            f"/slow/{i}",
            Response(200, article(f"Slow {i}", *LOREM * 3).encode(), {"Content-Type": "text/html"}, delay=0.3),
        )
        for i in range(count)
    ]
    write_sources(settings.sources, [{"id": str(i), "url": u} for i, u in enumerate(urls, 1)])
    proc = subprocess.Popen(
        archiver_cmd(settings, "check"),
        env=SUBPROCESS_ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = settings.data_dir / "archiver.db"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if db.exists():
            try:
                with sqlite3.connect(db) as conn:
                    if conn.execute("SELECT count(*) FROM checks").fetchone()[0] >= 3:
                        break
            except sqlite3.OperationalError:
                continue
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    return urls


def test_kill_9_mid_pass_then_a_new_pass_loses_and_duplicates_nothing(web, settings):
    kill_mid_pass(settings, web)
    result = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "verify"])
    assert result.exit_code == 0, result.output
    assert "store is consistent" in result.output and "never finished" in result.output
    with Store.open(settings.data_dir) as store:
        before = store.count("versions")
        assert 0 < before < 30
    run_check(settings)  # the store opens and the next pass completes the work
    with Store.open(settings.data_dir) as store:
        assert store.count("versions") == 30  # no version lost, none stored twice
        rows = store.db.execute("SELECT citation_id, count(*) FROM versions GROUP BY citation_id").fetchall()
        assert all(n == 1 for _, n in rows)
        assert store.verify().ok


def test_verify_names_missing_and_tampered_files(web, settings):
    write_sources(
        settings.sources,
        [
            {"id": "1", "url": web.page("/a", article("A", *LOREM))},
            {"id": "2", "url": web.page("/b", article("B", *reversed(LOREM)))},
        ],
    )
    run_check(settings)
    with Store.open(settings.data_dir) as store:
        v1, v2 = store.versions("1")[0], store.versions("2")[0]
    (settings.data_dir / v1.text_path).unlink()
    (settings.data_dir / v2.text_path).write_text("rewritten behind our back")
    (settings.data_dir / "raw" / "ab").mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "raw" / "ab" / "orphan.gz").write_bytes(b"x")
    result = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "verify"])
    assert result.exit_code == 6
    assert f"problem: [1] version {v1.hash[:12]}: {v1.text_path} is missing" in result.output
    assert f"problem: [2] {v2.text_path} does not match its hash" in result.output
    assert "note: orphan file raw/ab/orphan.gz (harmless" in result.output


def test_a_full_disk_is_a_clear_error_and_not_a_corrupt_store(web, settings):
    write_sources(settings.sources, [{"id": "1", "url": web.page("/a", article("A", *LOREM))}])
    run_check(settings)  # the store exists; now the disk "fills up"
    big = [
        web.page(f"/big/{i}", article(f"Big {i}", *(f"{p} {i} {n}" for n in range(300) for p in LOREM[:1])))
        for i in range(12)  # enough writes to pass the limit whatever the size of an empty store
    ]
    write_sources(
        settings.sources,
        [{"id": "1", "url": web.url("/a")}, *({"id": str(i + 2), "url": u} for i, u in enumerate(big))],
    )
    limit = sum(p.stat().st_size for p in settings.data_dir.rglob("*") if p.is_file()) + 60_000

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run(
        archiver_cmd(settings, "check"),
        env=SUBPROCESS_ENV,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=small_disk,
    )
    assert proc.returncode == 4, proc.stderr
    assert "Traceback" not in proc.stderr and "StoreError" in proc.stderr
    result = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "verify"])
    assert result.exit_code == 0, result.output


def test_a_read_only_data_dir_is_a_clear_error(web, settings, monkeypatch):
    write_sources(settings.sources, [{"id": "1", "url": web.page("/a", article("A", *LOREM))}])
    settings.data_dir.mkdir()
    settings.data_dir.chmod(0o555)
    if os.geteuid() == 0:
        # root writes through permissions; only the permission answer can be made up here
        real = os.access
        monkeypatch.setattr(
            os,
            "access",
            lambda path, mode: real(path, mode) and not (Path(path) == settings.data_dir and mode & os.W_OK),
        )
    try:
        result = CliRunner().invoke(
            cli,
            ["--data-dir", str(settings.data_dir), "--sources", str(settings.sources), "check"],
            env={"ARCHIVER_WAYBACK": "0", "ARCHIVER_ALLOW_PRIVATE": "1"},
        )
    finally:
        settings.data_dir.chmod(0o755)
    assert result.exit_code == 4 and "is read-only" in result.output and "Traceback" not in result.output


def test_sources_problems_are_named_and_nothing_is_written(settings):
    settings.sources.write_bytes(b"\xef\xbb\xbfid,url\n1,https://a.example/\n1,https://b.example/\n")
    result = CliRunner().invoke(
        cli, ["--data-dir", str(settings.data_dir), "--sources", str(settings.sources), "check"]
    )
    assert result.exit_code == 3 and ":3: duplicate id '1' (first on line 2)" in result.output
    assert not Path(settings.data_dir).exists()


def _children() -> dict[int, int]:
    """pid -> parent pid of every live (not zombie) process on the machine."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                found[int(entry.name)] = int(fields[1])
    return found


def _descendants(pid: int) -> set[int]:
    parents = _children()
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _busy(pids: set[int], seconds: float = 3.0) -> int:
    """How many of `pids` have used more CPU than `seconds` (more than starting up takes)."""
    busy = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        busy += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") > seconds
    return busy


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to list processes")
def test_kill_9_of_check_leaves_no_worker_and_no_open_stdout(web, settings):
    """Workers busy on a slow extraction, and multiprocessing's resource tracker, die with their
    parent: a supervisor reading the killed run's stdout gets end-of-file, and nothing is left."""
    from test_pipeline import pathological_page

    write_sources(
        settings.sources, [{"id": str(i), "url": web.page(f"/slow/{i}", pathological_page())} for i in range(2)]
    )
    proc = subprocess.Popen(
        archiver_cmd(settings, "check"),
        env={**SUBPROCESS_ENV, "ARCHIVER_WORKERS": "2", "ARCHIVER_EXTRACT_TIMEOUT": "600"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        # two workers, their fork server and the resource tracker, the workers deep in an extraction
        # that takes minutes (the fork server is busy too: its warm-up is seconds of CPU)
        while (len(before := _descendants(proc.pid)) < 3 or _busy(before) < 2) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(before) >= 3 and _busy(before) >= 2, "the workers never got busy"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    eof = threading.Event()
    threading.Thread(target=lambda: (proc.stdout.read(), eof.set()), daemon=True).start()
    try:
        assert eof.wait(15), "something still holds the killed run's stdout open"
        deadline = time.monotonic() + 15
        while (left := before & set(_children())) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not left, f"processes outlived the killed run: {sorted(left)}"
    finally:
        for pid in before & set(_children()):  # never leave a failed run's orphans behind
            os.kill(pid, signal.SIGKILL)
