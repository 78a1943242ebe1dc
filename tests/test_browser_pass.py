"""The browser in the pass (ARCHIVER_BROWSER, screenshots): real checks with Debian's Chromium against the
simulated web, the store read back, `lookup` and `verify` run as a user would, and a real `archiver check`
process stopped with SIGTERM while Chromium renders."""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SUBPROCESS_ENV, archiver_cmd, loopback_resolver, write_sources
from simweb import LOREM, Response, article
from test_browser import SHELL, Listener, app_js, challenged, chromium_of, intranet_resolver, needs_chromium, png_facts

from archiver.cli import cli
from archiver.config import Settings
from archiver.models import BrowserMode, Citation, FetchedBy, Outcome
from archiver.pipeline import run_check, run_task
from archiver.report import build_report
from archiver.store import Store
from archiver.workers import WorkerPool

pytestmark = needs_chromium
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def browsing(settings: Settings, mode: BrowserMode = BrowserMode.AUTO, **kw: object) -> Settings:
    return settings.with_(browser=mode, **kw)


def one_citation(settings: Settings, url: str) -> None:
    write_sources(settings.sources, [{"id": "1", "url": url}])


def lookup(settings: Settings, *args: str) -> str:
    result = CliRunner().invoke(
        cli, ["--data-dir", str(settings.data_dir), "--sources", str(settings.sources), "lookup", "1", *args]
    )
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def private():
    """Sockets on 127.0.0.2, which the settings do not allow: they count whatever reaches them."""
    listener = Listener()
    yield listener
    listener.close()


def shots(settings: Settings) -> list[Path]:
    return sorted((settings.data_dir / "shots").rglob("*.png"))


def test_an_article_written_by_its_script_is_extracted_in_auto_mode_and_missing_in_never_mode(web, settings, tmp_path):
    url = web.page(web.url("/2025/04/troops", host="news.test"), SHELL)
    web.set("/static/js/main.4f2a9c.js", app_js(*LOREM))
    one_citation(settings, url)

    never = settings.with_(data_dir=tmp_path / "never")  # the conftest default: never
    run_check(never, resolver=loopback_resolver)
    with Store.open(never.data_dir) as store:
        (version,) = store.versions("1")
        assert LOREM[0] not in store.read_text(version) and version.fetched_by == FetchedBy.HTTP
        assert store.latest_check("1").fetched_by == FetchedBy.HTTP and not version.screenshot_path
    assert web.hits("/static/js/main.4f2a9c.js") == 0
    missing = CliRunner().invoke(cli, ["--data-dir", str(never.data_dir), "lookup", "1", "--screenshot"])
    assert missing.exit_code == 3 and "has no screenshot" in missing.output

    auto = browsing(settings)
    summary = run_check(auto, resolver=loopback_resolver)

    assert summary.checks[0].new_version and summary.checks[0].title.startswith("Troops in Kursk")
    with Store.open(auto.data_dir) as store:
        (version,) = store.versions("1")
        text = store.read_text(version)
        assert LOREM[0] in text and LOREM[3] in text
        assert version.fetched_by == FetchedBy.BROWSER
        check = store.latest_check("1")
        assert check.fetched_by == FetchedBy.BROWSER and check.outcome == Outcome.OK
        assert "JavaScript application shell" in check.browser_note and "#root" in check.browser_note
        assert store.read_raw(version).startswith(b"<!DOCTYPE html>") and LOREM[0].encode() in store.read_raw(version)
        entry = build_report(store, check.at).entries[0].to_json()
    assert entry["fetched_by"] == "browser" and entry["screenshot"] == str(auto.data_dir / version.screenshot_path)
    assert "(browser, screenshot)" in lookup(auto)
    assert web.hits("/2025/04/troops") == 2  # once per pass: the browser rendered the HTTP fetch's answer


def test_a_javascript_challenge_is_passed_in_auto_mode_and_the_article_versioned(web, settings):
    one_citation(settings, web.set("/2025/04/troops", challenged))
    run_check(settings, resolver=loopback_resolver)  # never: the challenge is all HTTP sees
    with Store.open(settings.data_dir) as store:
        assert store.latest_check("1").http_status == 503 and not store.versions("1")

    summary = run_check(browsing(settings), resolver=loopback_resolver)

    assert summary.checks[0].outcome == Outcome.OK and summary.checks[0].http_status == 200
    with Store.open(settings.data_dir) as store:
        check = store.latest_check("1")
        assert check.fetched_by == FetchedBy.BROWSER and "challenge" in check.browser_note
        (version,) = store.versions("1")
        assert version.fetched_by == FetchedBy.BROWSER and LOREM[1] in store.read_text(version)


