"""Link rot, decided from data alone: single checks from tables, histories from a clock we control."""

from __future__ import annotations

import re._parser as sre  # the standard library's own reading of a pattern
from datetime import UTC, datetime, timedelta

import pytest

from archiver.detect import rot
from archiver.detect.page import Page
from archiver.detect.rot import ProbeAnswer, classify, needs_second_probe, probe_verdict, worth_probing
from archiver.detect.rot_history import Observation, assess
from archiver.models import HEALTHY, Hop, Outcome, RotPolicy, Severity, Signal

URL = "https://news.example/world/2025/04/28/troops-confirmed-kursk"
ARTICLE_TEXT = " ".join(["Troops were deployed to the Kursk region, officials said on Monday."] * 40)


def page(title: str = "Troops confirmed", body: str = "", head: str = "") -> Page:
    return Page.parse(f"<html><head><title>{title}</title>{head}</head><body>{body}</body></html>")


@pytest.mark.parametrize(
    "outcome,status,kind,severity",
    [
        (Outcome.HTTP_ERROR, 404, "not_found", Severity.PERMANENT),
        (Outcome.HTTP_ERROR, 410, "gone", Severity.PERMANENT),
        (Outcome.HTTP_ERROR, 400, "client_error", Severity.PERMANENT),
        (Outcome.HTTP_ERROR, 500, "server_error", Severity.TRANSIENT),
        (Outcome.HTTP_ERROR, 503, "server_error", Severity.TRANSIENT),
        (Outcome.HTTP_ERROR, 429, "rate_limited", Severity.TRANSIENT),
        (Outcome.HTTP_ERROR, 401, "blocked", Severity.BLOCKED),
        (Outcome.HTTP_ERROR, 403, "blocked", Severity.BLOCKED),
        (Outcome.HTTP_ERROR, 412, "blocked", Severity.BLOCKED),
        (Outcome.HTTP_ERROR, 428, "blocked", Severity.BLOCKED),
        (Outcome.DNS_ERROR, None, "dns", Severity.TRANSIENT),
        (Outcome.CONNECT_ERROR, None, "connection_refused", Severity.TRANSIENT),
        (Outcome.RESET, None, "connection_reset", Severity.TRANSIENT),
        (Outcome.TLS_ERROR, None, "tls", Severity.TRANSIENT),
        (Outcome.TIMEOUT, None, "timeout", Severity.TRANSIENT),
        (Outcome.REDIRECT_LOOP, None, "redirect_loop", Severity.TRANSIENT),
    ],
)
def test_each_failure_is_named(outcome, status, kind, severity):
    signal = classify(outcome, status, URL, URL)
    assert (signal.kind, signal.severity) == (kind, severity)
    assert signal.evidence


@pytest.mark.parametrize(
    "title,body",
    [
        ("Page not found | Daily", "<p>Try the search box.</p>"),
        ("Erreur 404 - Le Journal", "<p>Retour à l'accueil</p>"),
        ("Le Journal", "<h1>Page introuvable</h1><p>Retour à l'accueil</p>"),
        ("Le Journal", "<p>Désolé, la page que vous cherchez n'existe plus. Retour à l'accueil.</p>"),
        ("The Daily", "<p>Sorry, the page you are looking for could not be found.</p>"),
        ("The Daily", "<h2>This article is no longer available</h2>"),
    ],
)
def test_soft_404_pages_in_english_and_french(title, body):
    signal = classify(Outcome.OK, 200, URL, URL, page=page(title, body), text="Short text.")
    assert signal.kind == "soft_404" and signal.severity == Severity.PERMANENT
    assert "says" in signal.evidence


def test_an_article_that_mentions_404_errors_is_not_a_soft_404():
    body = "<p>" + ARTICLE_TEXT + " Users saw a page not found error for hours.</p>"
    signal = classify(Outcome.OK, 200, URL, URL, page=page("Outage hits site", body), text=ARTICLE_TEXT)
    assert signal.severity == Severity.HEALTHY


GENERIC = "Welcome to the Daily. Latest news, weather and sport from around the region, updated every hour."
SIBLING = "https://news.example/world/2025/04/28/archiver-probe-1"
UP = "https://news.example/world/2025/archiver-probe-2/archiver-probe-2"


