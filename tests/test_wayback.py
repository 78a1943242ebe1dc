"""The Wayback Machine stage against a fake archive on 127.0.0.1: submissions, the outbox, look-ups."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from conftest import write_sources
from fakewayback import FakeWayback
from simweb import LOREM, Response, article

from archiver import run_check
from archiver.archive.selection import best_capture, closest
from archiver.archive.spn import Result, read_refusal
from archiver.archive.step import run_archive
from archiver.models import Citation
from archiver.models.rows import Capture
from archiver.store import Store


@pytest.fixture
def wayback(web):
    def snapshot(url):  # the archive keeps what the live web serves at that moment
        return httpx.get(url, timeout=5).content

    fake = FakeWayback(snapshot=snapshot)
    yield fake
    fake.close()


@pytest.fixture
def wb_settings(settings, wayback):
    return settings.with_(
        wayback=True,
        wayback_url=wayback.base.rstrip("/"),
        archive_url=wayback.base.rstrip("/"),
        ia_access="ACCESS",
        ia_secret="SECRET",
        wayback_interval=0.0,
        wayback_poll_seconds=0.02,
        wayback_retry_seconds=0.05,
    )


def outbox(settings):
    with Store.open(settings.data_dir) as store:
        return store.outbox()


def test_each_new_version_is_captured_once(web, wayback, wb_settings):
    url = web.page("/world/story", article("Kursk", *LOREM))
    write_sources(wb_settings.sources, [{"id": "1", "url": url}])
    summary = run_check(wb_settings)
    assert summary.archive.done == 1 and summary.archive.queued == 1
    (post,) = wayback.submissions()
    assert post.method == "POST" and post.headers["authorization"] == "LOW ACCESS:SECRET"
    assert b"skip_first_archive=1" in post.body
    (row,) = outbox(wb_settings)
    assert row.state == "done" and row.job_id == "spn2-0001"
    assert row.capture_url == f"https://web.archive.org/web/{row.capture_timestamp}/{url}"
    run_check(wb_settings)
    assert len(wayback.submissions()) == 1  # same content: no second capture
    web.page(url, article("Kursk", *LOREM[:2], "A correction was appended to this article."))
    time.sleep(1.1)  # a new second, so the fake archive gives the new capture its own timestamp
    run_check(wb_settings)
    assert len(wayback.submissions()) == 2 and [r.state for r in outbox(wb_settings)] == ["done", "done"]


def test_without_keys_the_anonymous_capture_is_used(web, wayback, wb_settings):
    url = web.page("/world/story", article("Kursk", *LOREM))
    write_sources(wb_settings.sources, [{"id": "1", "url": url}])
    run_check(wb_settings.with_(ia_access="", ia_secret=""))
    (get,) = wayback.submissions()
    assert get.method == "GET" and get.path == f"/save/{url}" and "authorization" not in get.headers
    assert outbox(wb_settings)[0].state == "done"


def test_without_keys_an_answer_the_old_way_is_read_from_its_headers(web, wayback, wb_settings):
    url = web.page("/world/story", article("Kursk", *LOREM))
    write_sources(wb_settings.sources, [{"id": "1", "url": url}])
    wayback.spn1_headers = True  # the capture named in Content-Location, no job
    run_check(wb_settings.with_(ia_access="", ia_secret=""))
    (row,) = outbox(wb_settings)
    assert row.state == "done" and row.job_id == "" and row.capture_url.endswith(f"/{url}")
    assert [r.path for r in wayback.web.requests if r.path.startswith("/save/status")] == []


def test_keys_never_appear_in_settings_output(wb_settings):
    assert "SECRET" not in repr(wb_settings) and "ACCESS" not in repr(wb_settings)


def test_a_recent_capture_of_the_same_content_is_not_duplicated(web, wayback, wb_settings):
    url = web.page("/world/story", article("Kursk", *LOREM))
    soon = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y%m%d%H%M%S")
    wayback.archive(url, soon, article("Kursk", *LOREM))
    write_sources(wb_settings.sources, [{"id": "1", "url": url}])
    summary = run_check(wb_settings)
    assert wayback.submissions() == [] and outbox(wb_settings) == []
    assert summary.archive.found == 1 and summary.archive.verified == 1


def test_a_restart_in_the_middle_of_a_job_resumes_it(web, wayback, wb_settings):
    url = web.page("/world/story", article("Kursk", *LOREM))
    write_sources(wb_settings.sources, [{"id": "1", "url": url}])
    wayback.polls_before_success = 1000
    run_check(wb_settings.with_(wayback_poll_rounds=2))  # the process ends with the job pending
    (row,) = outbox(wb_settings)
    assert row.state == "submitted" and row.job_id == "spn2-0001"
    wayback.jobs["spn2-0001"].polls_left = 0
    with Store.open(wb_settings.data_dir) as store:  # a new process: `archiver archive`
        run_archive(wb_settings, [Citation("1", url)], store)
    assert len(wayback.submissions()) == 1  # resumed by its job id, not submitted again
    assert outbox(wb_settings)[0].state == "done"


def test_a_job_pending_too_long_is_given_up(web, wayback, wb_settings):
    url = web.page("/world/story", article("Kursk", *LOREM))
    write_sources(wb_settings.sources, [{"id": "1", "url": url}])
    wayback.polls_before_success = 1000
    run_check(wb_settings.with_(job_max_age_hours=0.0001, wayback_poll_rounds=3, wayback_poll_seconds=0.3))
    (row,) = outbox(wb_settings)
    assert row.state == "failed" and "still pending" in row.reason


def test_a_429_storm_slows_submissions_down_and_loses_none(web, wayback, wb_settings):
    urls = [web.page(f"/world/story-{i}", article(f"Story {i}", *LOREM)) for i in range(3)]
    write_sources(wb_settings.sources, [{"id": str(i), "url": u} for i, u in enumerate(urls, 1)])
    wayback.submit_faults = [Response(429, b"slow down", {"Retry-After": "1"}) for _ in range(3)]
    first = run_check(wb_settings)
    assert first.archive.retried >= 1
    assert all(r.state in ("queued", "submitted", "done") for r in outbox(wb_settings))
    posts = wayback.submissions()
    throttled = [b.at - a.at for a, b in zip(posts, posts[1:], strict=False)]
    assert throttled and max(throttled) >= 0.9  # waited out Retry-After before the next try
    deadline = time.monotonic() + 20
    while any(r.state != "done" for r in outbox(wb_settings)) and time.monotonic() < deadline:
        time.sleep(0.5)
        with Store.open(wb_settings.data_dir) as store:
            run_archive(wb_settings, [Citation(str(i), u) for i, u in enumerate(urls, 1)], store)
    rows = outbox(wb_settings)
    assert sorted(r.watched_id for r in rows) == ["1", "2", "3"]
    assert all(r.state == "done" for r in rows)


def test_final_refusal_is_recorded_with_its_reason(web, wayback, wb_settings):
    url = web.page("/world/story", article("Kursk", *LOREM))
    write_sources(wb_settings.sources, [{"id": "1", "url": url}])
    wayback.submit_refusal = "error:blocked"
    run_check(wb_settings)
    (row,) = outbox(wb_settings)
    assert row.state == "failed" and row.reason.startswith("error:blocked")


def test_a_stalled_archive_is_cut_off_said_once_and_the_outbox_left_for_the_next_run(web, wayback, wb_settings, caplog):
    url = web.page("/world/story", article("Kursk", *LOREM))
    write_sources(wb_settings.sources, [{"id": "1", "url": url}])
    run_check(wb_settings.with_(wayback=False))
    wayback.stall = 2.0
    started = time.monotonic()
    with Store.open(wb_settings.data_dir) as store:
        summary = run_archive(wb_settings.with_(wayback_timeout=0.3, connect_timeout=0.3), [Citation("1", url)], store)
    assert time.monotonic() - started < 3  # three timeouts of 0.3 s, then the archive counts as down
    (row,) = outbox(wb_settings)
    assert row.state == "queued" and row.attempts == 0  # the archive's outage costs the row nothing
    assert summary.unreachable == [
        f"{wayback.base.rstrip('/')} (3 requests in a row got no complete answer within 0.3s)"
    ]
    assert "is unreachable" in caplog.text and "1 submission(s) left for the next run" in caplog.text


def test_an_archived_error_page_is_never_offered(web, wayback, wb_settings):
    url = web.page("/world/story", article("Kursk", *LOREM))
    wayback.archive(url, "20250101120000", article("Kursk", *LOREM))
    wayback.archive(
        url,
        "20250301120000",
        "<html><head><title>Page not found</title></head><body>"
        "<h1>Sorry, the page you are looking for could not be found.</h1></body></html>",
    )
    write_sources(wb_settings.sources, [{"id": "1", "url": url, "cited_at": "2025-03-15"}])
    run_check(wb_settings)
    with Store.open(wb_settings.data_dir) as store:
        captures = {c.timestamp: c for c in store.captures("1")}
        assert captures["20250301120000"].verified == 0
        assert "says" in captures["20250301120000"].verify_note
        assert captures["20250101120000"].verified == 1
        assert (
            best_capture(store.captures("1"), Citation("1", url, cited_at="2025-03-15").cited).timestamp
            == "20250101120000"
        )


def test_lookup_picks_the_closest_valid_capture_before_the_citation_date(web, wayback, wb_settings):
    url = web.page("/world/story", article("Kursk", *LOREM))
    for stamp in ("20250101000000", "20250427000000", "20250429000000", "20250601000000"):
        wayback.archive(url, stamp, article("Kursk", *LOREM))
    write_sources(wb_settings.sources, [{"id": "1", "url": url, "cited_at": "2025-04-28"}])
    run_check(wb_settings)
    with Store.open(wb_settings.data_dir) as store:
        best = best_capture(store.captures("1"), Citation("1", url, cited_at="2025-04-28").cited)
    assert best.timestamp == "20250427000000"


def test_preference_order_is_before_then_after():
    caps = [Capture(s, "u") for s in ("20250101000000", "20250427000000", "20250429000000", "20250601000000")]
    cited = datetime(2025, 4, 28, tzinfo=UTC)
    assert [c.timestamp for c in closest(caps, cited)] == [
        "20250427000000",
        "20250101000000",
        "20250429000000",
        "20250601000000",
    ]
    assert closest([Capture("20250101000000", "u", status=404)], cited) == []


@pytest.mark.parametrize(
    "ext,result",
    [
        ("error:too-many-requests", Result.RETRY),
        ("error:user-session-limit", Result.RETRY),
        ("error:gateway-timeout", Result.RETRY),
        ("error:browsing-timeout", Result.RETRY),
        ("error:service-unavailable", Result.RETRY),
        ("error:not-found", Result.FAILED),
        ("error:blocked", Result.FAILED),
        ("error:too-many-daily-captures", Result.FAILED),
    ],
)
def test_refusals_are_read_from_the_body(ext, result):
    assert read_refusal({"status": "error", "status_ext": ext, "message": "no"}).result == result
    assert read_refusal({"url": "u", "job_id": "spn2-1"}) is None


def test_the_report_offers_the_verified_capture(web, wayback, wb_settings):
    import json

    from click.testing import CliRunner

    from archiver.cli import cli

    url = web.page("/world/story", article("Kursk", *LOREM))
    wayback.archive(url, "20250427000000", article("Kursk", *LOREM))
    write_sources(wb_settings.sources, [{"id": "1", "url": url, "cited_at": "2025-04-28"}])
    run_check(wb_settings)
    result = CliRunner().invoke(
        cli, ["--data-dir", str(wb_settings.data_dir), "--sources", str(wb_settings.sources), "report"]
    )
    entry = json.loads(result.output)["citations"][0]
    assert entry["archive"] == {
        "url": f"https://web.archive.org/web/20250427000000/{url}",
        "timestamp": "20250427000000",
        "archive": "wayback",
        "verified": True,
    }