def test_a_page_with_its_text_in_its_html_is_not_rendered_in_auto_but_is_in_always(web, settings, tmp_path):
    url = web.page("/2025/04/troops", article("Troops in Kursk", *LOREM))
    web.set("/style.css", Response(200, b"body { color: #333 }", {"Content-Type": "text/css"}))
    web.page(
        "/2025/04/troops", article("Troops in Kursk", *LOREM, extra_head='<link rel="stylesheet" href="/style.css">')
    )
    one_citation(settings, url)

    auto = browsing(settings, screenshots=False)
    run_check(auto, resolver=loopback_resolver)
    with Store.open(auto.data_dir) as store:
        assert store.latest_check("1").fetched_by == FetchedBy.HTTP and not store.latest_check("1").browser_note
        assert not store.versions("1")[0].screenshot_path
    assert web.hits("/style.css") == 0  # no Chromium ran: screenshots off, the text was in the HTML

    always = browsing(settings, BrowserMode.ALWAYS, data_dir=tmp_path / "always")
    run_check(always, resolver=loopback_resolver)
    with Store.open(always.data_dir) as store:
        check = store.latest_check("1")
        assert check.fetched_by == FetchedBy.BROWSER and check.browser_note == "ARCHIVER_BROWSER=always"
        assert LOREM[2] in store.read_text(store.versions("1")[0])
    assert web.hits("/style.css") == 1


def test_a_screenshot_is_stored_once_per_version_not_per_check(web, settings):
    url = web.page("/2025/04/troops", article("Troops in Kursk", *LOREM))
    one_citation(settings, url)
    auto = browsing(settings, screenshot_max_height=2000)

    run_check(auto, resolver=loopback_resolver)
    (first,) = shots(auto)
    width, height = png_facts(first.read_bytes())
    assert width == 1280 and 0 < height <= 2000
    assert first.name == hashlib.sha256(first.read_bytes()).hexdigest() + ".png"
    with Store.open(auto.data_dir) as store:
        (version,) = store.versions("1")
        assert version.fetched_by == FetchedBy.HTTP  # the text was in the HTML: HTTP's answer is the version
        assert auto.data_dir / version.screenshot_path == first
        assert store.latest_check("1").browser_note == "a screenshot of the new version"
    assert lookup(auto, "--screenshot").strip() == str(first)

    run_check(auto, resolver=loopback_resolver)  # the same page: no new version, no screenshot
    run_check(auto, resolver=loopback_resolver)
    assert shots(auto) == [first]
    with Store.open(auto.data_dir) as store:
        checks = store.checks("1")
        assert len(checks) == 3 and [c.browser_note != "" for c in checks] == [True, False, False]

    web.page("/2025/04/troops", article("Troops in Kursk, updated", *reversed(LOREM)))
    run_check(auto, resolver=loopback_resolver)
    assert len(shots(auto)) == 2
    with Store.open(auto.data_dir) as store:
        assert [bool(v.screenshot_path) for v in store.versions("1")] == [True, True]


def test_a_request_of_the_page_to_a_disallowed_address_is_refused_recorded_and_never_sent(web, settings, private):
    target = f"127.0.0.2:{private.port}"
    web.set("/static/js/main.4f2a9c.js", app_js(*LOREM))
    shell = SHELL.replace(
        "</body>",
        f"""<img src="http://{target}/pixel.gif"><script>
fetch("http://{target}/track").catch(() => {{}});
const xhr = new XMLHttpRequest(); xhr.open("GET", "http://intranet.test:{private.port}/xhr"); xhr.send();
</script></body>""",
    )
    url = web.page("/2025/04/troops", shell)
    one_citation(settings, url)

    run_check(browsing(settings), resolver=intranet_resolver)
    time.sleep(0.5)  # anything that escaped would have arrived by now

    assert private.connections == 0 and private.datagrams == 0
    with Store.open(settings.data_dir) as store:
        check = store.latest_check("1")
        assert check.fetched_by == FetchedBy.BROWSER and LOREM[0] in store.read_text(store.versions("1")[0])
        refused = {r.url.rsplit("/", 1)[-1]: r for r in check.refused}
    assert {"pixel.gif", "track", "xhr"} <= set(refused)
    assert all("127.0.0.2" in refused[name].reason for name in ("pixel.gif", "track", "xhr"))
    assert refused["pixel.gif"].resource_type == "image"
    shown = lookup(settings)
    assert "request(s) of the page refused" in shown and f"http://{target}/track" in shown


