"""The Wayback client against answers recorded from the real services (tests/recorded/, each with its
provenance), served by a replay archive on 127.0.0.1: CDX, availability, the anonymous save, SPN2
submission and status, a 429, and the replays of captures of URLs that redirected."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
from conftest import FakeClock
from replay import RECORDED, ReplayArchive
from simweb import LOREM, article

from archiver.archive.outbox import drain
from archiver.archive.session import ArchiveSession
from archiver.archive.spn import Result, capture_in_answer, read_refusal
from archiver.archive.step import run_archive
from archiver.archive.wayback import WaybackClient
from archiver.extract import extract
from archiver.models import ArchiveSummary, Citation, FetchResult, Outcome
from archiver.models.rows import Capture
from archiver.store import Store

EPA = "https://www.epa.gov/ghgreporting/san5779-factsheet"
EPA_MOVED = (
    "https://www.epa.gov/ghgreporting/proposed-rule-fact-sheet-greenhouse-gas-reporting-program-addition-global-warming"
)
SCRIBBR = "https://www.scribbr.com/citing-sources/et-al/"


@pytest.fixture
def replay_settings(settings):
    def make(archive: ReplayArchive, **kw):
        defaults = {"wayback_interval": 0.0, "wayback_poll_seconds": 0.01, "wayback_retry_seconds": 0.05}
        return settings.with_(wayback=True, wayback_url=archive.base, archive_url=archive.base, **{**defaults, **kw})

    return make


def ask(settings, call):
    async def run():
        async with ArchiveSession(settings.archive_settings) as session:
            return await call(WaybackClient(settings.archive_settings, session))

    return asyncio.run(run())


def recorded_body(name: str, index: int) -> bytes:
    doc = json.loads((RECORDED / name).read_text())
    body = base64.b64decode(doc["exchanges"][index]["response"]["body_base64"])
    return gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body


def test_every_recording_names_where_it_was_recorded():
    files = sorted(RECORDED.glob("*.json"))
    assert len(files) >= 10
    for path in files:
        source = json.loads(path.read_text())["source"]
        assert (source.get("repository") or source.get("package") or source.get("document")) and source.get("how")


def test_a_cdx_answer_is_read_line_by_line(replay_settings):
    archive = ReplayArchive(("cdx-nasa.json", "cdx-blocked.json"))
    try:
        settings = replay_settings(archive)
        captures = ask(settings, lambda wb: wb.captures("nasa.gov"))
        blocked = ask(settings, lambda wb: wb.captures("https://nationalpost.com/health"))
    finally:
        archive.close()
    assert [c.timestamp for c in captures] == ["19961231235847"] * 3
    assert captures[0] == Capture(
        "19961231235847", "http://www.nasa.gov:80/", 200, "MGIGF4GRGGF5GKV6VNCBAXOE3OR5BTZC", "text/html"
    )
    assert blocked == []  # "Blocked Site Error": no captures, not an outage


def test_the_availability_hint_is_read_and_an_empty_answer_is_no_capture(replay_settings):
    archive = ReplayArchive(("availability-example.json", "availability-none.json"))
    try:
        settings = replay_settings(archive)
        hint = ask(settings, lambda wb: wb.available("example.com"))
        none = ask(settings, lambda wb: wb.available("https://never.example/"))
    finally:
        archive.close()
    assert hint == Capture("20130919044612", "http://example.com/", 200)
    assert none is None


def test_an_anonymous_save_takes_the_new_capture_named_by_relation_never_the_first(replay_settings):
    """Issue 15, 1: the answer has no Content-Location; its Link header names the 2020 first memento
    before the 2021 one that Memento-Datetime names. The 2021 capture is ours; and when the request
    was made after it, even that is someone else's capture and not taken."""
    archive = ReplayArchive(("spn1-scribbr.json",))
    try:
        settings = replay_settings(archive)
        made = ask(settings, lambda wb: wb.submit(SCRIBBR, datetime(2021, 1, 2, 9, 39, 50, tzinfo=UTC)))
        late = ask(settings, lambda wb: wb.submit(SCRIBBR, datetime(2021, 1, 3, tzinfo=UTC)))
    finally:
        archive.close()
    assert made.result == Result.DONE and made.timestamp == "20210102094009" and made.original == SCRIBBR
    assert late.result == Result.RETRY and "older than the request" in late.reason
    assert "20200601082911" not in made.timestamp + late.reason


