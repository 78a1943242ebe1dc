"""Link rot: what one check says about a citation (the history of checks is `rot_history`'s).

A check's signal is `healthy`, `transient` (timeouts, 5xx, 429, resets, DNS: may pass), `permanent`
(404, 410, soft 404, redirect to the home page, parked domain: reported at once) or `blocked`
(401, 403, 412, 428, bot walls: we were refused, which says nothing of the page).

Soft 404s: a 200 page whose own title, heading, short text or canonical says it is not the cited
content; or one whose text is what the site serves for URLs that cannot exist (Bar-Yossef et al.'s
random sibling), asked only of pages with no paywall evidence and no article markup (or reached by
a redirect). Their method assumes the site has no routes that ignore part of the path; many do
(`/node/123/<anything>`, `/questions/123/<any-slug>`), so a match with the sibling alone proves
nothing: the probe goes one level up (the id-like segment replaced too) and only a match there, or
a sibling that replaced the whole path, makes the page rot.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from archiver.detect.page import Page
from archiver.detect.text import resemblance
from archiver.models import HEALTHY, Hop, Outcome, Severity, Signal
from archiver.urls import same_page


@dataclass(frozen=True)
class ProbeAnswer:
    """What the site served for a URL that cannot exist (Bar-Yossef et al.'s random sibling)."""

    url: str
    status: int | None
    text: str
    whole_path: bool = False  # every segment of the cited path was replaced: no id-like part is left


SOFT_404_TITLE = re.compile(
    r"\b(404|page not found|not found|page introuvable|page non trouvée|erreur 404|error 404|"
    r"page (does not|doesn[’']t) exist|cette page n[’']existe (pas|plus)|seite nicht gefunden)\b",
    re.I,
)
SOFT_404_TEXT = re.compile(
    r"(page not found|(page|content|article|story) (you (are|were) looking for|you requested|requested) "
    r"(could not be found|can(no|[’'])t be found|(does not|doesn[’']t|no longer) exists?|is (no longer )?unavailable|"
    r"has been (removed|moved|deleted))|we can[’']t find (that|the|this) page|sorry,? we couldn[’']t find|"
    r"this page (does not|doesn[’']t|no longer) exists?|(article|content|page) is no longer available|"
    r"page introuvable|page non trouvée|cette page n[’']existe (pas|plus)|la page (que vous (cherchez|demandez)|demandée) "
    r"(n[’']existe (pas|plus)|est introuvable|a été (supprimée|déplacée))|nous ne trouvons pas (cette|la) page|"
    r"(l[’']article|le contenu) (demandé )?n[’'](est plus disponible|existe plus)|erreur 404|error 404|404 not found)",
    re.I,
)
# Text that every match of SOFT_404_TEXT holds, in the lowered text: "page", "404", "couldn[’']t",
# "(content|article|story) you requested / you are looking for" (-> "reque", "loo"), "... is no longer
# available", "le contenu n'est plus / n'existe plus" (-> "plu"). A text without any is not searched:
# the case-blind pattern costs ~0.2 us a character, a page's text is 10-100 KB. No needle has an i,
# a k or an s, the letters that case-blind matching pairs with a character beyond ASCII (ı, K, ſ).
_NOT_FOUND_NEEDLES = ("page", "404", "couldn", "reque", "loo", "no longer", "plu")


def _may_say_not_found(text: str) -> bool:
    lowered = text.lower()
    return any(needle in lowered for needle in _NOT_FOUND_NEEDLES)


PARKED = re.compile(
    r"(this domain (name )?(is|may be) for sale|buy this domain|domain (is )?parked|parked free,? courtesy of|"
    r"sedoparking|parkingcrew|bodis\.com|above\.com/|afternic|hugedomains|dan\.com/buy|"
    r"ce (nom de )?domaine est à vendre|domaine à vendre|the domain .{0,40} is for sale|domain name is for sale)",
    re.I,
)
BOT_WALL = re.compile(
    r"(just a moment\.\.\.|checking your browser|cf-browser-verification|cf_chl_|challenge-platform|"
    r"attention required! \| cloudflare|ddos protection by|ddos-shield|project shield|px-captcha|perimeterx|"
    r"captcha-delivery|datadome|_incapsula_resource|incapsula incident|are you a robot|verify (that )?you are (a )?human|"
    r"pardon our interruption|please enable js and disable any ad blocker|access to this page has been denied|"
    r"request unsuccessful|bot protection|you have been blocked)",
    re.I,
)
COOKIE_WALL = re.compile(
    r"(before you continue to|we value your privacy|we and our (\d+ )?partners (use|store)|accept all cookies|"
    r"manage (your )?cookie (preferences|settings)|consent to (the use of )?cookies|"
    r"(nous|ce site) utilis(ons|e) des cookies|accepter (et fermer|tous les cookies)|vos choix (relatifs aux|concernant les) cookies|"
    r"avant de continuer|wir verwenden cookies|zustimmung)",
    re.I,
)
GENERIC_SECTIONS = {
    "",
    "news",
    "world",
    "home",
    "index",
    "index.html",
    "index.php",
    "search",
    "404",
    "error",
    "en",
    "fr",
    "de",
    "es",
    "it",
    "us",
    "uk",
    "international",
    "politics",
    "business",
    "sport",
    "sports",
    "culture",
    "opinion",
    "actualites",
    "actualite",
    "monde",
    "articles",
    "article",
    "stories",
    "latest",
    "accueil",
    "not-found",
    "notfound",
    "page-not-found",
}

BLOCKED_STATUSES = {
    401: "unauthorized (401)",
    403: "forbidden (403)",
    407: "proxy authentication (407)",
    412: "precondition failed (412)",
    428: "precondition required (428)",
    451: "unavailable for legal reasons (451)",
}
SHORT_PAGE_WORDS = 300
PROBE_MATCH = 0.8  # resemblance above which the page is the site's "not found" answer


def classify(
    outcome: Outcome,
    status: int | None,
    url: str,
    final_url: str,
    redirects: Sequence[Hop] = (),
    page: Page | None = None,
    text: str = "",
    error: str = "",
    paywalled: bool = False,
) -> Signal:
    """The signal of one check. `page`/`text` are the parsed body and its extracted text, if any;
    `paywalled` says the paywall detector found evidence: a short page is then a teaser, not a
    sign that the content is gone, so no shortness-based test (short text, cookie or script-only
    bot wall, parked page) runs on it."""
    page = page or Page()
    words = len(text.split())
    if outcome in (Outcome.OK, Outcome.NOT_MODIFIED):
        return _classify_page(url, final_url, redirects, page, text, words, paywalled)
    if outcome == Outcome.HTTP_ERROR and status is not None:
        if _bot_wall(page, words):
            return Signal(
                "bot_wall", Severity.BLOCKED, f"HTTP {status} with a bot-protection page: {_bot_wall(page, words)!r}"
            )
        if status == 404:
            return Signal("not_found", Severity.PERMANENT, "HTTP 404 Not Found")
        if status == 410:
            return Signal("gone", Severity.PERMANENT, "HTTP 410 Gone: the site says the page was removed for good")
        if status in BLOCKED_STATUSES:
            return Signal("blocked", Severity.BLOCKED, f"access refused: {BLOCKED_STATUSES[status]}")
        if status == 429:
            return Signal("rate_limited", Severity.TRANSIENT, "HTTP 429 Too Many Requests")
        if status == 408:
            return Signal("timeout", Severity.TRANSIENT, "HTTP 408 Request Timeout")
        if 500 <= status < 600:
            return Signal("server_error", Severity.TRANSIENT, f"HTTP {status} server error")
        return Signal("client_error", Severity.PERMANENT, f"HTTP {status} client error")
    kinds = {
        Outcome.DNS_ERROR: ("dns", Severity.TRANSIENT),
        Outcome.CONNECT_ERROR: ("connection_refused", Severity.TRANSIENT),
        Outcome.RESET: ("connection_reset", Severity.TRANSIENT),
        Outcome.TLS_ERROR: ("tls", Severity.TRANSIENT),
        Outcome.TIMEOUT: ("timeout", Severity.TRANSIENT),
        Outcome.REDIRECT_LOOP: ("redirect_loop", Severity.TRANSIENT),
        Outcome.TOO_MANY_REDIRECTS: ("too_many_redirects", Severity.TRANSIENT),
        Outcome.TOO_LARGE: ("too_large", Severity.TRANSIENT),
        Outcome.PROTOCOL_ERROR: ("protocol_error", Severity.TRANSIENT),
        Outcome.BAD_URL: ("bad_url", Severity.PERMANENT),
        Outcome.REFUSED_ADDRESS: ("refused_address", Severity.BLOCKED),
    }
    kind, severity = kinds.get(outcome, ("unknown", Severity.TRANSIENT))
    return Signal(kind, severity, error or kind.replace("_", " "))


def _classify_page(
    url: str, final_url: str, redirects: Sequence[Hop], page: Page, text: str, words: int, paywalled: bool
) -> Signal:
    wall = _bot_wall(page, words, scripts=not paywalled)
    if wall:
        return Signal("bot_wall", Severity.BLOCKED, f"a bot-protection page stands in for the article: {wall!r}")
    short = words < SHORT_PAGE_WORDS and not paywalled  # a paywall teaser is short by design
    cookie = COOKIE_WALL.search(page.visible_text[:5000]) if words < 120 and not paywalled else None
    if cookie:
        return Signal(
            "cookie_wall", Severity.BLOCKED, f"a cookie consent wall stands in for the article: {cookie.group(0)!r}"
        )
    if short:
        parked = PARKED.search(page.visible_text) or PARKED.search(page.title)
        if parked:
            return Signal("parked", Severity.PERMANENT, f"parked or for-sale domain: {parked.group(0)!r}")
    title_hit = SOFT_404_TITLE.search(page.title)
    in_headings = _may_say_not_found("\n".join(page.headings))
    heading_hit = next(
        (
            m
            for h in page.headings
            if (in_headings and (m := SOFT_404_TEXT.search(h))) or (len(h) < 40 and (m := SOFT_404_TITLE.search(h)))
        ),
        None,
    )
    text_hit = SOFT_404_TEXT.search(page.visible_text) if short and _may_say_not_found(page.visible_text) else None
    hit = title_hit or heading_hit or text_hit
    if hit:
        where = "title" if hit is title_hit else "heading" if hit is heading_hit else "text"
        return Signal("soft_404", Severity.PERMANENT, f"HTTP 200 but the page {where} says {hit.group(0)!r}")
    home = _home_instead(url, final_url, redirects, page)
    if home:
        return Signal("redirect_home", Severity.PERMANENT, home)
    moved = _moved_to(url, final_url, redirects, page)
    if moved:
        return Signal("", Severity.HEALTHY, f"the page now lives at {moved}", moved_to=moved)
    return HEALTHY


def worth_probing(signal: Signal, text: str, article: str, paywalled: bool, redirected: bool = False) -> bool:
    """Whether to ask the site for URLs that cannot exist. Paywall evidence means the page is the
    cited content (a teaser is short by design): never. Article markup (`article`, see
    `Page.article_evidence`) likewise, unless the cited URL redirected to the page: sites that send
    every unknown address to their latest story do so by redirect, and only the two-level rule of
    `probe_verdict` (never a sibling match alone) can then say so."""
    if signal.severity != Severity.HEALTHY or not text or paywalled:
        return False
    return not article or redirected


def probe_matches(text: str, probe: ProbeAnswer | None) -> float:
    """How much the page's text resembles the site's answer to a URL that cannot exist (0 when it
    answered with an error status or not at all)."""
    if probe is None or probe.status is None or not 200 <= probe.status < 300 or not text:
        return 0.0
    return resemblance(text, probe.text)


def needs_second_probe(text: str, first: ProbeAnswer | None) -> bool:
    """The sibling matched, but it kept part of the path: an id-routed site serves the article for
    any slug, so only a match one level up (the id-like segment replaced too) is evidence."""
    return first is not None and not first.whole_path and probe_matches(text, first) >= PROBE_MATCH


def probe_verdict(text: str, first: ProbeAnswer | None, second: ProbeAnswer | None = None) -> Signal | None:
    """A soft 404 when the page's text is what the site serves for any URL: the sibling matched and
    either it replaced the whole path or the probe one level up matched too. None otherwise."""
    score = probe_matches(text, first)
    if first is None or score < PROBE_MATCH:
        return None
    if first.whole_path:
        evidence = f"what the site serves for any address, even one that cannot exist ({first.url})"
    elif second is not None and probe_matches(text, second) >= PROBE_MATCH:
        score = min(score, probe_matches(text, second))
        evidence = (
            f"what the site serves for addresses that cannot exist, even with the id-like part replaced too "
            f"({first.url}, {second.url})"
        )
    else:
        return None  # the site routes by an id and serves this page for any slug: it is the page
    return Signal("soft_404", Severity.PERMANENT, f"HTTP 200 but the text matches ({score:.0%}) {evidence}")


def _bot_wall(page: Page, words: int, scripts: bool = True) -> str:
    if words > SHORT_PAGE_WORDS or page.size > 400_000:
        return ""
    for haystack in (page.title, page.visible_text[:5000]):
        match = BOT_WALL.search(haystack)
        if match:
            return match.group(0)
    if scripts and page.size and page.size < 20_000:
        # challenge pages hide their markers in scripts: look at the whole (small) page
        raw = page.raw_head
        match = BOT_WALL.search(raw)
        if match:
            return match.group(0)
    return ""


def _depth(url: str) -> list[str]:
    return [p for p in urlsplit(url).path.split("/") if p]


def _generic(url: str) -> bool:
    parts = _depth(url)
    return (
        len(parts) == 0
        or (len(parts) == 1 and parts[0].lower() in GENERIC_SECTIONS)
        or all(p.lower() in GENERIC_SECTIONS for p in parts)
    )


def _home_instead(url: str, final_url: str, redirects: Sequence[Hop], page: Page) -> str:
    """The cited article was replaced by the site's home page or a generic section."""
    if _generic(url):
        return ""  # the citation itself is a home or section page
    if redirects and final_url and _generic(final_url):
        return f"redirected from the article to a generic page: {final_url}"
    named = page.canonical or page.og_url
    if named and _generic(named):
        return f"the page served at the cited URL names {named} as itself (a home or section page)"
    return ""


def _moved_to(url: str, final_url: str, redirects: Sequence[Hop], page: Page) -> str:
    if redirects and final_url and not same_page(url, final_url) and not _generic(final_url):
        return final_url
    canonical = page.canonical
    if (
        canonical.startswith(("http://", "https://"))
        and not same_page(url, canonical)
        and not same_page(final_url or url, canonical)
        and not _generic(canonical)
    ):
        return canonical
    return ""