def test_a_chromium_that_does_not_start_is_a_recorded_outcome_and_the_pass_goes_on(web, settings, tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'this is not a browser' >&2\nexit 1\n")
    fake.chmod(0o755)
    url = web.page("/2025/04/troops", SHELL)
    one_citation(settings, url)

    summary = run_check(browsing(settings, chromium=str(fake)), resolver=loopback_resolver)

    assert summary.checks[0].outcome == Outcome.OK and summary.checks[0].new_version
    with Store.open(settings.data_dir) as store:
        check = store.latest_check("1")
        assert check.fetched_by == FetchedBy.HTTP  # the shell as served is what was seen
        assert "JavaScript application shell" in check.browser_note and "Chromium did not start" in check.browser_note


def test_chromium_is_started_only_when_a_page_needs_it(web, settings, tmp_path):
    marker = tmp_path / "chromium-started"
    fake = tmp_path / "chromium"
    fake.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    fake.chmod(0o755)
    lazy = browsing(settings, chromium=str(fake), screenshots=False)
    one_citation(settings, web.page("/2025/04/troops", article("Troops in Kursk", *LOREM)))

    run_check(lazy, resolver=loopback_resolver)
    assert not marker.exists()  # the text was in the HTML and no screenshot was asked for

    web.page("/2025/04/troops", SHELL)
    run_check(lazy, resolver=loopback_resolver)
    assert marker.exists()


def test_verify_checks_screenshot_files_like_the_others(web, settings):
    one_citation(settings, web.page("/2025/04/troops", article("Troops in Kursk", *LOREM)))
    auto = browsing(settings, screenshot_max_height=1000)
    run_check(auto, resolver=loopback_resolver)
    (shot,) = shots(auto)

    def verify() -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["--data-dir", str(auto.data_dir), "verify"])
        return result.exit_code, result.output

    assert verify()[0] == 0
    shot.write_bytes(shot.read_bytes()[:-10])
    code, output = verify()
    assert code != 0 and f"{shot.relative_to(auto.data_dir)} does not match its hash" in output
    shot.unlink()
    code, output = verify()
    assert code != 0 and "is missing" in output


@pytest.mark.parametrize("command", [("check",), ("daemon", "--jitter", "0")], ids=["check", "daemon"])
def test_sigterm_during_a_browser_fetch_leaves_no_chromium(web, settings, request, command):
    web.set("/static/js/main.4f2a9c.js", Response(200, b"1;", {"Content-Type": "text/javascript"}, delay=60))
    one_citation(settings, web.page("/2025/04/troops", SHELL))
    tmp = Path(tempfile.mkdtemp(prefix="check-kill-", dir="/tmp"))  # Chromium's directories: its command lines name it
    request.addfinalizer(lambda: shutil.rmtree(tmp, ignore_errors=True))
    env = {**SUBPROCESS_ENV, "ARCHIVER_BROWSER": "auto", "ARCHIVER_TIMEOUT": "120", "ARCHIVER_READ_TIMEOUT": "120"}
    env["TMPDIR"] = str(tmp)
    log = (tmp / "log").open("wb")
    child = subprocess.Popen(archiver_cmd(settings, *command), env=env, stderr=log, stdout=log)
    try:
        deadline = time.monotonic() + 60
        while web.hits("/static/js/main.4f2a9c.js") == 0:  # Chromium is rendering, waiting on the script
            assert child.poll() is None and time.monotonic() < deadline, (tmp / "log").read_text()[-2000:]
            time.sleep(0.1)
        running = chromium_of(str(tmp))
        assert len(running) >= 3

        child.send_signal(signal.SIGTERM)
        child.wait(timeout=30)
        assert command[0] == "check" or child.returncode == 0  # the daemon stops cleanly, its pass cut short

        deadline = time.monotonic() + 30
        while chromium_of(str(tmp)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert chromium_of(str(tmp)) == set()
    finally:
        if child.poll() is None:
            child.kill()
        log.close()
    deadline = time.monotonic() + 15  # the driver removes Chromium's profile once Chromium has exited
    while list(tmp.glob("playwright*")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not list(tmp.glob("playwright*"))


def test_the_report_json_names_the_fetcher_and_the_screenshot(web, settings):
    one_citation(settings, web.page("/2025/04/troops", article("Troops in Kursk", *LOREM)))
    run_check(browsing(settings), resolver=loopback_resolver)
    result = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "report", "--format", "json"])
    (entry,) = json.loads(result.output)["citations"]
    assert entry["fetched_by"] == "http" and Path(entry["screenshot"]).is_file()
    assert Path(entry["screenshot"]).read_bytes().startswith(b"\x89PNG")


def test_a_workers_task_renders_a_script_written_article_as_a_local_pass_does(web, settings):
    """Distributed mode checks with the same Checker: a worker's task honours ARCHIVER_BROWSER too."""
    url = web.page(web.url("/2025/04/troops", host="news.test"), SHELL)
    web.set("/static/js/main.4f2a9c.js", app_js(*LOREM))
    auto = browsing(settings, screenshots=False)
    citation = Citation("1", url)
    with Store.open(auto.data_dir) as store, WorkerPool(auto.extract_settings) as workers:
        store.sync_citations([citation], NOW)
        pass_id = store.begin_pass(NOW, 1)
        summary, _ = run_task(
            auto, store.for_task("task-1", "worker-a"), workers, citation, pass_id, resolver=loopback_resolver
        )
        (version,) = store.versions("1")
        assert summary.new_version and version.fetched_by == FetchedBy.BROWSER
        assert LOREM[0] in store.read_text(version)
