"""Verdicts through whole passes: a controlled clock, the simulated web, the real store and report."""

from __future__ import annotations

import json

from click.testing import CliRunner
from conftest import write_sources
from simweb import LOREM, Response, article

from archiver import run_check
from archiver.cli import cli
from archiver.store import Store

CLAIM = "Selon Séoul, 15 000 soldats ont été envoyés dans la région de Koursk."


def health(settings, cid="1"):
    with Store.open(settings.data_dir) as store:
        return store.health(cid)


def test_outage_is_failing_then_rotten_after_three_checks_over_three_days_then_recovers(web, settings, clock):
    url = web.page("/world/story", article("Kursk", *LOREM))
    write_sources(settings.sources, [{"id": "1", "url": url, "claim": CLAIM}])
    run_check(settings, clock=clock)
    assert health(settings)["status"] == "ok"
    web.page(url, "<h1>Service Unavailable</h1>", status=503)
    for day in (1, 2.5):
        clock.advance(days=day)
        run_check(settings, clock=clock)
        h = health(settings)
        assert h["status"] == "failing" and h["flags"] == ["link_rot"] and not h["rot"]["confirmed"]
    clock.advance(days=1)
    summary = run_check(settings, clock=clock)
    h = health(settings)
    assert h["status"] == "rotten" and h["rot"]["confirmed"] and h["rot"]["kind"] == "server_error"
    assert [(c.old, c.new) for c in summary.changes] == [("failing", "rotten")]
    web.page(url, article("Kursk", *LOREM))
    clock.advance(days=1)
    summary = run_check(settings, clock=clock)
    h = health(settings)
    assert h["status"] == "ok" and h["rot"]["recovered_at"] == clock.now.isoformat()
    assert [(c.old, c.new) for c in summary.changes] == [("rotten", "ok")]


def test_a_404_is_rotten_at_once(web, settings, clock):
    write_sources(settings.sources, [{"id": "1", "url": web.url("/deleted-story")}])
    run_check(settings, clock=clock)
    h = health(settings)
    assert h["status"] == "rotten" and h["rot"]["kind"] == "not_found" and h["http_status"] == 404
    assert "HTTP 404" in h["rot"]["evidence"]


def test_soft_404_found_by_probing_a_random_sibling(web, settings, clock):
    home = article("The Daily", "Welcome to the Daily: the latest news, sport and weather from the region.")
    # the site answers every URL, even one that cannot exist, with its front page and a 200
    web.fallback = lambda seen: Response(200, home.encode(), {"Content-Type": "text/html"})
    write_sources(settings.sources, [{"id": "1", "url": web.url("/news/old-story")}])
    run_check(settings, clock=clock)
    h = health(settings)
    assert h["status"] == "rotten" and h["rot"]["kind"] == "soft_404"
    assert "cannot exist" in h["rot"]["evidence"]
    probes = [r.path for r in web.requests if "archiver-probe-" in r.path]
    assert len(probes) == 1
    run_check(settings, clock=clock)  # the site's answer is cached: no second probe
    assert len([r for r in web.requests if "archiver-probe-" in r.path]) == 1


def test_moved_page_gives_a_suggestion(web, settings, clock):
    new = web.page("/europe/2025/story-renamed", article("Kursk", *LOREM))
    web.redirect("/world/2025/story", new)
    write_sources(settings.sources, [{"id": "1", "url": web.url("/world/2025/story")}])
    run_check(settings, clock=clock)
    h = health(settings)
    assert h["status"] == "ok" and h["rot"]["moved_to"] == new


def test_paywall_appearing_later_is_flagged_with_evidence(web, settings, clock):
    url = web.page("/world/story", article("Kursk", *LOREM * 3))
    write_sources(settings.sources, [{"id": "1", "url": url}])
    run_check(settings, clock=clock)
    assert health(settings)["paywall"]["kind"] == "none"
    web.page(url, article("Kursk", LOREM[0], "Subscribe to continue reading. Already a subscriber? Log in."))
    clock.advance(days=1)
    run_check(settings, clock=clock)
    h = health(settings)
    assert h["status"] == "paywalled" and h["flags"] == ["paywall"]
    assert h["paywall"]["kind"] == "hard" and h["paywall"]["since"] == clock.now.isoformat()
    assert any("subscribe to continue reading" in e for e in h["paywall"]["evidence"])