@pytest.mark.parametrize(
    "first,second,rot",
    [
        # the sibling replaced the whole path: the site serves this for any address
        (ProbeAnswer("https://news.example/archiver-probe-1", 200, GENERIC, whole_path=True), None, True),
        # the sibling matched, and so did the probe one level up (the id-like segment replaced too)
        (ProbeAnswer(SIBLING, 200, GENERIC), ProbeAnswer(UP, 200, GENERIC), True),
        # an id-routed site: any slug under the id serves the page, but not another id
        (ProbeAnswer(SIBLING, 200, GENERIC), ProbeAnswer(UP, 404, ""), False),
        (ProbeAnswer(SIBLING, 200, GENERIC), ProbeAnswer(UP, 200, "Our front page: news, sport, weather."), False),
        # a sibling match alone proves nothing
        (ProbeAnswer(SIBLING, 200, GENERIC), None, False),
        # an honest site answers 404
        (ProbeAnswer(SIBLING, 404, ""), None, False),
        (None, None, False),
    ],
)
def test_a_probe_match_is_rot_only_when_the_site_serves_the_text_for_any_address(first, second, rot):
    signal = probe_verdict(GENERIC, first, second)
    if rot:
        assert signal is not None and signal.kind == "soft_404" and signal.severity == Severity.PERMANENT
        assert "cannot exist" in signal.evidence and first.url in signal.evidence
    else:
        assert signal is None


def test_the_second_probe_is_asked_only_after_a_partial_match():
    assert needs_second_probe(GENERIC, ProbeAnswer(SIBLING, 200, GENERIC))
    assert not needs_second_probe(GENERIC, ProbeAnswer(SIBLING, 200, GENERIC, whole_path=True))
    assert not needs_second_probe(GENERIC, ProbeAnswer(SIBLING, 404, ""))
    assert not needs_second_probe(GENERIC, ProbeAnswer(SIBLING, 200, "A different page altogether, about sport."))
    assert not needs_second_probe(GENERIC, None)


OG_ARTICLE = '<meta property="og:type" content="article">'


@pytest.mark.parametrize(
    "head,paywalled,redirected,probed",
    [
        ("", False, False, True),  # says nothing of itself: ask the site
        (OG_ARTICLE, False, False, False),
        ('<meta property="article:published_time" content="2025-04-28T09:00:00Z">', False, False, False),
        ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "T"}</script>', False, False, False),
        ("", True, False, False),  # a paywall teaser is short by design: never probed
        (OG_ARTICLE, False, True, True),  # an article reached by a redirect: where does the site send others?
        (OG_ARTICLE, True, True, False),
    ],
)
def test_only_a_page_that_says_nothing_of_itself_is_probed(head, paywalled, redirected, probed):
    judged = page("The Daily", f"<p>{GENERIC}</p>", head)
    signal = classify(Outcome.OK, 200, URL, URL, page=judged, text=GENERIC, paywalled=paywalled)
    assert signal.severity == Severity.HEALTHY
    assert worth_probing(signal, GENERIC, judged.article_evidence, paywalled, redirected) is probed


def test_a_list_of_article_teasers_is_not_article_markup():
    teaser = '<div itemscope itemtype="https://schema.org/NewsArticle"><a href="/a">A story</a></div>'
    assert page("Home", teaser * 5).article_evidence == ""
    assert page("Story", teaser).article_evidence == "schema.org NewsArticle (microdata)"


def test_a_paywall_teaser_is_short_by_design_not_a_soft_404():
    teaser = "<p>The committee met on Tuesday.</p><p>This article is no longer available to non-subscribers.</p>"
    short = "The committee met on Tuesday."
    assert classify(Outcome.OK, 200, URL, URL, page=page("Budget", teaser), text=short).kind == "soft_404"
    assert classify(Outcome.OK, 200, URL, URL, page=page("Budget", teaser), text=short, paywalled=True) == HEALTHY


def test_redirect_to_the_home_page_or_a_section_is_rot():
    for final in ("https://news.example/", "https://news.example/world/", "https://news.example/fr/"):
        hops = (Hop(URL, 301, final),)
        signal = classify(Outcome.OK, 200, URL, final, hops, page=page("The Daily"), text=ARTICLE_TEXT)
        assert signal.kind == "redirect_home" and final in signal.evidence


