"""The CLI: a thin layer that prints a summary, names user mistakes and exits with a clear status."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from click.testing import CliRunner
from conftest import write_sources
from simweb import LOREM, article

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
    assert lines[2].split()[:5] == ["1", "ok", "200", "ok", "yes"] and "Kursk deployment confirmed" in lines[2]
    assert lines[3].split()[:5] == ["2", "http_error", "404", "rotten:", "not"]
    assert "2 checked (1 ok, 1 rotten); 1 new version(s)" in result.output


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