def test_claim_drift_when_the_source_drops_the_cited_number(web, settings, clock):
    url = web.page("/world/story", article("Kursk", *LOREM))
    write_sources(settings.sources, [{"id": "1", "url": url, "claim": CLAIM}])
    run_check(settings, clock=clock)
    h = health(settings)
    assert h["claim"]["supported"] is True and h["claim"]["found"] == ["15 000"]
    web.page(url, article("Kursk", LOREM[0].replace("about 15,000 soldiers", "thousands of soldiers"), *LOREM[1:]))
    clock.advance(days=2)
    run_check(settings, clock=clock)
    h = health(settings)
    assert h["status"] == "drifted" and set(h["flags"]) == {"drift", "claim_drift"}
    assert h["claim"]["kind"] == "claim_drift" and h["claim"]["lost"] == ["15 000"]
    assert h["drift"]["kind"] == "minor_edit" and h["drift"]["versions"] == 2


def test_offline_pass_does_not_touch_a_healthy_citation(web, settings, clock):
    from conftest import no_network_resolver

    url = web.page("/world/story", article("Kursk", *LOREM))
    write_sources(settings.sources, [{"id": "1", "url": url.replace("127.0.0.1", "news.test")}])
    from conftest import loopback_resolver

    run_check(settings, clock=clock, resolver=loopback_resolver)
    for _ in range(4):
        clock.advance(days=2)
        run_check(settings, clock=clock, resolver=no_network_resolver)
    h = health(settings)
    assert h["rot"]["status"] == "ok" and h["status"] == "offline" and "link_rot" not in h["flags"]


def test_report_json_contract(web, settings, clock):
    ok = web.page("/a/story", article("Fine", *LOREM))
    write_sources(
        settings.sources,
        [
            {"id": "1", "url": ok, "claim": CLAIM},
            {"id": "2", "url": web.url("/b/missing")},
            {"id": "10", "url": web.url("/c/never")},
        ],
    )
    run_check(settings, only=["1", "2"], clock=clock)
    result = CliRunner().invoke(
        cli, ["--data-dir", str(settings.data_dir), "--sources", str(settings.sources), "report", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"generated_at", "summary", "citations"}
    assert data["summary"]["ok"] == 1 and data["summary"]["rotten"] == 1 and data["summary"]["unchecked"] == 1
    first, second, third = data["citations"]
    assert [c["id"] for c in data["citations"]] == ["1", "2", "10"]  # footnote order
    for entry in data["citations"]:
        assert {
            "id",
            "url",
            "status",
            "flags",
            "checked_at",
            "http_status",
            "final_url",
            "rot",
            "paywall",
            "drift",
            "claim",
        } <= set(entry)
    assert first["status"] == "ok" and first["http_status"] == 200 and first["final_url"] == ok
    assert first["claim"]["supported"] is True and first["drift"]["kind"] == "unchanged"
    assert second["status"] == "rotten" and second["flags"] == ["link_rot"]
    assert second["rot"]["kind"] == "not_found" and second["rot"]["since"] == clock.now.isoformat()
    assert third["status"] == "unchecked" and third["rot"] is None


def test_report_without_a_store_says_so(settings):
    result = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "report"])
    assert result.exit_code == 4 and "run `archiver check` first" in result.output


def test_a_probed_page_keeps_its_move_suggestion(web, settings, clock):
    other = web.url("/europe/2025/the-story-now")
    url = web.page("/world/story", article("Kursk", *LOREM, extra_head=f'<link rel="canonical" href="{other}">'))
    write_sources(settings.sources, [{"id": "1", "url": url}])
    run_check(settings, clock=clock)
    assert any("archiver-probe-" in r.path for r in web.requests)  # short page: the site was probed
    h = health(settings)
    assert h["status"] == "ok" and h["rot"]["moved_to"] == other
