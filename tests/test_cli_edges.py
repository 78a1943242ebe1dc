"""The command line's rough edges, each seen on a fresh clone: option conflicts refused, global
options after the command, exit statuses, `lookup`'s times, dates and diff headers, the table as
checks complete and the progress count, `--help` that cuts nothing, `import` that never writes a
list `check` refuses."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import time

import pytest
from click.testing import CliRunner
from conftest import SUBPROCESS_ENV, archiver_cmd, write_sources
from simweb import LOREM, Response, article

from archiver import run_check
from archiver.cli import cli


def invoke(settings, *args):
    env = {"ARCHIVER_ALLOW_PRIVATE": "127.0.0.1/32", "ARCHIVER_WORKERS": "1", "ARCHIVER_WAYBACK": "0"}
    return CliRunner().invoke(
        cli, ["--data-dir", str(settings.data_dir), "--sources", str(settings.sources), *args], env=env
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--every", "6h", "--cron", "0 * * * *"], "--every 6h and --cron '0 * * * *' both given"),
        (["--every", "1h", "--jitter", "2h"], "--jitter 2h is longer than --every 1h"),
    ],
)
def test_daemon_refuses_options_it_would_silently_ignore_or_stretch(web, settings, args, message):
    write_sources(settings.sources, [{"id": "1", "url": web.url("/a")}])
    result = invoke(settings, "daemon", *args)
    assert result.exit_code == 3 and message in result.output, result.output


def test_global_options_are_accepted_after_the_command_too(web, settings):
    write_sources(settings.sources, [{"id": "1", "url": web.page("/a", article("Story", *LOREM))}])
    result = invoke(settings, "check", "--quiet")
    assert result.exit_code == 0, result.output
    assert "id  " not in result.output and "pass " not in result.output  # quiet: no table, no tally
    other = settings.data_dir.parent / "elsewhere"
    result = CliRunner().invoke(cli, ["--sources", str(settings.sources), "verify", "--data-dir", str(other)])
    assert result.exit_code == 4 and f"no store in {other}" in result.output


def test_usage_errors_exit_2_and_bad_input_exits_3(web, settings):
    write_sources(settings.sources, [{"id": "1", "url": web.url("/a")}])
    usage = invoke(settings, "check", "--no-such-option")
    assert usage.exit_code == 2 and "No such option" in usage.output
    bad = invoke(settings, "serve", "--port", "99999")
    assert bad.exit_code == 3 and "--port 99999: must be a port number from 0" in bad.output
    assert "Traceback" not in bad.output


def test_lookup_times_to_the_second_a_bare_date_is_the_end_of_that_day_and_diff_names_versions(web, settings, clock):
    url = web.page("/story", article("Kursk deployment", *LOREM))
    write_sources(settings.sources, [{"id": "1", "url": url}])
    run_check(settings, clock=clock)  # 2026-01-01 12:00:00
    clock.advance(seconds=20)
    web.page(url, article("Kursk deployment", LOREM[0].replace("15,000", "12,000"), *LOREM[1:]))
    run_check(settings, clock=clock)  # the same minute, 20 s later
    listing = invoke(settings, "lookup", "1")
    assert listing.exit_code == 0, listing.output
    assert "2026-01-01T12:00:00" in listing.output and "2026-01-01T12:00:20" in listing.output
    at = invoke(settings, "lookup", "1", "--at", "2026-01-01")
    assert "<- in force at that date" in at.output
    marked = next(line for line in at.output.splitlines() if "in force" in line)
    assert marked.strip().startswith("1. 2026-01-01T12:00:20")  # the newest of that day, not none
    diff = invoke(settings, "lookup", "1", "--diff")
    assert diff.exit_code == 0, diff.output
    head = diff.output.splitlines()[:2]
    assert re.match(r"--- version 2 [0-9a-f]{12} 2026-01-01T12:00:00", head[0]), head
    assert re.match(r"\+\+\+ version 1 [0-9a-f]{12} 2026-01-01T12:00:20", head[1]), head


def test_the_check_table_shows_each_row_as_its_check_completes(web, settings):
    fast = web.page("/fast", article("Fast", *LOREM))
    slow = web.set("/slow", Response(200, article("Slow", *LOREM).encode(), {}, delay=6))
    write_sources(settings.sources, [{"id": "1", "url": fast}, {"id": "2", "url": slow}])
    proc = subprocess.Popen(
        archiver_cmd(settings, "check", "--no-wayback"),
        env=SUBPROCESS_ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        seen = [proc.stdout.readline() for _ in range(3)]
        assert seen[2].split()[:3] == ["1", "ok", "200"]
        assert proc.poll() is None  # the fast row is out while the slow check is still in flight
    finally:
        proc.wait(timeout=60)


def test_the_progress_bar_shows_how_many_of_how_many(web, settings):
    urls = [web.page(f"/p/{i}", article(f"Story {i}", *LOREM)) for i in range(3)]
    write_sources(settings.sources, [{"id": str(i), "url": u} for i, u in enumerate(urls, 1)])
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        archiver_cmd(settings, "check", "--no-wayback"),
        env={**SUBPROCESS_ENV, "COLUMNS": "120"},
        stdout=subprocess.DEVNULL,
        stderr=follower,
    )
    os.close(follower)
    out = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    proc.wait(timeout=30)
    os.close(leader)
    assert proc.returncode == 0
    assert b"3/3" in out, out[-400:]


def test_help_cuts_no_summary_and_documents_every_option(settings):
    commands = invoke(settings, "--help").output.split("Commands:")[1]
    assert "..." not in commands and "…" not in commands
    assert "Record an editor's decision on citation ID" in commands
    assert "V1 V2" in invoke(settings, "lookup", "--help").output
    assert "--raw" in invoke(settings, "lookup", "--help").output
    assert "Port to listen on" in invoke(settings, "serve", "--help").output
    assert "Seconds between looks for due citations" in invoke(settings, "daemon", "--help").output


def test_import_never_writes_a_list_that_check_refuses(web, settings, tmp_path):
    good = web.page("/good", article("Good", *LOREM))
    broken = good.replace("http://", "htp://")
    mangled = good.replace("http://", "http//").replace("/good", "/other")
    story = tmp_path / "story.md"
    story.write_text(f"# Story\n\nOne [source]({good}), one [typo]({broken}) and [another]({mangled}).\n")
    result = CliRunner().invoke(cli, ["--sources", str(settings.sources), "import", str(story)])
    assert result.exit_code == 0, result.output
    assert f"URL {broken!r} is not an absolute http:// or https:// URL" in result.output
    assert f"did you mean {good!r}?" in result.output and "left out" in result.output
    written = settings.sources.read_text()
    assert good in written and broken not in written and mangled not in written
    check = invoke(settings, "check", "--no-wayback")
    assert check.exit_code == 0, check.output
