"""Several processes writing WARC files into one data directory (workers sharing a PostgreSQL store):
each appends to files of its own, and the tail repair cuts only what a dead writer left, never the
last exchange of a live one, which may be on its way to the store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime

import pytest

from archiver.errors import ConfigError, StoreError
from archiver.models import FetchResult, Outcome
from archiver.store.warc import WarcLog, writer_of
from archiver.store.warc_format import first_record_end

T = datetime(2026, 1, 1, 12, tzinfo=UTC)


def nothing_stored() -> dict[str, int | None]:
    """No version points anywhere: every exchange is a tail."""
    return {}


def exchange(n: int) -> FetchResult:
    body = f"<html><body><p>page {n}</p></body></html>".encode()
    return FetchResult(
        f"http://a.test/{n}", Outcome.OK, T, f"http://a.test/{n}", 200, (("Content-Type", "text/html"),), body
    )


def test_each_writer_appends_to_files_of_its_own(tmp_path):
    mine, theirs = (WarcLog(tmp_path, nothing_stored, writer=w) for w in ("w1", "w2"))
    single = WarcLog(tmp_path / "single", nothing_stored)
    try:
        assert mine.append(exchange(1), "ua").file == "warc/2026-01-01.w1.warc.gz"
        assert theirs.append(exchange(2), "ua").file == "warc/2026-01-01.w2.warc.gz"
        assert single.append(exchange(3), "ua").file == "warc/2026-01-01.warc.gz"  # as every release named it
    finally:
        mine.close()
        theirs.close()
    assert [writer_of(n) for n in ("2026-01-01.w1.warc.gz", "2026-01-01-2.w1.warc.gz", "2026-01-01-2.warc.gz")] == [
        "w1",
        "w1",
        "",
    ]
    with pytest.raises(ConfigError, match="cannot name a WARC writer"):
        WarcLog(tmp_path, nothing_stored, writer="../etc")


WRITER = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime
    from archiver.models import FetchResult, Outcome
    from archiver.store.warc import WarcLog
    log = WarcLog(__import__("pathlib").Path(sys.argv[1]), dict, writer="w1")
    t = datetime(2026, 1, 1, 12, tzinfo=UTC)
    log.append(FetchResult("http://a.test/x", Outcome.OK, t, "http://a.test/x", 200, (), b"<p>x</p>"), "ua")
    print("appended", flush=True)
    time.sleep(300)
    """
)


def test_a_live_writers_tail_is_left_alone_and_a_dead_ones_is_cut(tmp_path):
    """Writer w1 appended an exchange its store has not committed yet: while w1 lives, no other writer
    touches it; once w1 is killed (kill -9), the next writer to start cuts it."""
    live = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert live.stdout is not None and live.stdout.readline().strip() == "appended"
        theirs = tmp_path / "warc" / "2026-01-01.w1.warc.gz"
        written = theirs.stat().st_size
        other = WarcLog(tmp_path, nothing_stored, writer="w2")
        other.append(exchange(2), "ua")
        other.close()
        assert theirs.stat().st_size == written  # w1 lives: its last exchange may yet be committed
    finally:
        os.kill(live.pid, signal.SIGKILL)
        live.wait(10)
    later = WarcLog(tmp_path, nothing_stored, writer="w3")
    later.append(exchange(3), "ua")
    later.close()
    # w1 died: what no version points to is cut, its warcinfo record stays; w2 is gone too (closed)
    for gone in (theirs, tmp_path / "warc" / "2026-01-01.w2.warc.gz"):
        assert gone.stat().st_size == first_record_end(gone) < written
    mine = tmp_path / "warc" / "2026-01-01.w3.warc.gz"
    assert mine.stat().st_size > first_record_end(mine)  # its own exchange, the store's to commit


def test_two_processes_cannot_write_as_one_writer(tmp_path, monkeypatch):
    live = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert live.stdout is not None and live.stdout.readline().strip() == "appended"
        monkeypatch.setattr("archiver.store.warc.HOLD_DEADLINE", 0.5)
        same = WarcLog(tmp_path, nothing_stored, writer="w1")
        with pytest.raises(StoreError, match="another process writes WARC files as 'w1'"):
            same.append(exchange(2), "ua")
    finally:
        os.kill(live.pid, signal.SIGKILL)
        live.wait(10)
