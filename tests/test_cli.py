"""The CLI: a thin layer that prints a summary, names user mistakes and exits with a clear status."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SUBPROCESS_ENV, archiver_cmd, modules_loaded, write_sources
from simweb import LOREM, article

from archiver import Store
from archiver.cli import cli


def invoke(settings, *args, env=None):
    env = {"ARCHIVER_ALLOW_PRIVATE": "127.0.0.1/32", "ARCHIVER_WORKERS": "1", "ARCHIVER_WAYBACK": "0", **(env or {})}
    return CliRunner().invoke(
        cli, ["--data-dir", str(settings.data_dir), "--sources", str(settings.sources), *args], env=env
    )


def test_check_prints_a_summary_table(web, settings):
    url = web.page("/story", article("Kursk deployment confirmed", *LOREM))
    write_sources(settings.sources, [{"id": "1", "url": url}, {"id": "2", "url": web.url("/nope")}])
    result = invoke(settings, "check")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["id", "outcome", "http", "verdict", "new", "title", "/", "error", "url"]
    rows = {line.split()[0]: line for line in lines[2:4]}  # in the order the checks completed
    assert rows["1"].split()[:5] == ["1", "ok", "200", "ok", "yes"] and "Kursk deployment confirmed" in rows["1"]
    assert rows["2"].split()[:5] == ["2", "http_error", "404", "rotten:", "not"]
    assert "2 checked (1 ok, 1 rotten); 1 new version(s)" in result.output


def test_check_loads_what_checking_needs_not_every_command(web, settings):
    """Each command's module loads when it runs: `archiver check` carries neither the scheduler, the
    article formats, the web app nor the extraction (its workers do), so its process stays small."""
    url = web.page("/story", article("Kursk deployment confirmed", *LOREM))
    write_sources(settings.sources, [{"id": "1", "url": url}])
    script = (
        "import sys\n"
        "from archiver.cli import main\n"
        "try:\n"
        "    main(['--quiet', 'check'])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "heavy = ('apscheduler', 'mwparserfromhell', 'archiver.serve', 'archiver.annotating', 'trafilatura')\n"
        "print(' '.join(m for m in heavy if m in sys.modules) or '-')\n"
    )
    assert modules_loaded(script, settings.data_dir, settings.sources) == ["-"]
    with Store.open(settings.data_dir) as store:
        assert store.count("versions") == 1


def test_every_command_is_listed_where_the_cli_finds_its_module():
    from archiver.cli import app, article, read, review, scale, watch  # noqa: F401 -- every command module

    defined = {name: command.callback.__module__.rsplit(".", 1)[1] for name, command in cli.commands.items()}
    assert defined == app.COMMAND_MODULES


def test_each_line_of_the_check_table_shows_the_verdict_not_only_the_http_status(web, settings):
    gone = web.page("/world/gone", article("Page not found", "Sorry, the page you are looking for could not be found."))
    web.page("/", article("The Daily", *LOREM))
    web.redirect("/world/moved-home", web.url("/"))
    web.page("/world/busy", "<h1>Internal Server Error</h1>", status=500)
    write_sources(
        settings.sources,
        [
            {"id": "1", "url": gone},
            {"id": "2", "url": web.url("/world/moved-home")},
            {"id": "3", "url": web.url("/world/busy")},
        ],
    )
    result = invoke(settings, "check")
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.output.splitlines()[2:5]}
    assert rows["1"].split()[:3] == ["1", "ok", "200"] and "rotten: soft 404" in rows["1"]
    assert rows["2"].split()[:3] == ["2", "ok", "200"] and "rotten: redirect to home" in rows["2"]
    assert rows["3"].split()[:3] == ["3", "http_error", "500"] and "failing: server error" in rows["3"]
    assert "3 checked (1 failing, 2 rotten)" in result.output


def test_bad_sources_is_a_message_and_exit_3_not_a_traceback(settings):
    settings.sources.write_text("url,claim\nhttps://a.example/,x\n", encoding="utf-8")
    result = invoke(settings, "check")
    assert result.exit_code == 3
    assert "Traceback" not in result.output
    assert f"SourceError: {settings.sources}:1: header must name the columns id, url" in result.output


def test_unknown_only_id_is_named(web, settings):
    write_sources(settings.sources, [{"id": "1", "url": web.url("/a")}])
    result = invoke(settings, "check", "--only", "99")
    assert result.exit_code == 3 and "no citation with id 99" in result.output


def test_bad_environment_setting_is_named(settings):
    result = invoke(settings, "check", env={"ARCHIVER_ALLOW_PRIVATE": "localhost"})
    assert result.exit_code == 3
    assert "ARCHIVER_ALLOW_PRIVATE='localhost'" in result.output


def test_offline_machine_says_so_through_the_real_command(tmp_path):
    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])  # closed again: connections will be refused
    sources = write_sources(
        tmp_path / "s.csv", [{"id": str(i), "url": f"http://127.0.0.1:{p}/x"} for i, p in enumerate(ports, 1)]
    )
    env = {
        **os.environ,
        "ARCHIVER_ALLOW_PRIVATE": "1",
        "ARCHIVER_DATA_DIR": str(tmp_path / "d"),
        "ARCHIVER_WAYBACK_URL": f"http://127.0.0.1:{ports[0]}",  # never the real archive
        "ARCHIVER_SOURCES": str(sources),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "archiver", "check"], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "offline: every citation failed before any HTTP exchange" in proc.stderr
    assert "connect_error" in proc.stdout
    assert "status [" not in proc.stdout  # no network says nothing of the citations: no alert


@pytest.mark.parametrize(
    "variable,value,named",
    [
        ("ARCHIVER_MAX_BODY", "inf", "must be a finite number"),
        ("ARCHIVER_MAX_BODY", "1e400", "must be a finite number"),
        ("ARCHIVER_MAX_BODY", "5G", "max_body_bytes (ARCHIVER_MAX_BODY) must be a finite number from 1 up to"),
        ("ARCHIVER_ROT_DAYS", "nan", "must be a finite number"),
        ("ARCHIVER_ROT_DAYS", "inf", "must be a finite number"),
        ("ARCHIVER_CAPTURE_FRESH_DAYS", "1e308", "capture_fresh_days (ARCHIVER_CAPTURE_FRESH_DAYS) must be"),
        ("ARCHIVER_CAPTURE_FRESH_DAYS", "nan", "must be a finite number"),
        ("ARCHIVER_CONNECT_TIMEOUT", "nan", "must be a finite number"),
        ("ARCHIVER_WAYBACK_TIMEOUT", "nan", "must be a finite number"),
        ("ARCHIVER_TIMEOUT", "nan", "must be a finite number"),
        ("ARCHIVER_EXTRACT_TIMEOUT", "0", "must be a positive number"),
        ("ARCHIVER_WORKERS", "1e3", "must be a whole number"),
        ("ARCHIVER_CONCURRENCY", "9" * 5000, "must be a whole number"),
        ("ARCHIVER_WAYBACK_INTERVAL", "-1", "wayback_interval (ARCHIVER_WAYBACK_INTERVAL) must be"),
    ],
)
def test_every_number_setting_is_checked_finite_and_in_range_before_anything_is_written(
    web, settings, variable, value, named
):
    write_sources(settings.sources, [{"id": "1", "url": web.page("/a", article("A", *LOREM))}])
    result = invoke(settings, "check", env={variable: value})
    assert result.exit_code == 3, result.output
    assert f"ConfigError: {variable}" in result.output or f"({variable})" in result.output
    assert named in result.output and "Traceback" not in result.output
    assert not settings.data_dir.exists() and web.requests == []


@pytest.mark.parametrize(
    "args,named",
    [
        (["daemon", "--tick", "nan"], "--tick nan: must be a number of seconds above 0 up to 86400"),
        (["daemon", "--tick", "inf"], "--tick inf: must be a number of seconds"),
        (["daemon", "--every", "99999999999999999999d"], "'99999999999999999999d' is longer than 366 days"),
        (["daemon", "--jitter", "1e400d"], "is not a duration like 30m, 6h or 2d"),
        (["serve", "--port", "99999"], "--port 99999: must be a port number from 0"),
        (["serve", "--port", "-1"], "--port -1: must be a port number from 0"),
        (["lookup", "1", "--at", "9999-12-31T23:59:59-23:59"], "--at '9999-12-31T23:59:59-23:59' is not a date"),
        (["lookup", "1", "--at", "9999-99-99"], "--at '9999-99-99' is not a date"),
    ],
)
def test_out_of_range_flags_are_exit_3_with_the_flag_named(web, settings, args, named):
    write_sources(settings.sources, [{"id": "1", "url": web.url("/a")}])
    result = invoke(settings, *args)
    assert result.exit_code == 3, result.output
    assert named in result.output and "Traceback" not in result.output
    assert web.requests == []


def test_a_list_that_would_lose_or_corrupt_citations_stops_check_with_exit_3(web, settings):
    """Issue 16: an unterminated quote passed `check` with exit 0 and one citation checked; bad ports,
    NUL characters and impossible dates were accepted. Now the real command names each, fetches nothing."""
    urls = [web.page(f"/{n}", article(f"Page {n}", *LOREM)) for n in range(3)]
    settings.sources.write_text(
        f'id,url,claim\n1,{urls[0]},"Troops were sent\n2,{urls[1]},second\n3,{urls[2]},third\n', encoding="utf-8"
    )
    proc = subprocess.run(archiver_cmd(settings, "check"), env=SUBPROCESS_ENV, capture_output=True, text=True)
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    assert f"{settings.sources}:2: a quote opened on line 2 is never closed" in proc.stderr
    settings.sources.write_text(
        "id,url,cited_at\n1,http://127.0.0.1:abc/a,\n2,http://127.0.0.1:99999/,\n"
        f"3,{urls[0]}\x00,\n4,{urls[1]},9999-99-99\n",
        encoding="utf-8",
    )
    proc = subprocess.run(archiver_cmd(settings, "check"), env=SUBPROCESS_ENV, capture_output=True, text=True)
    assert proc.returncode == 3
    for line in (2, 3):
        assert f":{line}: url '" in proc.stderr and "has a port that is not a number from 1 to 65535" in proc.stderr
    assert ":4: url '" in proc.stderr and "contains the control character '\\x00'" in proc.stderr
    assert ":5: cited_at '9999-99-99' is not a date like 2025-04-28" in proc.stderr
    assert web.requests == [] and not settings.data_dir.exists()


def test_sources_dev_zero_is_refused_at_the_size_limit(settings):
    proc = subprocess.run(
        archiver_cmd(settings.with_(sources=Path("/dev/zero")), "check"),
        env=SUBPROCESS_ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 3 and "/dev/zero: larger than 64 MiB, the most accepted" in proc.stderr
    article = settings.sources.with_name("article.md")
    article.write_text("See [a source](https://a.example/story).\n", encoding="utf-8")
    proc = subprocess.run(
        archiver_cmd(settings.with_(sources=Path("/dev/zero")), "import", str(article)),
        env=SUBPROCESS_ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 3 and "/dev/zero: larger than 64 MiB, the most accepted" in proc.stderr