def test_the_first_or_previous_memento_alone_is_never_taken_as_the_capture():
    link = (
        '<https://web.archive.org/web/20200601082911/https://a.example/>; rel="first memento"; '
        'datetime="Mon, 01 Jun 2020 08:29:11 GMT", <https://web.archive.org/web/20201126185327/https://a.example/>; '
        'rel="prev memento"; datetime="Thu, 26 Nov 2020 18:53:27 GMT"'
    )
    assert capture_in_answer({"link": link}, datetime(2020, 1, 1, tzinfo=UTC)) == "the answer names no capture"


def store_with_row(settings, url: str) -> None:
    with Store.open(settings.data_dir) as store:
        store.sync_citations([Citation("1", url)], datetime(2024, 1, 4, 3, 42, tzinfo=UTC))
        store.enqueue_capture("1", url, "v1", datetime(2024, 1, 4, 3, 42, tzinfo=UTC))


class MovingClock:
    """Time from a given moment on, moving as the real clock does (jobs are polled after waits)."""

    def __init__(self, start: datetime) -> None:
        self.start, self.t0 = start, time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.t0)


def drain_once(settings, clock):
    async def run():
        summary = ArchiveSummary()
        async with ArchiveSession(settings.archive_settings) as session:
            with Store.open(settings.data_dir) as store:
                await drain(
                    WaybackClient(settings.archive_settings, session), store, settings.archive_settings, clock, summary
                )
                return summary, store.outbox()

    return asyncio.run(run())


def test_keyless_spn2_answers_with_a_job_that_is_followed_and_its_original_url_kept(replay_settings):
    """Issue 15, 2 and 3: without keys, the save answers with a job id (JSON); the job is polled by
    its id, never resubmitted, and the capture's address uses SPN2's original_url."""
    archive = ReplayArchive(("spn2-ebg.json",))
    try:
        settings = replay_settings(archive, ia_access="", ia_secret="")
        store_with_row(settings, "https://theincredibleholk.org/about/")
        summary, (row,) = drain_once(settings, MovingClock(datetime(2024, 1, 4, 3, 42, tzinfo=UTC)))
    finally:
        archive.close()
    submissions = [s for s in archive.served if s[1].startswith("/save/") and not s[1].startswith("/save/status/")]
    assert submissions == [("GET", "/save/https://theincredibleholk.org/about/", 200)]
    assert row.state == "done" and row.job_id == "spn2-ffa890ab71a52c6ca87389d4f214becedbaa275a"
    assert row.capture_url == "https://web.archive.org/web/20240104034229/https://theincredibleholk.org/"
    assert summary.done == 1


def test_a_job_that_fails_with_a_final_code_is_given_up_at_once(replay_settings):
    archive = ReplayArchive(("spn2-docs-pending-error.json",))
    try:
        settings = replay_settings(archive, ia_access="A", ia_secret="S")
        store_with_row(settings, "http://example5123.com")
        _summary, (row,) = drain_once(settings, MovingClock(datetime(2024, 1, 4, 3, 42, tzinfo=UTC)))
    finally:
        archive.close()
    assert row.state == "failed"
    assert row.reason == "error:invalid-host-resolution: Couldn't resolve host for http://example5123.com."
    assert [s[1][:13] for s in archive.served] == ["/save", "/save/status/", "/save/status/"]


