"""Captures from every Memento archive: link format read by relation, look-ups through a TimeMap or
a TimeGate, our own `archiver serve` as one more archive, each capture verified before it is offered."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from conftest import write_sources
from simweb import LOREM, Response, article

from archiver import Store, run_check
from archiver.archive.memento import Link, archive_name, mementos_in, parse_links
from archiver.cli import cli
from archiver.config import DEFAULT_MEMENTO_AGGREGATOR, Settings
from archiver.serve import make_server


def test_link_format_is_read_by_relation_with_commas_and_semicolons_inside_quotes():
    text = (
        '<https://a.example/>; rel="original", <https://tm.example/timemap/link/https://a.example/>; '
        'rel="self"; type="application/link-format"; from="Tue, 20 Jun 2000 18:02:59 GMT", '
        '<http://archive.ph/AbCd>; rel="first memento"; datetime="Tue, 20 Jun 2000 18:02:59 GMT", '
        '<https://arquivo.pt/wayback/20100101000000/https://a.example/>;rel=memento;datetime="Fri, 01 Jan 2010 00:00:00 GMT",'
        '<https://x.example/a,b;c>; rel="memento"; title="a, b; c"; datetime="Sat, 02 Jan 2021 09:40:09 GMT"'
    )
    links = parse_links(text)
    assert [link.url for link in links] == [
        "https://a.example/",
        "https://tm.example/timemap/link/https://a.example/",
        "http://archive.ph/AbCd",
        "https://arquivo.pt/wayback/20100101000000/https://a.example/",
        "https://x.example/a,b;c",
    ]
    assert links[2].rels == ("first", "memento") and links[4].param("title") == "a, b; c"
    assert links[4].datetime == datetime(2021, 1, 2, 9, 40, 9, tzinfo=UTC)
    mementos = mementos_in(links)
    assert [(m.archive, m.timestamp) for m in mementos] == [
        ("archive.today", "20000620180259"),
        ("Arquivo.pt", "20100101000000"),
        ("x.example", "20210102094009"),
    ]


def test_malformed_link_text_is_skipped_never_fatal():
    assert parse_links('garbage, <https://a.example/>; rel="memento"; datetime="not a date", <unterminated') == [
        Link("https://a.example/", ("memento",), (("datetime", "not a date"),))
    ]
    assert mementos_in(parse_links('<https://a.example/>; rel="memento"; datetime="not a date"')) == []


@pytest.mark.parametrize(
    "url,name",
    [
        ("https://web.archive.org/web/2020/https://a.example/", "wayback"),
        ("https://archive.ph/wip/hWZdd", "archive.today"),
        ("https://www.webarchive.org.uk/wayback/archive/2020/https://a.example/", "UK Web Archive"),
        ("https://webarchive.loc.gov/all/2020/https://a.example/", "Library of Congress"),
        ("http://127.0.0.1:8080/memento/20200101000000/https://a.example/", "127.0.0.1:8080"),
    ],
)
def test_archives_are_named(url, name):
    assert archive_name(url) == name


def test_the_aggregator_is_the_default_and_can_be_replaced_or_turned_off():
    assert Settings.load(environ={}).memento_endpoints == (DEFAULT_MEMENTO_AGGREGATOR,)
    both = Settings.load(environ={"ARCHIVER_MEMENTO_AGGREGATOR": "http://a.test/timemap/link/ http://b.test/timegate/"})
    assert both.memento_endpoints == ("http://a.test/timemap/link/", "http://b.test/timegate/")
    assert Settings.load(environ={"ARCHIVER_MEMENTO_AGGREGATOR": "none"}).memento_endpoints == ()
    # moving the Wayback Machine (as tests do) turns the public aggregator off unless it is named
    assert Settings.load(environ={"ARCHIVER_WAYBACK_URL": "http://127.0.0.1:9"}).memento_endpoints == ()
    result = CliRunner().invoke(cli, ["verify"], env={"ARCHIVER_MEMENTO_AGGREGATOR": "ftp://x"})
    assert result.exit_code == 3 and "ARCHIVER_MEMENTO_AGGREGATOR" in result.output


OTHER = [
    "The harvest festival drew record crowds to the old market square on Saturday, organisers said, "
    "with stalls selling apples, pears and cider from orchards across the valley.",
    "Local bakers competed for the annual bread prize, judged this year by a panel of retired chefs "
    "who praised the sourdough entries for their crust and their open crumb.",
    "Children took part in a parade of decorated carts, and a brass band played until late in the evening "
    "while volunteers collected donations for the village library roof.",
]


@pytest.fixture
def other_store(tmp_path, settings, web, clock):
    """Another archiver's store holding the page as it was on 2026-01-01, served as a Memento archive."""
    url = web.page("/world/story", article("Kursk deployment", *LOREM))
    theirs = settings.with_(data_dir=tmp_path / "theirs", sources=tmp_path / "theirs.csv")
    write_sources(theirs.sources, [{"id": "7", "url": url}])
    run_check(theirs, clock=clock)
    server = make_server(theirs.data_dir, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield url, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("kind", ["timemap/link", "timegate"])
def test_our_own_serve_is_an_archive_whose_copies_are_verified_and_offered(other_store, settings, web, kind):
    url, base = other_store
    nowhere = web.url("/no-wayback")  # every Wayback endpoint on loopback, answering 404
    ours = settings.with_(
        wayback=True, wayback_url=nowhere, archive_url=nowhere, memento_endpoints=(f"{base}/{kind}/",)
    )
    write_sources(ours.sources, [{"id": "1", "url": url, "cited_at": "2026-01-01"}])
    summary = run_check(ours)
    assert summary.archive is not None and summary.archive.verified == 1
    with Store.open(ours.data_dir) as store:
        (capture,) = [c for c in store.captures("1") if c.archive != "wayback"]
    assert capture.archive == base.removeprefix("http://") and capture.timestamp == "20260101120000"
    assert capture.url == f"{base}/memento/20260101120000/{url}" and capture.verified == 1
    assert "matches our version" in capture.verify_note
    report = json.loads(
        CliRunner().invoke(cli, ["--data-dir", str(ours.data_dir), "--sources", str(ours.sources), "report"]).output
    )
    assert report["citations"][0]["archive"] == {
        "url": capture.url,
        "timestamp": "20260101120000",
        "archive": capture.archive,
        "verified": True,
    }


def test_another_archives_copy_of_a_different_page_is_not_offered(other_store, settings, web):
    url, base = other_store
    web.page(url, article("Harvest festival", *OTHER))
    nowhere = web.url("/no-wayback")
    ours = settings.with_(
        wayback=True, wayback_url=nowhere, archive_url=nowhere, memento_endpoints=(f"{base}/timemap/link/",)
    )
    write_sources(ours.sources, [{"id": "1", "url": url}])
    summary = run_check(ours)
    with Store.open(ours.data_dir) as store:
        (capture,) = [c for c in store.captures("1") if c.archive != "wayback"]
    assert capture.verified == 0 and "is not our version" in capture.verify_note
    assert summary.archive is not None and summary.archive.rejected == 1


def test_lookup_of_an_unwatched_url_names_every_archive(other_store, settings):
    url, base = other_store
    result = CliRunner().invoke(
        cli,
        ["--data-dir", str(settings.data_dir), "lookup", url],
        env={"ARCHIVER_WAYBACK_URL": base + "/nothing-here", "ARCHIVER_MEMENTO_AGGREGATOR": f"{base}/timemap/link/"},
    )
    assert result.exit_code == 0, result.output
    assert "the web archives know 1 capture(s)" in result.output
    assert f"2026-01-01 12:00:00  127.0.0.1:{base.rsplit(':', 1)[1]}" in result.output


def test_an_aggregator_that_is_down_is_said_once_and_the_wayback_step_goes_on(settings, web):
    from fakewayback import FakeWayback

    url = web.page("/world/story", article("Kursk", *LOREM))
    fake = FakeWayback()
    try:
        fake.archive(url, "20250101000000", article("Kursk", *LOREM))
        dead = web.url("").rstrip("/").rsplit(":", 1)[0] + ":9"  # nothing listens on port 9
        ours = settings.with_(
            wayback=True,
            wayback_url=fake.base.rstrip("/"),
            archive_url=fake.base.rstrip("/"),
            wayback_interval=0.0,
            wayback_poll_seconds=0.01,
            memento_endpoints=(f"{dead}/timemap/link/",),
        )
        write_sources(ours.sources, [{"id": "1", "url": url}, {"id": "2", "url": web.page("/b", article("B", *LOREM))}])
        summary = run_check(ours)
    finally:
        fake.close()
    assert summary.archive is not None
    assert [u.split(" ")[0] for u in summary.archive.unreachable] == [dead]
    assert summary.archive.verified >= 1  # the Wayback Machine's capture of citation 1 was still judged
    web.set("/unused", Response(200, b""))


def test_the_internet_archive_keys_never_go_to_another_archive(settings, web):
    from fakewayback import FakeWayback
    from simweb import SimWeb

    other = SimWeb()  # a Memento endpoint that knows nothing, and remembers what it was sent
    fake = FakeWayback()
    try:
        url = web.page("/world/story", article("Kursk", *LOREM))
        write_sources(settings.sources, [{"id": "1", "url": url}])
        base = fake.base.rstrip("/")
        run_check(
            settings.with_(
                wayback=True,
                wayback_url=base,
                archive_url=base,
                ia_access="ACCESS",
                ia_secret="SECRET",
                wayback_interval=0.0,
                wayback_poll_seconds=0.01,
                memento_endpoints=(other.url("/timemap/link/"),),
            )
        )
        asked = list(other.requests)
    finally:
        other.close()
        fake.close()
    assert [r.path for r in asked] == [f"/timemap/link/{url}"]
    assert "authorization" not in asked[0].headers and "SECRET" not in str(asked[0].headers)
    assert any(r.headers.get("authorization") == "LOW ACCESS:SECRET" for r in fake.web.requests)
