"""Does a page need the browser? A pure decision on what the HTTP fetch already learned.

The browser is worth its cost (a second fetch, a renderer, seconds of CPU) only when the served
HTML holds no text of its own and the page says a script will bring it: an application shell
(an empty mount point, a framework's data island, bundle scripts, a noscript "enable JavaScript")
or a JavaScript challenge that a real browser passes. A CAPTCHA or a plain refusal stays what it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree
from lxml import html as lxml_html

from archiver.browser.records import PAGE_TYPES
from archiver.detect.rot import BOT_WALL
from archiver.models import Extraction, FetchResult, Outcome

# Fewer extracted words than this is "tiny": a shell's navigation or a noscript line, never an article
# (in the shared corpus the smallest extraction of a real page is 52 words, a not-found page, and its
# JavaScript challenge extracts 14; tests/test_browser.py holds it to that).
TINY_WORDS = 40
# A page whose body shows fewer words than this besides its scripts is a shell when it loads a bundle.
SHELL_TEXT_WORDS = 80
# Challenge markers are looked for in this much of the page; challenge pages are small.
CHALLENGE_SCAN = 20_000
CHALLENGE_MAX_SIZE = 400_000

# Where single-page applications mount: React (create-react-app, Vite), Next.js, Nuxt, Vue, Svelte, Angular.
_MOUNT_IDS = {
    "root",
    "app",
    "__next",
    "__nuxt",
    "__layout",
    "svelte",
    "react-root",
    "app-root",
    "application",
    "main-app",
}
_MOUNT_TAGS = {"app-root"}
# Data islands that frameworks write for the script that builds the page.
_DATA_ISLAND = re.compile(
    r"(__NEXT_DATA__|window\.__NUXT__|__INITIAL_STATE__|__PRELOADED_STATE__|__APOLLO_STATE__|ng-version=|data-reactroot)"
)
_ENABLE_JS = re.compile(
    r"(enable javascript|javascript (is )?(required|disabled|must be enabled)|turn on javascript|"
    r"activer (le )?javascript|javascript (est )?(requis|désactivé)|javascript aktivieren|"
    r"need to enable javascript|requires javascript)",
    re.I,
)
# Walls a browser does not pass either: CAPTCHAs and outright refusals. A page rot.BOT_WALL calls a wall
# is a challenge a browser passes unless one of these is on it too.
_NOT_PASSABLE = re.compile(
    r"(captcha|are you a robot|verify (that )?you are (a )?human|you have been blocked|access to this page has been denied|"
    r"request unsuccessful|please enable js and disable any ad blocker|perimeterx|datadome|attention required|"
    r"\bforbidden\b|access denied)",
    re.I,
)
_INVISIBLE = {"script", "style", "noscript", "template"}


@dataclass(frozen=True)
class ShellFacts:
    """What the served HTML says about needing scripts; build with `shell_facts(html)`."""

    visible_words: int = 0  # words in the body, scripts, styles and noscript left out
    external_scripts: int = 0  # <script src=...>
    mount: str = ""  # an empty application mount point ("#root", "app-root"), "" when none
    data_island: str = ""  # a framework's data marker (__NEXT_DATA__, ...)
    noscript_enable: str = ""  # a <noscript> asking for JavaScript
    challenge: str = ""  # a bot-wall marker of a JavaScript challenge
    blocked: str = ""  # a CAPTCHA or block marker: a browser would meet it too


@dataclass(frozen=True)
class Need:
    """The decision and its reason in plain words."""

    browser: bool
    reason: str


def shell_facts(html: str) -> ShellFacts:
    """Read the facts `needs_browser` weighs from a page's markup (pure; malformed markup gives empty facts)."""
    head = html[:CHALLENGE_SCAN]
    challenge = blocked = ""
    if len(html) < CHALLENGE_MAX_SIZE:
        wall = BOT_WALL.search(head)
        block = _NOT_PASSABLE.search(head)
        blocked = block.group(0) if block else ""
        challenge = wall.group(0) if wall and not block else ""
    island = _DATA_ISLAND.search(html)
    try:
        root = lxml_html.document_fromstring(html) if html.strip() else None
    except (etree.ParserError, ValueError):
        root = None
    if root is None:
        return ShellFacts(data_island=island.group(0) if island else "", challenge=challenge, blocked=blocked)
    noscript = " ".join(" ".join(n.itertext()) for n in root.iter("noscript"))
    enable = _ENABLE_JS.search(noscript)
    return ShellFacts(
        visible_words=_visible_words(root),
        external_scripts=sum(1 for s in root.iter("script") if s.get("src")),
        mount=_empty_mount(root),
        data_island=island.group(0) if island else "",
        noscript_enable=enable.group(0) if enable else "",
        challenge=challenge,
        blocked=blocked,
    )


def needs_browser(result: FetchResult, extraction: Extraction, facts: ShellFacts) -> Need:
    """Whether rendering the page in a browser would bring text the HTTP fetch could not see."""
    if result.outcome not in (Outcome.OK, Outcome.HTTP_ERROR) or not result.body:
        return Need(False, f"no page to render ({result.outcome})")
    if result.content_type not in PAGE_TYPES:
        return Need(False, f"not an HTML page ({result.content_type})")
    if extraction.words >= TINY_WORDS:
        return Need(False, f"the HTML already holds the text ({extraction.words} words)")
    if facts.blocked:
        return Need(False, f"a wall a browser meets too ({facts.blocked!r})")
    if facts.challenge:
        return Need(True, f"a JavaScript challenge page ({facts.challenge!r}) that a browser passes")
    if result.outcome != Outcome.OK:
        return Need(False, f"HTTP {result.status}: the page itself is an error")
    shell = _shell_evidence(facts)
    if not shell:
        return Need(False, f"little text ({extraction.words} words) but no sign a script would bring more")
    return Need(True, f"{extraction.words} words extracted from a JavaScript application shell ({shell})")


def _shell_evidence(facts: ShellFacts) -> str:
    signs = []
    if facts.mount:
        signs.append(f"empty mount point {facts.mount}")
    if facts.data_island:
        signs.append(facts.data_island)
    if facts.noscript_enable:
        signs.append(f"noscript {facts.noscript_enable!r}")
    if facts.external_scripts and facts.visible_words < SHELL_TEXT_WORDS and signs:
        signs.append(f"{facts.external_scripts} script(s) and {facts.visible_words} visible words")
    # A bundle alone (no mount point, island or noscript) is no evidence: every page loads scripts.
    return ", ".join(signs)


def _empty_mount(root: etree._Element) -> str:
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        ident = (el.get("id") or "").strip()
        if el.tag in _MOUNT_TAGS or ident.lower() in _MOUNT_IDS:
            text = " ".join("".join(el.itertext()).split())
            if len(text.split()) < 10:
                return el.tag if el.tag in _MOUNT_TAGS else f"#{ident}"
    return ""


def _visible_words(root: etree._Element) -> int:
    body = root.find("body")
    if body is None:
        return 0
    words, stack = 0, [body]
    while stack:
        el = stack.pop()
        if el is not body:
            words += len((el.tail or "").split())
        if isinstance(el.tag, str) and el.tag in _INVISIBLE:
            continue
        words += len((el.text or "").split()) if isinstance(el.tag, str) else 0
        stack.extend(el)
    return words
