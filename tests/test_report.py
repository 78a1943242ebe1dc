"""The report in every format, robust links, alerts and lookups, on a store with a known history."""

from __future__ import annotations

import html
import json
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CHROMIUM, chromium, write_sources
from fakewayback import FakeWayback
from simweb import LOREM, article

from archiver import run_check
from archiver.cli import cli
from archiver.store.warc_format import read_response

HOSTILE = '<script>alert("x")</script><b>Troops</b> & "friends"'


@pytest.fixture
def history(web, settings, clock):
    """Citation 1 is fine, then edited (two versions); 2 is dead; 3 has a hostile title and claim."""
    story = web.page("/world/story", article("Kursk deployment", *LOREM))
    # entity-encoded in the page, so the title a reader sees (and we extract) is the markup itself
    hostile = web.page("/world/hostile", article(html.escape(HOSTILE), *LOREM[1:]))
    write_sources(
        settings.sources,
        [
            {"id": "1", "url": story, "claim": "Selon Séoul, 15 000 soldats ont été envoyés."},
            {"id": "2", "url": web.url("/world/gone")},
            {"id": "3", "url": hostile, "claim": "<img src=x onerror=alert(1)> | a pipe"},
        ],
    )
    run_check(settings, clock=clock)
    clock.advance(days=2)
    web.page(
        story,
        article("Kursk deployment", LOREM[0].replace("about 15,000 soldiers", "thousands of soldiers"), *LOREM[1:]),
    )
    run_check(settings, clock=clock)
    return settings


def invoke(settings, *args, env=None):
    return CliRunner().invoke(
        cli,
        ["--data-dir", str(settings.data_dir), "--sources", str(settings.sources), *args],
        env={"ARCHIVER_WAYBACK": "0", **(env or {})},
    )


def test_markdown_report_has_a_headline_and_one_row_per_citation_in_order(history):
    result = invoke(history, "report", "--format", "md")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "# Citation health report"
    assert "3 citation(s): 1 rotten, 1 drifted, 1 ok." in lines[2]
    assert lines[4].startswith("| # | status | since | evidence | claim | source still supports it | versions")
    rows = lines[6:]
    assert len(rows) == 3 and [r.split("|")[1].strip()[:3] for r in rows] == ["[1]", "[2]", "[3]"]
    assert "**Drifted**" in rows[0] and "the source no longer says 15 000" in rows[0]
    assert "no longer (15 000 gone)" in rows[0] and "| 2 |" in rows[0]
    assert "**Rotten**" in rows[1] and "HTTP 404 Not Found" in rows[1]
    assert "&lt;img src=x onerror=alert(1)&gt; \\| a pipe" in rows[2]  # escaped, and the table holds


def test_json_report_carries_versions_timeline_and_the_drift_diff(history):
    data = json.loads(invoke(history, "report", "--format", "json").output)
    first = data["citations"][0]
    assert first["versions"] == 2 and [m[1] for m in first["timeline"]] == ["ok", "ok"]
    assert "-North Korean troops" in first["diff"] and "+North Korean troops" in first["diff"]
    assert first["snapshot"].endswith(".txt")


def test_html_report_is_self_contained_and_escapes_everything_from_pages(history, tmp_path):
    out = tmp_path / "report.html"
    result = invoke(history, "report", "--format", "html", "-o", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text("utf-8")
    assert "<script" not in page and "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    assert (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;Troops&lt;/b&gt; &amp; &quot;friends&quot;" in page
    )
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "http://" not in page.split("<body>")[0] and "<link" not in page  # no external assets
    assert page.count('<svg role="img" aria-label="check timeline"') == 3
    assert "<del>− North Korean troops" in page and "<ins>+ North Korean troops" in page


@pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian package `chromium`; .ci/run installs it)"
)
def test_html_report_renders_in_a_real_browser(history, tmp_path):
    out = tmp_path / "report.html"
    invoke(history, "report", "--format", "html", "-o", str(out))
    dom = subprocess.run(
        chromium(tmp_path / "profile", "--dump-dom", out.as_uri()), capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<script" not in dom.stdout  # the hostile title stayed text: no element was created
    assert 'alert("x")' in dom.stdout.replace("&quot;", '"')
    shot = tmp_path / "report.png"
    subprocess.run(
        chromium(tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,1400", out.as_uri()),
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.exists() and shot.stat().st_size > 20_000
    shutil.copy(shot, history.data_dir.parent.parent / "report-screenshot.png")


def test_robust_links_carry_the_verified_capture(web, settings):
    fake = FakeWayback()
    try:
        url = web.page("/world/story", article("Kursk", *LOREM))
        fake.archive(url, "20250427093000", article("Kursk", *LOREM))
        write_sources(
            settings.sources,
            [{"id": "1", "url": url, "cited_at": "2025-04-28"}, {"id": "2", "url": web.url("/nothing")}],
        )
        run_check(
            settings.with_(
                wayback=True,
                wayback_url=fake.base.rstrip("/"),
                archive_url=fake.base.rstrip("/"),
                wayback_interval=0.0,
                wayback_poll_seconds=0.01,
            )
        )
    finally:
        fake.close()
    result = invoke(settings, "report", "--format", "robustlinks")
    lines = result.output.splitlines()
    assert lines[0] == '<ol class="references">'
    assert lines[1] == (
        f'  <li id="ref-1">[1] <a href="{url}" data-originalurl="{url}" data-versiondate="2025-04-28" '
        f'data-versionurl="https://web.archive.org/web/20250427093000/{url}" '
        f'title="archived copy of 2025-04-27 (Wayback Machine)">{url}</a></li>'
    )
    assert "data-versionurl" not in lines[2] and 'data-versiondate="20' in lines[2]  # linking date even without a copy


def test_status_changes_are_sent_to_a_webhook_once(web, settings, clock):
    hooks = []
    web.set("/hook", lambda seen: hooks.append(seen) or __import__("simweb").Response(200, b"ok"))
    url = web.page("/world/story", article("Kursk", *LOREM))
    write_sources(settings.sources, [{"id": "1", "url": url}])
    notifying = settings.with_(notify=(f"json://127.0.0.1:{web.port}/hook",))
    run_check(notifying, clock=clock)
    assert hooks == []  # a first healthy check is not news
    web.page(url, "<h1>Gone</h1>", status=410)
    clock.advance(days=1)
    run_check(notifying, clock=clock)
    (hook,) = hooks
    payload = json.loads(hook.body)
    assert hook.method == "POST" and "1 status change(s), 1 for the worse" in payload["title"]
    assert "[1] ok → rotten: HTTP 410 Gone" in payload["message"]
    clock.advance(days=1)
    run_check(notifying, clock=clock)
    assert len(hooks) == 1  # unchanged status: no alert


def test_lookup_by_id_and_by_url_lists_versions_and_copies_newest_first(history):
    by_id = invoke(history, "lookup", "1")
    assert by_id.exit_code == 0, by_id.output
    lines = by_id.output.splitlines()
    assert lines[1] == "versions (2), newest first:"
    assert lines[2].startswith("  1. 2026-01-03T12:00") and lines[3].startswith("  2. 2026-01-01T12:00")
    assert "Kursk deployment" in lines[2] and "archived copies (0), newest first:" in by_id.output
    url = json.loads(invoke(history, "report", "--format", "json").output)["citations"][0]["url"]
    assert invoke(history, "lookup", url + "?utm_source=x").output == by_id.output


def test_lookup_at_a_date_text_diff_and_raw_path(history):
    at = invoke(history, "lookup", "1", "--at", "2026-01-02", "--text")
    assert "about 15,000 soldiers" in at.output
    now = invoke(history, "lookup", "1", "--text")
    assert "thousands of soldiers" in now.output and "15,000" not in now.output
    diff = invoke(history, "lookup", "1", "--diff")
    assert "-North Korean troops have been deployed" in diff.output and "+North Korean troops" in diff.output
    assert invoke(history, "lookup", "1", "--diff", "2", "1").output == diff.output
    where, offset = invoke(history, "lookup", "1", "--open").output.split()  # the body's WARC record
    assert where.endswith(".warc.gz") and (history.data_dir / "warc").as_posix() in where
    assert b"thousands of soldiers" in read_response(Path(where), int(offset))[2]
    marked = invoke(history, "lookup", "1", "--at", "2026-01-02")
    assert "2. 2026-01-01T12:00" in marked.output and "<- in force at that date" in marked.output


def test_lookup_of_an_unknown_url_asks_the_wayback_machine(history):
    fake = FakeWayback()
    try:
        fake.archive("https://example.org/page", "20240101000000", "<p>x</p>")
        result = invoke(
            history, "lookup", "https://example.org/page", env={"ARCHIVER_WAYBACK_URL": fake.base.rstrip("/")}
        )
    finally:
        fake.close()
    assert result.exit_code == 0, result.output
    assert "not a citation we watch; the Wayback Machine knows 1 capture(s)" in result.output
    assert "https://web.archive.org/web/20240101000000/https://example.org/page" in result.output


def test_lookup_mistakes_are_named(history):
    assert "neither a citation id" in invoke(history, "lookup", "99").output
    assert "not a date" in invoke(history, "lookup", "1", "--at", "yesterday").output
    assert "no single version" in invoke(history, "lookup", "1", "--diff", "7", "1").output
    assert invoke(history, "lookup", "99").exit_code == 3


def test_since_is_the_day_the_status_began(history, clock):
    data = json.loads(invoke(history, "report", "--format", "json").output)
    dead = data["citations"][1]
    assert dead["since"][:10] == (clock.now - timedelta(days=2)).date().isoformat()