def test_a_recorded_429_is_retried_later_and_slows_the_pace(replay_settings):
    archive = ReplayArchive(("save-429.json",))
    try:
        settings = replay_settings(archive, ia_access="A", ia_secret="S", wayback_interval=0.25)
        store_with_row(settings, "https://a.example/")
        summary, (row,) = drain_once(settings, FakeClock(datetime(2024, 1, 4, 3, 42, tzinfo=UTC)))
    finally:
        archive.close()
    assert row.state == "queued" and row.attempts == 1 and row.reason == "HTTP 429"
    assert datetime.fromisoformat(row.next_try) > datetime(2024, 1, 4, 3, 42, tzinfo=UTC)
    assert summary.retried == 1


@pytest.mark.parametrize(
    "ext,result",
    [
        ("error:invalid-url-syntax", Result.FAILED),
        ("error:bad-request", Result.FAILED),
        ("error:job-failed", Result.RETRY),
        ("error:max-daily-bandwidth", Result.RETRY),
        ("error:max-daily-bandwidth-from-ip", Result.RETRY),
        ("error:max-daily-bandwidth-host", Result.RETRY),
        ("error:blocked-url", Result.FAILED),
        ("error:read-timeout", Result.RETRY),
    ],
)
def test_every_documented_refusal_is_classified(ext, result):
    answer = read_refusal({"status": "error", "status_ext": ext, "message": "no"})
    assert answer.result == result and not answer.unknown
    if ext.startswith("error:max-daily"):
        assert answer.retry_after >= 3600  # a daily quota: try again in hours, not seconds


def test_an_unknown_refusal_is_logged_and_final_after_a_few_tries(caplog, replay_settings, settings):
    from fakewayback import FakeWayback

    fake = FakeWayback()
    fake.submit_refusal = "error:brand-new-code"
    try:
        s = settings.with_(
            wayback=True,
            wayback_url=fake.base.rstrip("/"),
            archive_url=fake.base.rstrip("/"),
            ia_access="A",
            ia_secret="S",
            wayback_interval=0.0,
            wayback_retry_seconds=0.0,
        )
        store_with_row(s, "https://a.example/")
        clock = FakeClock(datetime(2024, 1, 4, 3, 42, tzinfo=UTC))
        with caplog.at_level(logging.WARNING, logger="archiver.wayback"):
            for _ in range(5):
                drain_once(s, clock)
                clock.advance(hours=1)
        rows = Store.open(s.data_dir).outbox()
    finally:
        fake.close()
    assert rows[0].state == "failed" and rows[0].attempts == 3
    assert "gave up after 3 attempts: error:brand-new-code" in rows[0].reason
    assert len(fake.submissions()) == 3
    assert "unknown Save Page Now refusal 'error:brand-new-code'" in caplog.text


# --- verification: replays of captures of URLs that redirected, compared with our version ---------


def stored_version(settings, url: str, body: bytes, when: datetime, cited_at: str = "") -> None:
    """Our version of a page, as a check on that date would have stored it."""
    fetched = FetchResult(url, Outcome.OK, when, url, 200, (("Content-Type", "text/html; charset=utf-8"),), body)
    with Store.open(settings.data_dir) as store:
        store.sync_citations([Citation("1", url, cited_at=cited_at)], when)
        store.record_check(Citation("1", url, cited_at=cited_at), fetched, extract(body, url, "text/html"), when)


def known_capture(settings, url: str, timestamp: str, status: int, when: datetime) -> None:
    with Store.open(settings.data_dir) as store:
        store.add_captures("1", [Capture(timestamp, url, status)], "cdx", when)
        store.mark_looked_up("1", "cdx", when)