def test_redirect_to_another_article_is_a_move_with_a_suggestion():
    new = "https://news.example/europe/2025/04/29/troops-confirmed-kursk-update"
    signal = classify(Outcome.OK, 200, URL, new, (Hop(URL, 301, new),), page=page(), text=ARTICLE_TEXT)
    assert signal.severity == Severity.HEALTHY and signal.moved_to == new


def test_canonical_naming_another_article_is_a_suggestion_but_tracking_differences_are_not():
    other = "https://news.example/world/2025/04/28/troops-kursk-v2"
    signal = classify(
        Outcome.OK, 200, URL, URL, page=page(head=f'<link rel="canonical" href="{other}">'), text=ARTICLE_TEXT
    )
    assert signal.moved_to == other
    same = URL.replace("https://", "http://") + "/?utm_source=x"
    assert (
        classify(
            Outcome.OK,
            200,
            URL + "?mod=a",
            URL,
            page=page(head=f'<link rel="canonical" href="{same}">'),
            text=ARTICLE_TEXT,
        ).moved_to
        == ""
    )


@pytest.mark.parametrize(
    "body",
    [
        "<h1>example-news.com</h1><p>This domain is for sale! Buy this domain today.</p>",
        "<p>Ce nom de domaine est à vendre. Contactez-nous.</p>",
        '<p>Related links</p><script src="https://www.sedoparking.com/js/park.js"></script><p>parked free, courtesy of GoDaddy</p>',
    ],
)
def test_parked_domains(body):
    assert (
        classify(Outcome.OK, 200, URL, URL, page=page("example-news.com", body), text="Related links").kind == "parked"
    )


@pytest.mark.parametrize(
    "body",
    [
        "<h1>Before you continue to Google</h1><p>We use cookies and data to deliver services. Accept all cookies</p>",
        "<p>Nous utilisons des cookies pour améliorer votre expérience. Accepter et fermer</p>",
    ],
)
def test_cookie_walls_are_blocked_not_rot(body):
    signal = classify(Outcome.OK, 200, URL, URL, page=page("Consent", body), text="Consent")
    assert (signal.kind, signal.severity) == ("cookie_wall", Severity.BLOCKED)


def test_an_article_mentioning_cookies_is_not_a_cookie_wall():
    body = f"<p>{ARTICLE_TEXT}</p><footer>We value your privacy. Manage cookie preferences.</footer>"
    assert classify(Outcome.OK, 200, URL, URL, page=page("T", body), text=ARTICLE_TEXT).severity == Severity.HEALTHY


def test_challenge_pages_are_blocked_not_rot():
    wall = page("Just a moment...", "<p>Checking your browser before accessing the site.</p>")
    assert classify(Outcome.OK, 200, URL, URL, page=wall, text="").kind == "bot_wall"
    assert classify(Outcome.HTTP_ERROR, 403, URL, URL, page=wall).severity == Severity.BLOCKED
    assert classify(Outcome.HTTP_ERROR, 503, URL, URL, page=wall).severity == Severity.BLOCKED


# --- histories --------------------------------------------------------------------------------------

T0 = datetime(2026, 3, 1, tzinfo=UTC)
OK = Signal("", Severity.HEALTHY)
DOWN = Signal("server_error", Severity.TRANSIENT, "HTTP 503 server error")
GONE = Signal("not_found", Severity.PERMANENT, "HTTP 404 Not Found")
WALL = Signal("blocked", Severity.BLOCKED, "access refused: forbidden (403)")


def history(*steps: tuple[float, Signal], offline: set[int] = frozenset()) -> list[Observation]:
    return [Observation(T0 + timedelta(days=d), s, i in offline) for i, (d, s) in enumerate(steps)]


def test_a_passing_outage_is_failing_not_rotten():
    verdict = assess(history((0, OK), (1, DOWN), (1.5, DOWN), (2, DOWN)))
    assert verdict.status == "failing" and not verdict.confirmed and verdict.failures == 3


def test_transient_failures_become_rot_after_three_checks_over_three_days():
    verdict = assess(history((0, OK), (1, DOWN), (2.5, DOWN), (4, DOWN)))
    assert verdict.status == "rotten" and verdict.confirmed and verdict.kind == "server_error"
    assert verdict.since == (T0 + timedelta(days=1)).isoformat()


