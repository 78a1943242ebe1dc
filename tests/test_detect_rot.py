"""Link rot, decided from data alone: single checks from tables, histories from a clock we control."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from archiver.detect.page import Page
from archiver.detect.rot import (
    Observation,
    ProbeAnswer,
    RotPolicy,
    Severity,
    Signal,
    assess,
    classify,
)
from archiver.models import Hop, Outcome

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


def test_text_matching_the_sites_answer_to_a_random_url_is_a_soft_404():
    generic = "Welcome to the Daily. Latest news, weather and sport from around the region, updated every hour."
    probe = ProbeAnswer("https://news.example/world/2025/04/28/archiver-probe-1", 200, generic)
    signal = classify(Outcome.OK, 200, URL, URL, page=page("The Daily", f"<p>{generic}</p>"), text=generic, probe=probe)
    assert signal.kind == "soft_404" and "cannot exist" in signal.evidence
    honest = ProbeAnswer(probe.url, 404, "")
    assert (
        classify(
            Outcome.OK, 200, URL, URL, page=page("The Daily", f"<p>{generic}</p>"), text=generic, probe=honest
        ).severity
        == Severity.HEALTHY
    )


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
