"""`archiver daemon` as users run it: a real process, the real scheduler, short intervals, signals."""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import SUBPROCESS_ENV, archiver_cmd, write_sources
from simweb import LOREM, Response, article

from archiver.cadence import Record, due, next_due, parse_duration, retry_delay
from archiver.store import DataDirLock


def start(settings, *args: str) -> subprocess.Popen:
    log = open(settings.data_dir.parent / "daemon.log", "ab")
    return subprocess.Popen(
        archiver_cmd(settings, "daemon", "--jitter", "0", *args), env=SUBPROCESS_ENV, stdout=log, stderr=log
    )


def stop(proc: subprocess.Popen, timeout: float = 15) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=timeout)


def wait_for(condition, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def checks(settings) -> list[tuple[str, str]]:
    db = settings.data_dir / "archiver.db"
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute("SELECT citation_id, checked_at FROM checks ORDER BY id").fetchall()
        except sqlite3.OperationalError:
            return []


def log_text(settings) -> str:
    return (settings.data_dir.parent / "daemon.log").read_text(errors="replace")


def test_daemon_checks_each_citation_repeatedly_and_stops_cleanly(web, settings):
    urls = [web.page(f"/a/{i}", article(f"Story {i}", *LOREM)) for i in range(2)]
    write_sources(settings.sources, [{"id": str(i), "url": u} for i, u in enumerate(urls, 1)])
    proc = start(settings, "--every", "1s", "--tick", "0.2")
    wait_for(lambda: sum(1 for c, _ in checks(settings) if c == "2") >= 3)
    assert stop(proc) == 0
    per = {cid: sum(1 for c, _ in checks(settings) if c == cid) for cid in ("1", "2")}
    assert per["1"] >= 3 and per["2"] >= 3
    text = log_text(settings)
    assert "INFO archiver.daemon: daemon started" in text and "daemon stopped" in text
    assert "check [1] ok 200" in text


def test_a_restarted_daemon_does_not_refetch_what_is_not_due(web, settings):
    url = web.page("/a/story", article("Story", *LOREM))
    write_sources(settings.sources, [{"id": "1", "url": url}])
    proc = start(settings, "--every", "1h", "--tick", "0.2")
    wait_for(lambda: len(checks(settings)) == 1)
    assert stop(proc) == 0
    hits = web.hits("/a/story")
    proc = start(settings, "--every", "1h", "--tick", "0.2")
    time.sleep(2.5)
    assert stop(proc) == 0
    assert web.hits("/a/story") == hits and len(checks(settings)) == 1


def test_a_second_process_is_refused_by_the_lock_and_told_who_holds_it(web, settings):
    url = web.page("/a/story", article("Story", *LOREM))
    write_sources(settings.sources, [{"id": "1", "url": url}])
    proc = start(settings, "--every", "1h", "--tick", "0.2")
    try:
        wait_for(lambda: len(checks(settings)) == 1)
        other = subprocess.run(
            archiver_cmd(settings, "check"),
            env=SUBPROCESS_ENV,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert other.returncode == 75
        assert f"in use by pid {proc.pid} (archiver daemon)" in other.stderr
    finally:
        assert stop(proc) == 0


def test_wait_takes_the_lock_once_it_is_free(web, settings):
    url = web.page("/a/story", article("Story", *LOREM))
    write_sources(settings.sources, [{"id": "1", "url": url}])
    lock = DataDirLock(settings.data_dir, "a test").acquire()
    waiting = subprocess.Popen(
        archiver_cmd(settings, "check", "--wait"),
        env=SUBPROCESS_ENV,
        stdout=subprocess.PIPE,
    )
    time.sleep(1.0)
    assert waiting.poll() is None and checks(settings) == []  # still waiting
    lock.release()
    assert waiting.wait(timeout=30) == 0 and len(checks(settings)) == 1


def test_sigterm_in_the_middle_of_a_pass_leaves_a_consistent_store(web, settings):
    urls = [
        web.set(
            f"/slow/{i}",
            Response(200, article(f"Slow {i}", *LOREM * 3).encode(), {"Content-Type": "text/html"}, delay=0.7),
        )
        for i in range(12)
    ]
    write_sources(settings.sources, [{"id": str(i), "url": u} for i, u in enumerate(urls, 1)])
    proc = start(settings, "--every", "1h", "--tick", "0.2")
    wait_for(lambda: len(checks(settings)) >= 2)
    started = time.monotonic()
    assert stop(proc) == 0
    assert time.monotonic() - started < 10  # within seconds, not at the end of the pass
    done = len(checks(settings))
    assert 2 <= done < 12
    with sqlite3.connect(settings.data_dir / "archiver.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM passes WHERE finished_at IS NULL").fetchone() == (0,)
        files = conn.execute("SELECT text_path, raw_path FROM versions").fetchall()
        assert len(files) == done
        for text_path, raw_path in files:
            assert (settings.data_dir / text_path).exists() and (settings.data_dir / raw_path).exists()
    assert not list(Path(settings.data_dir).rglob(".tmp-*"))


def test_a_failing_citation_is_retried_sooner_then_with_growing_back_off(web, settings):
    good = web.page("/a/good", article("Good", *LOREM))
    bad = web.page("/a/bad", "<h1>Down</h1>", status=503)
    write_sources(settings.sources, [{"id": "1", "url": good}, {"id": "2", "url": bad}])
    proc = start(settings, "--every", "1h", "--retry", "0.4s", "--tick", "0.1")
    wait_for(lambda: sum(1 for c, _ in checks(settings) if c == "2") >= 4, timeout=30)
    assert stop(proc) == 0
    times = [datetime.fromisoformat(t) for c, t in checks(settings) if c == "2"]
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    # each retry waits at least its back-off (0.4 s, 0.8 s, 1.6 s): lower bounds, so a slow pass (the
    # first one starts the extraction worker process) cannot make a correct back-off look wrong
    assert all(gap >= 0.4 * 2**n * 0.9 for n, gap in enumerate(gaps)), gaps
    assert sum(1 for c, _ in checks(settings) if c == "1") == 1  # healthy: once an hour


def test_sources_changes_are_picked_up_without_a_restart(web, settings):
    first = web.page("/a/1", article("One", *LOREM))
    second = web.page("/a/2", article("Two", *LOREM))
    write_sources(settings.sources, [{"id": "1", "url": first}])
    proc = start(settings, "--every", "1s", "--tick", "0.2")
    try:
        wait_for(lambda: len(checks(settings)) >= 1)
        write_sources(settings.sources, [{"id": "2", "url": second}])
        wait_for(lambda: any(c == "2" for c, _ in checks(settings)))
        removed_at = len([c for c, _ in checks(settings) if c == "1"])
        time.sleep(2.0)
        assert len([c for c, _ in checks(settings) if c == "1"]) == removed_at  # no longer scheduled
        settings.sources.write_text("id,url\n3,not a url\n", encoding="utf-8")  # a bad edit: logged, not fatal
        time.sleep(1.0)
        assert proc.poll() is None
    finally:
        assert stop(proc) == 0
    assert "pass skipped: " in log_text(settings) and "sources.csv:2: url 'not a url'" in log_text(settings)


def test_json_logs_are_one_object_per_line(web, settings):
    import json

    url = web.page("/a/story", article("Story", *LOREM))
    write_sources(settings.sources, [{"id": "1", "url": url}])
    log = open(settings.data_dir.parent / "daemon.log", "ab")
    proc = subprocess.Popen(
        archiver_cmd(settings, "--log-format", "json", "daemon", "--every", "1h", "--tick", "0.2"),
        env=SUBPROCESS_ENV,
        stdout=log,
        stderr=log,
    )
    wait_for(lambda: len(checks(settings)) == 1)
    assert stop(proc) == 0
    lines = [json.loads(line) for line in log_text(settings).splitlines() if line.startswith("{")]
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    assert any(line["message"].startswith("check [1] ok") for line in lines)


# --- the cadence, decided from data alone ---------------------------------------------------------------

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


def test_durations():
    assert parse_duration("30m") == timedelta(minutes=30) and parse_duration("1.5h") == timedelta(minutes=90)
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_never_checked_is_due_now_and_healthy_waits_one_interval():
    six = timedelta(hours=6)
    assert next_due("1", Record(None), six, retry_base=timedelta(minutes=30)) is None
    assert not due("1", Record(NOW - timedelta(hours=5)), six, NOW, retry_base=timedelta(minutes=30))
    assert due("1", Record(NOW - timedelta(hours=6)), six, NOW, retry_base=timedelta(minutes=30))


def test_failures_back_off_from_sooner_than_the_interval_to_a_cap():
    six, base = timedelta(hours=6), timedelta(minutes=30)
    delays = [retry_delay(n, six, base) for n in range(1, 8)]
    assert delays[:4] == [timedelta(minutes=30), timedelta(hours=1), timedelta(hours=2), timedelta(hours=4)]
    assert delays[-1] == timedelta(days=1)  # capped: four intervals or a day


def test_jitter_spreads_citations_but_is_stable():
    six, jitter = timedelta(hours=6), timedelta(minutes=10)
    whens = {next_due(str(i), Record(NOW), six, retry_base=six, jitter=jitter) for i in range(50)}
    assert len(whens) > 40 and all(NOW + six <= w <= NOW + six + jitter for w in whens)
    assert next_due("7", Record(NOW), six, retry_base=six, jitter=jitter) == next_due(
        "7", Record(NOW), six, retry_base=six, jitter=jitter
    )


def test_cron_expressions_are_checked_before_the_daemon_starts(settings, web):
    from click.testing import CliRunner

    from archiver.cli import cli
    from archiver.errors import ConfigError
    from archiver.schedule import cron_trigger

    assert cron_trigger("0 */6 * * *", timedelta(0)).get_next_fire_time(None, NOW).hour in (12, 18)
    assert cron_trigger("30 2 * * 1", timedelta(minutes=5)).jitter == 300
    with pytest.raises(ConfigError, match="five fields"):
        cron_trigger("every day", timedelta(minutes=5))
    write_sources(settings.sources, [{"id": "1", "url": web.url("/a")}])
    result = CliRunner().invoke(
        cli,
        [
            "--data-dir",
            str(settings.data_dir),
            "--sources",
            str(settings.sources),
            "daemon",
            "--cron",
            "61 * * * *",
            "--jitter",
            "0",
        ],
    )
    assert result.exit_code == 3 and "--cron '61 * * * *'" in result.output


def test_sigterm_with_fetches_stalled_on_a_slow_server_stops_within_ten_seconds(web, settings):
    stalled = [
        web.set(f"/stall/{i}", Response(200, article("Stalled", *LOREM).encode(), {}, delay=50)) for i in range(3)
    ]
    write_sources(settings.sources, [{"id": str(i), "url": u} for i, u in enumerate(stalled, 1)])
    proc = start(settings, "--every", "1h", "--tick", "0.2")
    wait_for(lambda: sum(web.hits(f"/stall/{i}") for i in range(3)) >= 1)
    time.sleep(0.5)  # the fetches are in flight, waiting for an answer that comes in 50 s
    started = time.monotonic()
    assert stop(proc, timeout=30) == 0
    assert time.monotonic() - started < 10
    assert "daemon stopped" in log_text(settings)


def test_the_daemon_logs_one_summary_line_per_pass(web, settings):
    write_sources(settings.sources, [{"id": "1", "url": web.page("/a", article("Story", *LOREM))}])
    proc = start(settings, "--every", "1s", "--tick", "0.2")
    wait_for(lambda: len(checks(settings)) >= 3)
    assert stop(proc) == 0
    with sqlite3.connect(settings.data_dir / "archiver.db") as conn:
        passes = [row[0] for row in conn.execute("SELECT id FROM passes ORDER BY id")]
    lines = re.findall(r"pass (\d+): 1 checked \(1 ok\); \d+ new version\(s\)", log_text(settings))
    assert [int(n) for n in lines] == passes