def test_the_policy_is_configurable():
    steps = history((0, DOWN), (0.5, DOWN))
    assert assess(steps, RotPolicy(failures=2, span=timedelta(hours=6))).status == "rotten"
    assert assess(steps).status == "failing"


def test_a_404_is_reported_at_once_and_confirmed_later():
    first = assess(history((0, OK), (1, GONE)))
    assert first.status == "rotten" and not first.confirmed
    later = assess(history((0, OK), (1, GONE), (2.5, GONE), (4.5, GONE)))
    assert later.status == "rotten" and later.confirmed


def test_recovery_clears_rot_and_is_recorded():
    verdict = assess(history((0, DOWN), (2, DOWN), (4, DOWN), (5, OK)))
    assert verdict.status == "ok" and verdict.recovered_at == (T0 + timedelta(days=5)).isoformat()
    assert "recovered after server_error" in verdict.evidence


def test_offline_passes_count_for_nothing():
    verdict = assess(history((0, OK), (1, DOWN), (3, DOWN), (5, DOWN), offline={1, 2, 3}))
    assert verdict.status == "ok"
    assert assess(history((0, DOWN), offline={0})).status == "offline"


def test_access_refusals_are_blocked_never_rot():
    verdict = assess(history((0, OK), (1, WALL), (3, WALL), (6, WALL), (9, WALL)))
    assert verdict.status == "blocked" and verdict.since == (T0 + timedelta(days=1)).isoformat()


def test_evidence_says_what_is_known_since_when_and_what_would_confirm_it():
    first = assess(history((0, OK), (1, GONE)))
    assert first.evidence == (
        "HTTP 404 Not Found, since 2026-03-02 00:00 UTC (1 check); reported at once, not confirmed yet: "
        "it will be if 2 more checks fail, the last on or after 2026-03-05 00:00 UTC"
    )
    later = assess(history((0, OK), (1, GONE), (2.5, GONE), (4.5, GONE)))
    assert later.evidence == (
        "HTTP 404 Not Found, since 2026-03-02 00:00 UTC (3 checks over 3.5 days); "
        "confirmed: at least 3 failed checks over 3 days"
    )
    outage = assess(history((0, OK), (1, DOWN), (1.5, DOWN), (2, DOWN)))
    assert outage.evidence == (
        "HTTP 503 server error, since 2026-03-02 00:00 UTC (3 checks over 1 day); not rot yet, it may pass: "
        "it becomes rot if a check on or after 2026-03-05 00:00 UTC still fails"
    )


def _expansions(items) -> list[str]:
    """Every string a pattern without unbounded repeats matches (boundaries read as "")."""
    out = [""]
    for op, arg in items:
        if op is sre.LITERAL:
            options = [chr(arg)]
        elif op is sre.IN:
            options = [chr(a) for o, a in arg if o is sre.LITERAL]
            assert len(options) == len(arg)
        elif op is sre.SUBPATTERN:
            options = _expansions(arg[-1])
        elif op is sre.BRANCH:
            options = [s for branch in arg[1] for s in _expansions(branch)]
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            low, high, body = arg
            options = [s * n for s in _expansions(body) for n in range(low, high + 1)]
        elif op is sre.AT:
            options = [""]
        else:
            raise AssertionError(f"unexpected {op} in the pattern")
        out = [a + b for a in out for b in options]
    return out


def test_the_soft_404_text_is_searched_only_where_a_needle_every_match_holds_is():
    # a heading or short text without a needle is not searched (rot._may_say_not_found)
    matches = _expansions(sre.parse(rot.SOFT_404_TEXT.pattern))
    assert len(matches) > 100
    for text in matches:
        assert rot._may_say_not_found(text), text
        assert rot._may_say_not_found(text.upper()), text  # the pattern is case-blind
    for needle in rot._NOT_FOUND_NEEDLES:  # case-blind matching pairs i, k, s with ı, K, ſ
        assert needle == needle.lower() and needle.isascii() and not set(needle) & set("iks"), needle


def test_a_heading_that_says_the_page_is_gone_is_a_soft_404_among_other_headings():
    p = page(body="<h2>Latest news</h2><h1>Sorry, we couldn't find that page</h1><p>Home</p>")
    signal = classify(Outcome.OK, 200, URL, URL, page=p, text=ARTICLE_TEXT)
    assert signal.kind == "soft_404" and "heading" in signal.evidence