def test_a_capture_of_a_url_that_redirected_is_followed_in_the_archive_compared_and_offered(replay_settings):
    """Issue 15, 3 and 4: the capture of the cited URL is a 301; its replay is followed inside the
    archive (rebuilt on our base, never fetched at web.archive.org), and the page it ends at holds
    the text of our version of that day, so it is offered, at the address the chain ends at."""
    archive = ReplayArchive(("replay-epa-redirect.json",))
    when = datetime(2018, 8, 8, 10, 45, tzinfo=UTC)
    try:
        settings = replay_settings(archive)
        stored_version(settings, EPA, recorded_body("replay-epa-redirect.json", 2), when)
        known_capture(settings, EPA, "20180808094144", 301, when)
        with Store.open(settings.data_dir) as store:
            summary = run_archive(settings, [Citation("1", EPA)], store, clock=FakeClock(when))
            (capture,) = store.captures("1")
    finally:
        archive.close()
    replays = [path for _method, path, _status in archive.served if path.startswith("/web/")]
    assert replays == [
        f"/web/20180808094144id_/{EPA}",
        f"/web/20180808094144id_/{EPA_MOVED}",
        f"/web/20180808104500id_/{EPA_MOVED}",
    ]
    assert capture.verified == 1 and summary.verified == 1
    assert capture.url == f"https://web.archive.org/web/20180808104500/{EPA_MOVED}"
    assert "matches our version of 2018-08-08" in capture.verify_note


def test_a_capture_that_holds_another_text_is_kept_with_its_reason_and_never_offered(replay_settings):
    """Issue 15, 4: the archive's page is a fine article, but not the one we stored."""
    archive = ReplayArchive(("replay-epa-redirect.json",))
    when = datetime(2018, 8, 8, 10, 45, tzinfo=UTC)
    try:
        settings = replay_settings(archive)
        stored_version(settings, EPA, article("Kursk", *LOREM).encode(), when)
        known_capture(settings, EPA, "20180808094144", 301, when)
        with Store.open(settings.data_dir) as store:
            summary = run_archive(settings, [Citation("1", EPA)], store, clock=FakeClock(when))
            (capture,) = store.captures("1")
    finally:
        archive.close()
    assert capture.verified == 0 and summary.rejected == 1
    assert capture.verify_note.startswith("the archived text is not our version of 2018-08-08 (resemblance 0%)")


def test_a_redirect_loop_inside_the_archive_is_not_offered(replay_settings):
    url = "https://link.springer.com/article/10.1007/s00382-012-1331-2"
    archive = ReplayArchive(("replay-springer-loop.json",))
    when = datetime(2020, 9, 25, 8, tzinfo=UTC)
    try:
        settings = replay_settings(archive)
        known_capture(settings, url, "20200925075402", 303, when)
        with Store.open(settings.data_dir) as store:
            store.sync_citations([Citation("1", url)], when)
            run_archive(settings, [Citation("1", url)], store, clock=FakeClock(when))
            (capture,) = store.captures("1")
    finally:
        archive.close()
    assert capture.verified == 0 and capture.verify_note == "redirect loop inside the archive"
    # the chain comes back to the cited URL at its third answer: the loop is seen without asking again
    assert len([s for s in archive.served if s[1].startswith("/web/")]) == 3


def test_a_capture_of_a_page_we_never_stored_is_not_offered_even_when_it_looks_like_a_page(replay_settings):
    """The capture of epa.gov/climatechange redirects to a signpost ("We want to help you find what
    you are looking for"), a page of 134 words that no detector calls an error. Only our own
    version could tell it is not the article, and we never stored one: it is not offered."""
    url = "http://epa.gov/climatechange"
    archive = ReplayArchive(("replay-epa-signpost.json",))
    when = datetime(2020, 2, 1, 3, tzinfo=UTC)
    try:
        settings = replay_settings(archive)
        known_capture(settings, url, "20200201020357", 302, when)
        with Store.open(settings.data_dir) as store:
            store.sync_citations([Citation("1", url)], when)
            run_archive(settings, [Citation("1", url)], store, clock=FakeClock(when))
            (capture,) = store.captures("1")
    finally:
        archive.close()
    assert [p.split("id_/")[1] for _m, p, _s in archive.served if p.startswith("/web/")] == [
        url,
        "https://www.epa.gov/climatechange",
        "https://www.epa.gov/sites/production/files/signpost/cc.html",
        "https://www.epa.gov/sites/production/files/signpost/cc.html",
    ]
    assert capture.verified == 0 and capture.verify_note.startswith("cannot be compared: we never stored")
