"""Verdicts through whole passes: a controlled clock, the simulated web, the real store and report."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import health_of, write_sources
from simweb import LOREM, TEASERS, Response, article, bare_page, front_page

from archiver import run_check
from archiver.cli import cli
from archiver.probe import probe_target
from archiver.store import Store

CLAIM = "Selon Séoul, 15 000 soldats ont été envoyés dans la région de Koursk."


def health(settings, cid="1"):
    with Store.open(settings.data_dir) as store:
        return health_of(store, cid)


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
        assert h["status"] == "failing" and h["flags"] == ["failing"] and not h["rot"]["confirmed"]
    clock.advance(days=1)
    summary = run_check(settings, clock=clock)
    h = health(settings)
    assert h["status"] == "rotten" and h["rot"]["confirmed"] and h["rot"]["kind"] == "server_error"
    assert h["flags"] == ["link_rot"]
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
    assert h["rot"]["evidence"] == (
        "HTTP 404 Not Found, since 2026-01-01 12:00 UTC (1 check); reported at once, not confirmed yet: "
        "it will be if 2 more checks fail, the last on or after 2026-01-04 12:00 UTC"
    )


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
    assert h["drift"]["kind"] == "fact_change" and h["drift"]["versions"] == 2
    assert "figure changed: 'about 15,000' -> 'thousands of'" in h["drift"]["changes"]


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
    assert set(data) == {"generated_at", "summary", "citations", "articles"}  # fields are added, never removed
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
    url = web.page("/world/story", bare_page("Kursk", *LOREM, extra_head=f'<link rel="canonical" href="{other}">'))
    write_sources(settings.sources, [{"id": "1", "url": url}])
    run_check(settings, clock=clock)
    assert any("archiver-probe-" in r.path for r in web.requests)  # an untyped page: the site was probed
    h = health(settings)
    assert h["status"] == "ok" and h["rot"]["moved_to"] == other


# --- soft 404s on sites that route by id, answer with their home page, or hide their 404s ---------------


def probes(web):
    return [r.path for r in web.requests if "archiver-probe-" in r.path]


def test_an_id_routed_site_serving_the_article_for_any_slug_is_not_a_soft_404(web, settings, clock):
    # like Drupal's /node/123/<anything> or Stack Exchange's /questions/123/<any-slug>
    story = bare_page("Budget vote", *LOREM).encode()
    web.fallback = lambda seen: (
        Response(200, story, {"Content-Type": "text/html"})
        if seen.path.startswith("/node/123/")
        else Response(404, b"<h1>Not Found</h1>", {"Content-Type": "text/html"})
    )
    write_sources(settings.sources, [{"id": "1", "url": web.url("/node/123/budget-vote")}])
    run_check(settings, clock=clock)
    h = health(settings)
    assert h["status"] == "ok" and h["flags"] == [] and h["rot"]["kind"] is None
    # the sibling matched (the site ignores the slug); one level up, the id replaced too, it did not
    first, second = probes(web)
    assert first.startswith("/node/123/archiver-probe-") and second.startswith("/node/archiver-probe-")


def test_an_article_is_never_probed_whatever_the_site_serves_for_other_urls(web, settings, clock):
    story = article("Budget vote", *LOREM).encode()
    web.fallback = lambda seen: Response(200, story, {"Content-Type": "text/html"})  # any URL: this article
    write_sources(settings.sources, [{"id": "1", "url": web.url("/node/123/budget-vote")}])
    run_check(settings, clock=clock)
    assert health(settings)["status"] == "ok" and probes(web) == []


def test_a_site_redirecting_every_unknown_url_to_its_latest_story(web, settings, clock):
    latest = web.page("/2025/05/latest-story", article("Latest", *LOREM))
    web.fallback = lambda seen: Response(301, b"", {"Location": latest})
    write_sources(settings.sources, [{"id": "1", "url": web.url("/2024/03/old-story")}])
    run_check(settings, clock=clock)
    h = health(settings)
    assert h["status"] == "rotten" and h["rot"]["kind"] == "soft_404" and h["rot"]["moved_to"] is None


def test_a_redirect_to_the_articles_own_slug_is_a_move_not_rot(web, settings, clock):
    # Stack Exchange: /questions/123/<any slug> redirects to /questions/123/<the slug>
    real = web.page("/questions/123/how-to-read-a-balance-sheet", article("Balance sheets", *LOREM))
    web.fallback = lambda seen: (
        Response(301, b"", {"Location": real})
        if seen.path.startswith("/questions/123/")
        else Response(404, b"<h1>Page not found</h1>", {"Content-Type": "text/html"})
    )
    write_sources(settings.sources, [{"id": "1", "url": web.url("/questions/123/old-title")}])
    run_check(settings, clock=clock)
    h = health(settings)
    assert h["status"] == "ok" and h["flags"] == [] and h["rot"]["moved_to"] == real
    assert len(probes(web)) == 2  # the sibling followed the same redirect; one level up did not


def test_a_paywalled_teaser_on_an_id_routed_site_is_paywalled_never_rot(web, settings, clock):
    locked = '<script type="application/ld+json">{"@type": "NewsArticle", "isAccessibleForFree": false}</script>'
    teasers = {
        # declared not free (schema.org), and a bare teaser with only a subscription prompt
        "/article/881/council-budget": article("Council budget", LOREM[0], extra_head=locked),
        "/article/882/mayor-interview": bare_page(
            "Mayor interview", LOREM[1], "Subscribe to continue reading. Already a subscriber? Log in."
        ),
    }

    def id_routed(seen):
        for path, page in teasers.items():
            if seen.path.startswith(path.rsplit("/", 1)[0] + "/"):
                return Response(200, page.encode(), {"Content-Type": "text/html"})
        return Response(404, b"<h1>Not Found</h1>", {"Content-Type": "text/html"})

    web.fallback = id_routed
    write_sources(settings.sources, [{"id": str(n), "url": web.url(p)} for n, p in enumerate(teasers, 1)])
    run_check(settings, clock=clock)
    for cid in ("1", "2"):
        h = health(settings, cid)
        assert h["status"] == "paywalled" and h["flags"] == ["paywall"], h
        assert h["paywall"]["kind"] == "hard" and h["paywall"]["truncated"]
    assert probes(web) == []  # shortness that comes with paywall evidence is never probed


def test_a_site_answering_every_unknown_url_with_its_home_page(web, settings, clock):
    home = front_page("The Courier", *TEASERS).encode()
    live = web.page("/news/budget-vote", bare_page("Budget vote", *LOREM))
    web.fallback = lambda seen: Response(200, home, {"Content-Type": "text/html"})
    write_sources(settings.sources, [{"id": "1", "url": web.url("/news/old-story")}, {"id": "2", "url": live}])
    run_check(settings, clock=clock)
    gone = health(settings, "1")
    assert gone["status"] == "rotten" and gone["flags"] == ["link_rot"] and gone["rot"]["kind"] == "soft_404"
    assert "cannot exist" in gone["rot"]["evidence"] and "id-like part replaced too" in gone["rot"]["evidence"]
    assert health(settings, "2")["status"] == "ok"  # its text is not the home page's
    seen = len(probes(web))
    assert seen == 2  # the sibling and one level up, once for the whole site directory
    clock.advance(days=1)
    run_check(settings, clock=clock)  # the site's answers are kept: no new probe
    assert len(probes(web)) == seen and health(settings, "1")["status"] == "rotten"


def test_a_true_soft_404_site_in_a_language_we_have_no_words_for(web, settings, clock):
    oops = bare_page("Lo sentimos", "Lo sentimos, la página que busca no está disponible en este momento.").encode()
    web.fallback = lambda seen: Response(200, oops, {"Content-Type": "text/html"})
    write_sources(settings.sources, [{"id": "1", "url": web.url("/noticias/2024/articulo-viejo")}])
    run_check(settings, clock=clock)
    h = health(settings)
    assert h["status"] == "rotten" and h["rot"]["kind"] == "soft_404" and "cannot exist" in h["rot"]["evidence"]


def test_a_single_server_error_is_failing_and_never_carries_the_link_rot_flag(web, settings, clock):
    url = web.page("/world/story", "<h1>Internal Server Error</h1>", status=500)
    write_sources(settings.sources, [{"id": "1", "url": url}])
    run_check(settings, clock=clock)
    h = health(settings)
    assert h["status"] == "failing" and h["flags"] == ["failing"] and h["rot"]["status"] == "failing"
    assert not h["rot"]["confirmed"] and "not rot yet" in h["rot"]["evidence"]


# --- drift: version pairs served by the simulated web -----------------------------------------------------

STORY = [
    "The central bank raised its main interest rate to 0.75 percent on Thursday, the first rise in a decade.",
    "Five of the nine members of the rate-setting committee voted for the increase, the bank said in a statement.",
    'The governor said "we will not hesitate to act again" if inflation did not return to its target.',
    "Economists had expected the bank to wait until the autumn, when new figures on wages will be published.",
    "Mortgage lenders said they would pass the increase on to borrowers with variable rates within a month.",
    "The bank also cut its forecast for growth this year, citing weaker exports and the cost of energy.",
    "Savers welcomed the move, which should lift the interest paid on deposits after years of low returns.",
    "The opposition said the government had left households exposed to higher borrowing costs.",
]


def story(*paragraphs: str, teaser: str = "") -> str:
    link = [f'Read more: <a href="/news/other">{teaser}</a>'] if teaser else []
    return article("Rates rise", *paragraphs[:4], *link, *paragraphs[4:])


def two_versions(web, settings, clock, first: str, second: str):
    url = web.page("/business/rates-rise", first)
    write_sources(settings.sources, [{"id": "1", "url": url}])
    run_check(settings, clock=clock)
    assert health(settings)["status"] == "ok"
    web.page(url, second)
    clock.advance(days=1)
    run_check(settings, clock=clock)
    return health(settings)


def test_only_a_figure_changes_and_the_citation_is_drifted(web, settings, clock):
    changed = [STORY[0].replace("0.75", "1.00"), *STORY[1:]]
    h = two_versions(web, settings, clock, story(*STORY), story(*changed))
    assert h["status"] == "drifted" and h["flags"] == ["drift"] and h["drift"]["kind"] == "fact_change"
    assert "figure changed: '0.75' -> '1.00'" in h["drift"]["changes"] and h["drift"]["score"] > 0.95


def test_only_teasers_of_other_articles_change_and_nothing_is_flagged(web, settings, clock):
    h = two_versions(web, settings, clock, story(*STORY, teaser=TEASERS[0]), story(*STORY, teaser=TEASERS[1]))
    assert h["status"] == "ok" and h["flags"] == [] and h["drift"]["kind"] == "boilerplate"
    assert h["drift"]["versions"] == 2  # recorded: both versions are kept, and lookup shows what changed
    result = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "lookup", "1"])
    assert result.exit_code == 0 and "[boilerplate vs 2]" in result.output.splitlines()[2]


def test_a_correction_note_makes_the_citation_drifted(web, settings, clock):
    note = "Correction: An earlier version of this article misstated the number of members who voted for the rise."
    h = two_versions(web, settings, clock, story(*STORY), story(*STORY, note))
    assert h["status"] == "drifted" and h["drift"]["kind"] == "fact_change"
    assert any(c.startswith("correction added:") for c in h["drift"]["changes"])


def test_half_the_text_removed_is_a_major_rewrite(web, settings, clock):
    h = two_versions(web, settings, clock, story(*STORY), story(*STORY[:4]))
    assert h["status"] == "drifted" and h["flags"] == ["drift"] and h["drift"]["kind"] == "major_rewrite"
    assert h["drift"]["score"] < 0.75


def test_a_minor_edit_is_visible_but_raises_nothing(web, settings, clock):
    reworded = [*STORY[:5], STORY[5].replace("weaker exports", "softer exports"), *STORY[6:]]
    h = two_versions(web, settings, clock, story(*STORY), story(*reworded))
    assert h["status"] == "ok" and h["flags"] == [] and h["drift"]["kind"] == "minor_edit"
    result = CliRunner().invoke(
        cli, ["--data-dir", str(settings.data_dir), "--sources", str(settings.sources), "report", "--format", "md"]
    )
    assert "minor edit (similarity 99%): wording changed: 'weaker' -&gt; 'softer'" in result.output
    assert h["drift"]["changes"] == ["wording changed: 'weaker' -> 'softer'"]


@pytest.mark.parametrize(
    "url,level,site,probe,whole",
    [
        (
            "https://a.test/node/123/budget",
            1,
            "https://a.test/node/123",
            "https://a.test/node/123/archiver-probe-t",
            False,
        ),
        (
            "https://a.test/node/123/budget",
            2,
            "https://a.test/node/*",
            "https://a.test/node/archiver-probe-t/archiver-probe-t",
            False,
        ),
        (
            "https://a.test/2024/05/story.html?id=9",
            1,
            "https://a.test/2024/05",
            "https://a.test/2024/05/archiver-probe-t.html",
            False,
        ),
        ("https://a.test/news/story/", 1, "https://a.test/news", "https://a.test/news/archiver-probe-t/", False),
        ("https://a.test/news/story", 2, "https://a.test/*", "https://a.test/archiver-probe-t/archiver-probe-t", True),
        ("https://a.test/old-story", 1, "https://a.test/", "https://a.test/archiver-probe-t", True),
        ("https://a.test/old-story", 2, "https://a.test/", "https://a.test/archiver-probe-t", True),
    ],
)
def test_probe_targets_replace_the_last_segments_and_say_when_nothing_is_left(url, level, site, probe, whole):
    assert probe_target(url, "t", level) == (site, probe, whole)
