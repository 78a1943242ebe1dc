"""Nothing the archives do can hang a run or fill memory: a dead archive is found once and left for the
next run, a dripping one is cut off per request, an endless answer stops at the cap, and the whole
archiving step keeps to its budget. Real servers on 127.0.0.1, each misbehaving on purpose."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from conftest import health_of, write_sources
from fakewayback import FakeWayback
from simweb import LOREM, Response, article

from archiver import Store, run_check
from archiver.archive.session import API_MAX_BYTES, ArchiveSession
from archiver.archive.wayback import WaybackClient
from archiver.cli import cli


class Misbehaving:
    """A raw HTTP server: answers every request with `head`, then `body_chunk` every `pause` seconds
    for as long as the client listens (or until `limit` chunks)."""

    def __init__(self, head: bytes, body_chunk: bytes, pause: float, limit: int = 10**9) -> None:
        self.head, self.chunk, self.pause, self.limit = head, body_chunk, pause, limit
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            conn.sendall(self.head)
            for _ in range(self.limit):
                if self._stop.is_set():
                    break
                conn.sendall(self.chunk)
                if self.pause:
                    time.sleep(self.pause)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self.sock.close()


@pytest.fixture
def drip() -> Iterator[Misbehaving]:
    server = Misbehaving(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n", b" ", 1.0)
    yield server
    server.close()


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def archive_settings(settings, base: str, **kw):
    return settings.with_(
        wayback=True, wayback_url=base, archive_url=base, wayback_interval=0.0, wayback_poll_seconds=0.01, **kw
    )


def pages(web, n: int) -> list[str]:
    return [web.page(f"/world/story-{i}", article(f"Story {i}", *LOREM)) for i in range(n)]


@pytest.mark.parametrize("base", [closed_port(), "http://wayback.invalid"], ids=["refused", "unknown name"])
def test_an_unreachable_archive_is_said_once_and_the_outbox_left_for_the_next_run(web, settings, base):
    """Issue 16, 1: the Internet Archive offline for weeks must not stall `check`."""
    urls = pages(web, 12)
    write_sources(settings.sources, [{"id": str(i), "url": u} for i, u in enumerate(urls, 1)])
    started = time.monotonic()
    result = CliRunner().invoke(
        cli,
        ["--data-dir", str(settings.data_dir), "--sources", str(settings.sources), "check"],
        env={
            "ARCHIVER_WAYBACK": "1",
            "ARCHIVER_WAYBACK_URL": base,
            "ARCHIVER_ALLOW_PRIVATE": "127.0.0.1/32",
            "ARCHIVER_WORKERS": "1",
            "ARCHIVER_WAYBACK_INTERVAL": "0",
        },
    )
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 30  # the pages' own pass included
    assert result.output.count("is unreachable") == 1  # said once, on stderr
    assert "12 submission(s) left for the next run" in result.output
    assert f"12 pending; 0 verified, 0 not offered; unreachable: {base}" in result.output
    with Store.open(settings.data_dir) as store:
        rows = store.outbox()
    assert len(rows) == 12 and all(r.state == "queued" and r.attempts == 0 for r in rows)


def test_an_archive_that_drips_a_byte_a_second_is_cut_off_per_request(web, settings, drip):
    """Issue 16, 2: every archive request has a total deadline, whatever the other side sends."""
    urls = pages(web, 3)
    write_sources(settings.sources, [{"id": str(i), "url": u} for i, u in enumerate(urls, 1)])
    run_check(settings)
    started = time.monotonic()
    with Store.open(settings.data_dir) as store:
        from archiver.archive.step import run_archive
        from archiver.models import Citation

        summary = run_archive(
            archive_settings(settings, drip.base, wayback_timeout=1.0),
            [Citation(str(i), u) for i, u in enumerate(urls, 1)],
            store,
        )
    elapsed = time.monotonic() - started
    assert elapsed < 6  # three requests of 1 s, then the archive counts as down
    assert summary.unreachable and "within 1s" in summary.unreachable[0]
    result = CliRunner().invoke(
        cli,
        ["--data-dir", str(settings.data_dir), "lookup", "https://unwatched.example/page"],
        env={"ARCHIVER_WAYBACK_URL": drip.base, "ARCHIVER_WAYBACK_TIMEOUT": "1"},
    )
    assert result.exit_code == 5 and "could be asked" in result.output and "Traceback" not in result.output


def test_an_endless_cdx_answer_stops_at_the_cap():
    """Issue 16, 3: a CDX answer that never ends grew to 2.9 GB; it is cut at the cap."""
    line = b"com,example)/ 20200101000000 https://example.com/ text/html 200 ABCDEFGHIJKLMNOPQRSTUVWXYZ234567 1234\n"
    server = Misbehaving(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", line * 2000, 0.0)
    try:
        from archiver.config import Settings

        settings = Settings.load(environ={}, wayback_url=server.base, archive_url=server.base, memento_endpoints=())

        async def ask():
            async with ArchiveSession(settings.archive_settings) as session:
                return await WaybackClient(settings.archive_settings, session).captures("https://example.com/")

        started = time.monotonic()
        captures = asyncio.run(ask())
    finally:
        server.close()
    assert captures is not None and 0 < len(captures) <= API_MAX_BYTES // len(line) + 1
    assert time.monotonic() - started < 20


def test_the_archiving_step_keeps_to_its_budget(web, settings, caplog):
    """Issue 16, 1: a slow but living archive cannot keep `check` going past ARCHIVER_ARCHIVE_BUDGET."""
    urls = pages(web, 10)
    fake = FakeWayback()
    fake.stall = 0.4  # every answer takes 0.4 s: within the request deadline, but they add up
    try:
        write_sources(settings.sources, [{"id": str(i), "url": u} for i, u in enumerate(urls, 1)])
        started = time.monotonic()
        summary = run_check(
            archive_settings(
                settings, fake.base.rstrip("/"), archive_budget=1.5, wayback_timeout=5, ia_access="A", ia_secret="S"
            )
        )
        elapsed = time.monotonic() - started
        submitted = len(fake.submissions())
    finally:
        fake.close()
    assert submitted >= 1  # the look-ups stopped at half the budget: submissions had their turn
    assert summary.archive is not None and summary.archive.budget_spent
    assert "used its 1.5 s budget" in caplog.text
    assert elapsed < 15
    with Store.open(settings.data_dir) as store:
        assert store.count("checks") == 10  # the pass itself was complete; only archiving waits
        assert len(store.outbox()) == 10  # and the outbox says what is owed, for the next run


def test_dead_pages_are_never_submitted(web, settings):
    """Issue 14, 7: a soft 404, a redirect home or a parked page makes a useless capture."""
    fake = FakeWayback()
    soft = web.page(
        "/world/gone",
        "<html><head><title>Page not found</title></head><body><h1>Sorry, the page you are looking for "
        "could not be found.</h1><p>Try the search box or go back to the home page.</p></body></html>",
    )
    home = web.page("/", article("Front page", *LOREM))
    moved_home = web.redirect("/world/moved", home)
    alive = web.page("/world/story", article("Kursk", *LOREM))
    try:
        write_sources(
            settings.sources,
            [{"id": "1", "url": soft}, {"id": "2", "url": moved_home}, {"id": "3", "url": alive}],
        )
        run_check(archive_settings(settings, fake.base.rstrip("/"), ia_access="A", ia_secret="S"))
    finally:
        fake.close()
    with Store.open(settings.data_dir) as store:
        assert [r.watched_id for r in store.outbox()] == ["3"]
        assert health_of(store, "1")["status"] == "rotten" and health_of(store, "2")["status"] == "rotten"
    assert [parse(s.body) for s in fake.submissions()] == [alive]


def parse(body: bytes) -> str:
    from urllib.parse import parse_qs

    return parse_qs(body.decode())["url"][0]


def test_a_queued_capture_of_a_page_that_died_meanwhile_is_held(web, settings):
    url = web.page("/world/story", article("Kursk", *LOREM))
    write_sources(settings.sources, [{"id": "1", "url": url}])
    run_check(archive_settings(settings, closed_port()))  # the archive is down: the capture waits, queued
    web.page(
        url, "<html><head><title>404 Not Found</title></head><body><h1>Page not found</h1></body></html>", status=404
    )
    fake = FakeWayback()
    try:
        run_check(archive_settings(settings, fake.base.rstrip("/"), ia_access="A", ia_secret="S"))
    finally:
        fake.close()
    assert fake.submissions() == []
    with Store.open(settings.data_dir) as store:
        (row,) = store.outbox()
    assert row.state == "queued" and row.reason.startswith("not submitted: the page now reads as not_found")


def test_the_summary_says_what_waits(web, settings):
    web.set("/x", Response(200, b""))
    result = CliRunner().invoke(
        cli,
        ["--data-dir", str(settings.data_dir), "--sources", str(settings.sources), "archive"],
        env={"ARCHIVER_WAYBACK_URL": closed_port()},
    )
    write_sources(settings.sources, [{"id": "1", "url": web.url("/x")}])
    result = CliRunner().invoke(
        cli,
        ["--data-dir", str(settings.data_dir), "--sources", str(settings.sources), "archive"],
        env={"ARCHIVER_WAYBACK_URL": closed_port()},
    )
    assert result.exit_code == 0, result.output
    assert "wayback:" in result.output


def test_an_archive_that_redirects_forever_is_followed_five_times_and_the_capture_not_offered(web, settings):
    """Redirects inside the archive are bounded; a capture that never lands is judged, not retried."""
    from datetime import UTC, datetime

    from simweb import SimWeb

    from archiver.archive.step import run_archive
    from archiver.models import Citation
    from archiver.models.rows import Capture

    url = web.page("/world/story", article("Kursk", *LOREM))
    write_sources(settings.sources, [{"id": "1", "url": url}])
    run_check(settings)
    archive = SimWeb()

    def found_capture_at(seen):  # "found capture at" one second later, again and again
        stamp = int(seen.path.split("/")[2][:14]) + 1
        return Response(302, b"", {"Location": f"https://web.archive.org/web/{stamp}id_/{url}"})

    archive.fallback = found_capture_at
    try:
        with Store.open(settings.data_dir) as store:
            now = datetime.now(UTC)
            store.add_captures("1", [Capture("20250101000000", url)], "cdx", now)
            store.mark_looked_up("1", "cdx", now)
            run_archive(archive_settings(settings, archive.url("").rstrip("/")), [Citation("1", url)], store)
            (capture,) = store.captures("1")
    finally:
        archive.close()
    assert len([r for r in archive.requests if r.path.startswith("/web/")]) == 6
    assert capture.verified == 0 and capture.verify_note == "more than 5 redirects inside the archive"
