"""Is the cited article behind a paywall? `hard`, `metered`, `registration` or none, with evidence.

Signals, strongest first: HTTP 402; schema.org `isAccessibleForFree` false for the article (JSON-LD
or microdata; a `hasPart` selector counts only when it names an element of the page); a locked or
metered `article:content_tier`; a subscribe / sign-in prompt next to a cut-off text; a text much
shorter than earlier versions of the same page. Vendor scripts alone (Piano, Poool, ...) are only
supporting evidence: free articles load them too. A "Subscribe" link in a header is not a paywall.
"""

from __future__ import annotations

import re
from typing import Any

from archiver.detect.page import Page, articles_in, truth
from archiver.models import PaywallKind, PaywallVerdict

ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "blogposting",
    "opinionnewsarticle",
    "backgroundnewsarticle",
    "webpage",
    "report",
    "scholarlyarticle",
    "liveblogposting",
    "reviewnewsarticle",
    "creativework",
}

# Prompts that stand where the article stops. Each is specific enough that a header link or a
# teaser label ("Subscribers only") does not match it. Each comes with a piece of its own text that
# every match contains (outside its groups and optional parts): a page without it is not searched,
# since a pattern with no literal start scans a page position by position (0.1-0.2 ms a pattern).
_HARD_PROMPTS = [
    ("subscribe ", r"subscribe (now )?to (continue|keep) reading"),
    ("subscribe", r"to (continue|keep) reading,? (please )?subscribe"),
    ("to read the full ", r"to read the full (story|article)"),
    ("subscribers", r"this (content|article|story) is (reserved|available exclusively) for (our )?subscribers"),
    ("subscribers", r"this (article|story) is (only available|exclusive) (to|for) (paying )?subscribers"),
    ("already a subscriber", r"already a subscriber\?? ?(log|sign) in"),
    ("subscribe to unlock", r"subscribe to unlock"),
    ("unlock this article", r"unlock this article"),
    ("become a ", r"become a (member|subscriber) to (read|continue)"),
    (" est réservé", r"(cet|cette) (article|contenu|édition) est réservée? aux abonnés"),
    ("article réservé aux abonnés", r"article réservé aux abonnés"),
    ("réservé aux abonnés", r"réservé aux abonnés"),
    ("il vous reste ", r"il vous reste \d+ ?% de (cet|l[’'])article"),
    ("abonnez-vous pour ", r"abonnez-vous pour (lire|continuer)"),
    ("est réservée aux abonnés", r"la suite (de cet article )?est réservée aux abonnés"),
    ("déjà abonné", r"déjà abonné ?\?? ?(connectez|identifiez)-vous"),
    ("dieser artikel ist ", r"dieser artikel ist (nur )?für abonnenten"),
    ("weiterlesen mit", r"weiterlesen mit"),
    ("exklusiv für abonnenten", r"exklusiv für abonnenten"),
]
_REGISTRATION_PROMPTS = [
    (" a free account to ", r"(create|register for) a free account to (continue|read|keep)"),
    ("to continue reading", r"register (now )?to continue reading"),
    (" reading", r"sign (in|up) (for free )?to (continue|keep) reading"),
    ("log in or register to continue", r"log in or register to continue"),
    ("inscrivez-vous gratuitement pour ", r"inscrivez-vous gratuitement pour (lire|continuer)"),
    (" compte gratuit", r"créez (un|votre) compte gratuit"),
]
_METER_PROMPTS = [
    ("articles", r"\b\d+ of \d+ (free )?articles\b"),
    ("you have ", r"you have \d+ free (articles?|stories) (left|remaining)"),
    ("free article", r"you[’']ve (read|reached) (all of )?your (\d+ )?free articles?"),
    ("free article", r"free articles? (left|remaining) this month"),
    (" gratuit", r"articles? gratuits? restants?"),
    ("vous avez lu ", r"vous avez lu \d+ articles?"),
]
# Vendor scripts: (names a match needs, the pattern), matched case-insensitively (ASCII). A page is
# 300 KB of markup: a case-insensitive regex costs 2-5 ms a vendor on it, finding a word almost
# nothing, so each pattern runs only where one of its words is.
_VENDORS = {
    "Piano/Tinypass": (("tinypass.com", "piano.io", "tp.experience"), r"tinypass\.com|piano\.io|\btp\.experience\b"),
    "Poool": (("poool",), r"poool\.fr|\bpoool\b"),
    "Zephr": (("zephr",), r"zephr"),
    "Pelcro": (("pelcro",), r"pelcro"),
    "LaterPay": (("laterpay",), r"laterpay"),
    "Leaky Paywall": (("leaky",), r"leaky[-_ ]paywall"),
    "Memberful": (("memberful",), r"memberful"),
    "Sophi": (("sophi.io",), r"sophi\.io"),
}

# A text cut to this many words, or to less than this share of its longest earlier version, is
# "truncated": prompts only count beside such a text, since free pages mention subscriptions too.
TRUNCATED_WORDS = 350
SHRINK_RATIO = 0.5


