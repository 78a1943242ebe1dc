"""`check` end to end: the simulated web, the real fetcher, trafilatura and a real SQLite store."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import pytest
from conftest import health_of, loopback_resolver, no_network_resolver, write_sources
from simweb import LOREM, Response, article

from archiver import Outcome, SourceError, Store, run_check


def _two_pages(web, settings):
    a = web.page("/world/troops", article("Troops deployed to Kursk", *LOREM))
    b = web.page("/world/sanctions", article("Sanctions explained", *reversed(LOREM)))
    write_sources(
        settings.sources, [{"id": "1", "url": a, "claim": "15 000 soldats"}, {"id": "2", "url": b, "claim": ""}]
    )
    return a, b


def test_first_pass_stores_one_version_per_page(web, settings):
    _two_pages(web, settings)
    summary = run_check(settings)
    assert [c.outcome for c in summary.checks] == [Outcome.OK, Outcome.OK]
    assert summary.new_versions == 2 and not summary.offline
    with Store.open(settings.data_dir) as store:
        (v1,) = store.versions("1")
        assert v1.title == "Troops deployed to Kursk"
        assert v1.author == "Jane Reporter" and v1.date == "2025-04-28" and v1.language == "en"
        assert "15,000 soldiers" in store.read_text(v1)
        assert b"<nav>" in store.read_raw(v1)  # the raw body as served, kept compressed
        assert store.count("checks") == 2 and store.count("versions") == 2


def test_a_pass_tells_the_changes_worth_an_alert_not_every_first_check(web, settings):
    a, _ = _two_pages(web, settings)
    gone = web.page("/world/gone", "<h1>Not Found</h1>", status=404)
    write_sources(settings.sources, [{"id": "1", "url": a}, {"id": "3", "url": gone}])
    first = run_check(settings)
    assert [(c.citation_id, c.old, c.new) for c in first.changes] == [("3", "unchecked", "rotten")]
    assert len(first.checks) == 2  # the healthy first check is still a line of the summary
    web.page("/world/troops", "<h1>Not Found</h1>", status=404)
    second = run_check(settings)
    assert [(c.citation_id, c.old, c.new) for c in second.changes] == [("1", "ok", "rotten")]


def test_unchanged_second_pass_adds_checks_but_no_versions(web, settings):
    _two_pages(web, settings)
    run_check(settings)
    second = run_check(settings)
    assert second.new_versions == 0
    with Store.open(settings.data_dir) as store:
        assert store.count("checks") == 4 and store.count("versions") == 2
        checks = store.checks("1")
        assert checks[0].version_hash == checks[1].version_hash != ""


def test_a_body_repeated_byte_for_byte_is_not_extracted_again(web, settings):
    _two_pages(web, settings)
    run_check(settings)
    run_check(settings)
    with Store.open(settings.data_dir) as store:
        rows = store.db.execute(
            "SELECT extract_ms, version_hash, new_version FROM checks WHERE citation_id = '1'"
        ).fetchall()
        health = health_of(store, "1")
    (first_ms, first_hash, first_new), (second_ms, second_hash, second_new) = rows
    assert first_new == 1 and second_new == 0 and second_hash == first_hash
    assert second_ms == 0  # the same bytes as the version held: same text, no trafilatura
    assert health["status"] == "ok" and health["versions"] == 1


def test_changed_page_gets_exactly_one_new_version(web, settings):
    a, _ = _two_pages(web, settings)
    run_check(settings)
    web.page(a, article("Troops deployed to Kursk", *LOREM[:2], "A correction was appended to this story."))
    assert run_check(settings).new_versions == 1
    assert run_check(settings).new_versions == 0
    with Store.open(settings.data_dir) as store:
        first, second = store.versions("1")
        assert first.hash != second.hash
        assert "correction" in store.read_text(second) and "correction" not in store.read_text(first)
        assert store.current_version("1") == second
        assert len(store.versions("2")) == 1


def test_boilerplate_change_around_the_text_is_not_a_new_version(web, settings):
    a, _ = _two_pages(web, settings)
    run_check(settings)
    page = article("Troops deployed to Kursk", *LOREM).replace("All rights reserved", "Tous droits réservés 2026")
    web.page(a, page.replace('<a href="/world">World</a>', '<a href="/live">Live: markets</a>'))
    assert run_check(settings).new_versions == 0


def test_redirect_chain_is_recorded_and_the_final_page_stored(web, settings):
    target = web.page("/2025/04/story", article("Moved story", *LOREM))
    web.redirect("/old", web.url("/interim"), 301)
    web.redirect("/interim", "/2025/04/story", 302)  # relative Location
    write_sources(settings.sources, [{"id": "1", "url": web.url("/old")}])
    (check,) = run_check(settings).checks
    assert check.outcome == Outcome.OK and check.final_url == target
    with Store.open(settings.data_dir) as store:
        row = store.db.execute("SELECT redirects, final_url FROM checks").fetchone()
    assert row[1] == target
    assert row[0] == (
        f'[["{web.url("/old")}", 301, "{web.url("/interim")}"], ["{web.url("/interim")}", 302, "{target}"]]'
    )


def test_second_pass_is_conditional_and_304_keeps_the_version(web, settings):
    url = web.set(
        "/etag", Response(200, article("Cached", *LOREM).encode(), {"Content-Type": "text/html"}, etag='"v1"')
    )
    write_sources(settings.sources, [{"id": "1", "url": url}])
    run_check(settings)
    second = run_check(settings)
    assert second.checks[0].outcome == Outcome.NOT_MODIFIED and second.checks[0].http_status == 304
    first, again = [r for r in web.requests if r.path == "/etag"]
    assert first.headers.get("if-none-match") is None
    assert again.headers["if-none-match"] == '"v1"'
    with Store.open(settings.data_dir) as store:
        first_check, second_check = store.checks("1")
        assert second_check.version_hash == first_check.version_hash
        assert store.count("versions") == 1


def test_error_statuses_are_recorded_as_checks_without_versions(web, settings):
    web.page("/gone", "<h1>Gone</h1>", status=410)
    web.page("/broken", "<h1>Oops</h1>", status=503)
    write_sources(
        settings.sources,
        [
            {"id": "1", "url": web.url("/missing")},
            {"id": "2", "url": web.url("/gone")},
            {"id": "3", "url": web.url("/broken")},
        ],
    )
    summary = run_check(settings)
    assert [(c.outcome, c.http_status) for c in summary.checks] == [
        (Outcome.HTTP_ERROR, 404),
        (Outcome.HTTP_ERROR, 410),
        (Outcome.HTTP_ERROR, 503),
    ]
    with Store.open(settings.data_dir) as store:
        assert store.count("versions") == 0 and store.count("checks") == 3
        assert store.checks("2")[0].error == "HTTP 410"


def test_no_network_at_all_is_an_offline_pass_not_rot(settings):
    write_sources(
        settings.sources,
        [{"id": "1", "url": "https://www.nbcnews.com/a"}, {"id": "2", "url": "https://www.economist.com/b"}],
    )
    summary = run_check(settings, resolver=no_network_resolver)
    assert summary.offline
    assert {c.outcome for c in summary.checks} == {Outcome.DNS_ERROR}
    with Store.open(settings.data_dir) as store:
        assert all(check.offline for check in store.checks("1"))  # its pass is recorded as offline
        assert store.count("checks") == 2  # every check is still recorded


def test_a_resolver_that_raises_the_operating_systems_error_gives_a_dns_failure(settings):
    """A resolver of a library user may let socket.gaierror through instead of DNSFailure: the
    check still records a DNS failure (the browser's network handler once logged it as a crash)."""

    async def os_style_resolver(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, f"{host}: Name or service not known")

    write_sources(settings.sources, [{"id": "1", "url": "https://www.nbcnews.com/a"}])
    summary = run_check(settings, resolver=os_style_resolver)
    assert [c.outcome for c in summary.checks] == [Outcome.DNS_ERROR]
    assert "Name or service not known" in summary.checks[0].error


def test_one_dead_host_among_live_ones_is_not_offline(web, settings):
    url = web.page(
        "/a",
        article("Alive", *LOREM),
    )
    write_sources(settings.sources, [{"id": "1", "url": url}, {"id": "2", "url": "http://no-such-host.example/x"}])
    summary = run_check(settings, resolver=loopback_resolver)
    assert not summary.offline
    assert summary.checks[1].outcome == Outcome.DNS_ERROR
    assert "no-such-host.example" in summary.checks[1].error


def test_malformed_row_is_reported_with_its_line_and_nothing_is_written(web, settings):
    settings.sources.write_text("id,url,claim\n1,http://a.test/x,ok\n\n2,ftp://a.test/y,bad scheme\n", encoding="utf-8")
    with pytest.raises(SourceError) as info:
        run_check(settings)
    assert info.value.problems == [(4, "url 'ftp://a.test/y' is not an absolute http:// or https:// URL")]
    assert f"{settings.sources}:4:" in str(info.value)
    assert not settings.data_dir.exists()


def test_only_checks_the_named_citations(web, settings):
    _two_pages(web, settings)
    summary = run_check(settings, only=["2"])
    assert [c.citation.id for c in summary.checks] == ["2"]
    assert web.hits("/world/troops") == 0


def test_snapshot_file_names_come_from_content_hashes_only(web, settings):
    url = web.page("/story.php?file=..%2F..%2Fetc%2Fpasswd", article("../../etc/passwd <b>x</b>", *LOREM))
    write_sources(settings.sources, [{"id": "1", "url": url}])
    assert run_check(settings).new_versions == 1
    files = [
        p.relative_to(settings.data_dir).as_posix()
        for p in Path(settings.data_dir).rglob("*")
        if p.is_file() and not p.name.startswith("archiver.db")
    ]
    assert len(files) == 2  # the text, and the WARC record: the body's one copy (no raw/*.gz beside it)
    for name in files:  # content hashes, or the day's WARC file
        assert re.fullmatch(
            r"(text/[0-9a-f]{2}/[0-9a-f]{64}\.txt|warc/\d{4}-\d{2}-\d{2}(-\d+)?\.warc\.gz)",
            name,
        )


def test_extraction_in_worker_processes_gives_the_same_versions(web, settings):
    _two_pages(web, settings)
    inline = run_check(settings)
    pooled = run_check(settings.with_(workers=2, data_dir=settings.data_dir.parent / "pooled"))
    assert [c.version_hash for c in pooled.checks] == [c.version_hash for c in inline.checks]
    assert pooled.new_versions == 2


def pathological_page(attributes: int = 150_000) -> str:
    """One element with a huge number of attributes: trafilatura takes minutes over it (issue 16)."""
    attrs = " ".join(f'a{i}="x"' for i in range(attributes))
    return article("Many attributes", *LOREM).replace("<article>", f"<article><div {attrs}>hello</div>")


def test_an_extraction_past_its_deadline_is_recorded_and_its_worker_replaced(web, settings):
    """With one worker, a page that would take minutes to extract ends at the deadline, its check is
    recorded as `extract_timeout` (not rot: the site answered), and the page queued behind it is
    extracted by the replacement worker."""
    slow = web.page("/slow", pathological_page())
    after = web.set(
        "/after",
        Response(200, article("Queued behind", *LOREM).encode(), {"Content-Type": "text/html"}, delay=0.5),
    )
    write_sources(settings.sources, [{"id": "slow", "url": slow}, {"id": "after", "url": after}])
    started = time.monotonic()
    summary = run_check(settings.with_(workers=1, extract_timeout=2.0))
    assert time.monotonic() - started < 40  # unbounded, the slow page alone takes minutes
    got = {c.citation.id: c for c in summary.checks}
    assert got["slow"].outcome == Outcome.EXTRACT_TIMEOUT and got["slow"].http_status == 200
    assert "extraction ran past 2s" in got["slow"].error
    assert got["after"].outcome == Outcome.OK and got["after"].new_version
    with Store.open(settings.data_dir) as store:
        (check,) = store.checks("slow")
        assert check.outcome == "extract_timeout" and check.verdicts.signal.kind == "extract_timeout"
        assert check.version_hash == "" and store.versions("slow") == []
        health = health_of(store, "slow")
        assert health["status"] == "ok" and "extraction ran past 2s" in health["rot"]["evidence"]