def detect_paywall(
    page: Page, raw_html: str, status: int | None, words: int, earlier_words: list[int] | None = None
) -> PaywallVerdict:
    """Decide from a page, the HTTP status, the extracted text's length and earlier versions' lengths."""
    evidence: list[str] = []
    kind = PaywallKind.NONE
    if status == 402:
        return PaywallVerdict(PaywallKind.HARD, ("HTTP 402 Payment Required",), truncated=True)

    longest = max(earlier_words or [0])
    shrunk = longest >= 2 * TRUNCATED_WORDS // 3 and words < SHRINK_RATIO * longest
    truncated = words < TRUNCATED_WORDS or shrunk
    if shrunk:
        evidence.append(f"text has {words} words, under half of the {longest} of an earlier version")

    declared = _schema_org(page)
    if declared:
        evidence.append(declared)
        kind = PaywallKind.HARD
    if page.content_tier in {"locked", "metered", "premium", "subscriber", "paid"}:
        evidence.append(f"meta article:content_tier={page.content_tier}")
        kind = PaywallKind.METERED if page.content_tier == "metered" else PaywallKind.HARD

    text = page.visible_text.lower()
    prompt_text = _strip(text, page.link_texts())
    meter = _find(_METER, prompt_text)
    if meter:
        evidence.append(f"meter prompt: {meter!r}")
        kind = PaywallKind.METERED
    registration = _find(_REGISTRATION, prompt_text)
    hard = _find(_HARD, prompt_text)
    if (registration or hard) and (truncated or kind != PaywallKind.NONE):
        evidence.append(f"prompt beside {'a cut-off' if truncated else 'the'} text: {(registration or hard)!r}")
        if kind == PaywallKind.NONE:
            kind = PaywallKind.REGISTRATION if registration and not hard else PaywallKind.HARD
    elif shrunk and kind == PaywallKind.NONE and (registration or hard):
        kind = PaywallKind.HARD

    if kind != PaywallKind.NONE:
        vendors = vendor_scripts(raw_html)
        if vendors:
            evidence.append(f"paywall vendor script: {', '.join(vendors)}")
    return PaywallVerdict(kind, tuple(evidence), truncated=truncated and kind != PaywallKind.NONE)


def vendor_scripts(raw_html: str) -> list[str]:
    """The paywall vendors whose scripts or names the markup carries."""
    # The words are looked for in the markup's UTF-8 bytes with ASCII letters lowered (a quarter of
    # the cost of lowering 300 KB of text, the same answer: see `_ascii_words`); the text is lowered,
    # for the patterns, only when a vendor's word is there.
    folded = raw_html.encode("utf-8", "surrogatepass").lower()
    lowered = ""
    found = []
    for name, (_, pattern) in _VENDORS.items():
        if any(word in folded for word in _SPELLINGS[name]):
            lowered = lowered or raw_html.lower()
            if re.search(pattern, lowered):
                found.append(name)
    return found


# Only two characters beyond ASCII have a lower case with an ASCII character in it: the Kelvin sign
# (U+212A, "k") and the dotted capital I (U+0130, "i" then a combining dot, so never inside a word)
_KELVIN = "\u212a".encode()


def _ascii_words(words: tuple[str, ...]) -> list[bytes]:
    """What a word lowered in the text is in the text's bytes lowered: itself, or with a Kelvin sign
    for its k. The words are ASCII, with at most one k, and none ends with an i (tests hold it)."""
    out = []
    for word in words:
        spelled = word.encode("ascii")
        out.append(spelled)
        if b"k" in spelled:
            out.append(spelled.replace(b"k", _KELVIN))
    return out


_SPELLINGS = {name: _ascii_words(words) for name, (words, _) in _VENDORS.items()}


def _schema_org(page: Page) -> str:
    """Evidence that the page declares the article not free, or "" when it does not."""
    for obj in articles_in(page.json_ld):
        types = obj.get("@type", "")
        type_names = {t.lower() for t in (types if isinstance(types, list) else [types]) if isinstance(t, str)}
        if not type_names & ARTICLE_TYPES:
            continue
        if truth(obj.get("isAccessibleForFree")) is False:
            return "JSON-LD isAccessibleForFree=false"
        # A page declared free may still lock a part; the part counts only when it is really there
        # (sciencesetavenir.fr names a `.user-paying-content` that no element carries).
        for part in _parts(obj.get("hasPart")):
            selector = str(part.get("cssSelector", "")).strip()
            if truth(part.get("isAccessibleForFree")) is False and selector and page.matches(selector):
                return f"JSON-LD hasPart {selector!r} isAccessibleForFree=false"
    if page.microdata_free and all(truth(v) is False for v in page.microdata_free):
        return "microdata isAccessibleForFree=false"
    return ""


def _parts(value: Any) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [i for i in items if isinstance(i, dict)]


def _find(patterns: list[tuple[re.Pattern[str], str]], text: str) -> str:
    """The first prompt, in the list's order, that the text holds ("" when none does)."""
    for pattern, needle in patterns:
        match = pattern.search(text) if needle in text else None
        if match:
            return match.group(0)
    return ""


def _compiled(prompts: list[tuple[str, str]]) -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(pattern), needle) for needle, pattern in prompts]


_HARD = _compiled(_HARD_PROMPTS)
_REGISTRATION = _compiled(_REGISTRATION_PROMPTS)
_METER = _compiled(_METER_PROMPTS)


def _strip(text: str, links: list[str]) -> str:
    """The page's (lowered) text without what sits inside links (menus, teasers, buttons): each link's
    text, longest first, wherever it stands; short ones ("Home", "Subscribe") are left, a prompt
    needs more words than that."""
    for chunk in sorted({t.lower() for t in links if len(t) > 12}, key=len, reverse=True):
        text = text.replace(chunk, " ")
    return text
