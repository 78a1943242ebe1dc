"""Paywalls from markup alone: each signal, and the free pages that look like paywalls."""

from __future__ import annotations

import json
import re._parser as sre  # the standard library's own reading of a pattern

from archiver.detect import paywall
from archiver.detect.page import Page
from archiver.detect.paywall import PaywallKind, detect_paywall, vendor_scripts

LONG = " ".join(["The committee met on Tuesday to discuss the budget for the coming year."] * 60)


def judge(body: str = "", head: str = "", status: int = 200, words: int = 900, earlier=None):
    html = f"<html><head><title>T</title>{head}</head><body>{body}</body></html>"
    return detect_paywall(Page.parse(html), html, status, words, earlier)


def ld(obj) -> str:
    return f'<script type="application/ld+json">{json.dumps(obj)}</script>'


def test_http_402_is_a_hard_paywall():
    verdict = judge(status=402)
    assert verdict.kind == PaywallKind.HARD and verdict.evidence == ("HTTP 402 Payment Required",)


def test_schema_org_not_free_in_json_ld_and_microdata():
    assert judge(head=ld({"@type": "NewsArticle", "isAccessibleForFree": "False"})).kind == PaywallKind.HARD
    graph = {
        "@context": "https://schema.org",
        "@graph": [{"@type": "WebSite"}, {"@type": ["NewsArticle"], "isAccessibleForFree": False}],
    }
    assert judge(head=ld(graph)).paywalled
    micro = '<div itemscope itemtype="https://schema.org/NewsArticle"><meta itemprop="isAccessibleForFree" content="false"></div>'
    assert "microdata isAccessibleForFree=false" in judge(body=micro).evidence


def test_has_part_counts_only_when_its_element_is_on_the_page():
    obj = {
        "@type": "NewsArticle",
        "isAccessibleForFree": True,
        "hasPart": {"@type": "WebPageElement", "isAccessibleForFree": False, "cssSelector": ".locked"},
    }
    assert not judge(head=ld(obj), body=f"<p>{LONG}</p>").paywalled
    verdict = judge(head=ld(obj), body=f"<p>{LONG}</p><div class='x locked'>more</div>")
    assert verdict.kind == PaywallKind.HARD and "'.locked'" in verdict.evidence[0]


def test_content_tier_metered_and_locked():
    assert judge(head='<meta property="article:content_tier" content="metered">').kind == PaywallKind.METERED
    assert judge(head='<meta property="article:content_tier" content="locked">').kind == PaywallKind.HARD
    assert not judge(head='<meta property="article:content_tier" content="free">').paywalled


def test_prompt_beside_a_cut_off_text_in_english_and_french():
    en = judge(body="<p>Teaser paragraph.</p><div>Subscribe to continue reading</div>", words=80)
    assert en.kind == PaywallKind.HARD and en.truncated
    fr = judge(
        body="<p>Chapeau.</p><div>Cet article est réservé aux abonnés. Il vous reste 80% de cet article à lire.</div>",
        words=60,
    )
    assert fr.kind == PaywallKind.HARD
    reg = judge(body="<p>Teaser.</p><p>Create a free account to continue reading.</p>", words=70)
    assert reg.kind == PaywallKind.REGISTRATION


def test_meter_banner_is_a_metered_paywall():
    verdict = judge(body=f"<div class='meter'>1 of 10 articles read this month</div><p>{LONG}</p>")
    assert verdict.kind == PaywallKind.METERED


def test_a_subscribe_link_in_the_header_of_a_free_article_is_not_a_paywall():
    header = (
        '<header><a href="/subscribe">Subscribe to continue reading our best journalism</a> '
        '<a href="/abo">Réservé aux abonnés : nos offres</a></header>'
    )
    assert not judge(body=header + f"<p>{LONG}</p>", words=700).paywalled
    assert not judge(body=header + "<p>Brief item.</p>", words=40).paywalled  # prompts inside links only


def test_a_comment_box_for_subscribers_under_a_full_article_is_not_a_paywall():
    body = f"<p>{LONG}</p><div class='paywall'>Ce service est réservé aux abonnés.</div>"
    assert not judge(body=body, words=800).paywalled


def test_a_text_much_shorter_than_before_with_a_prompt_is_a_paywall():
    body = "<p>First paragraph only.</p><div>Already a subscriber? Log in</div>"
    verdict = judge(body=body, words=400, earlier=[1200])
    assert verdict.paywalled and verdict.truncated
    assert any("under half" in e for e in verdict.evidence)


def test_vendor_scripts_alone_do_not_make_a_paywall():
    head = '<script src="https://cdn.tinypass.com/api/tinypass.min.js"></script>'
    assert not judge(head=head, body=f"<p>{LONG}</p>").paywalled
    locked = judge(head=head + '<meta property="article:content_tier" content="locked">')
    assert "paywall vendor script: Piano/Tinypass" in locked.evidence


def test_vendor_scripts_are_named_in_any_case_and_only_as_whole_names():
    found = vendor_scripts(
        '<script src="https://CDN.TinyPass.com/api.js"></script><script>window.Poool = 1; tp.experience.init()</script>'
        '<div class="Leaky_Paywall"></div><script src="//api.sophi.io/x.js"></script>'
    )
    assert found == ["Piano/Tinypass", "Poool", "Leaky Paywall", "Sophi"]
    # the words alone, in other names, are not the vendors
    assert vendor_scripts("<p>pooolside, leaky roof, atp.experienced, sophia.io, zephyr</p>") == []


def _literal_runs(pattern: str) -> list[str]:
    """The runs of plain characters at the top level of a pattern: text that every match contains."""
    runs, current = [], ""
    for op, arg in sre.parse(pattern):
        if op is sre.LITERAL:
            current += chr(arg)
        else:
            runs, current = [*runs, current] if current else runs, ""
    return [*runs, current] if current else runs


def test_each_prompt_is_searched_only_where_text_every_match_holds_is():
    # a prompt is not searched for in a page without its needle: the needle must be in every match
    for pattern, needle in paywall._HARD + paywall._REGISTRATION + paywall._METER:
        assert needle and any(needle in run for run in _literal_runs(pattern.pattern)), pattern.pattern


def test_the_first_listed_prompt_names_the_evidence_wherever_it_stands():
    verdict = judge(body="<p>Teaser.</p><p>Unlock this article. Subscribe to continue reading.</p>", words=40)
    assert verdict.evidence == ("prompt beside a cut-off text: 'subscribe to continue reading'",)


def test_vendor_words_are_found_in_any_case_the_text_lowers_to():
    # the Kelvin sign lowers to "k": the lowered markup names the vendor, so the scan must too
    assert vendor_scripts("<script src='https://cdn.example/LEA\u212aY-PAYWALL.js'></script>") == ["Leaky Paywall"]
    # whole names only, judged on the lowered text: a letter beyond ASCII before it is part of the word
    assert vendor_scripts("<p>éPoool</p>") == []
    assert vendor_scripts("<p>«Poool»</p>") == ["Poool"]


def test_only_the_kelvin_sign_and_the_dotted_capital_i_lower_to_ascii_beyond_ascii():
    # what the vendor scan's byte search relies on (paywall._ascii_words)
    lowering_to_ascii = [c for c in range(0x80, 0x110000) if any(ord(x) < 0x80 for x in chr(c).lower())]
    assert lowering_to_ascii == [0x130, 0x212A]
    for words, _ in paywall._VENDORS.values():
        for word in words:
            assert word.isascii() and word.count("k") <= 1 and not word.endswith("i"), word


def test_a_prompt_written_inside_a_link_is_no_paywall_on_a_page_with_other_links():
    """A "Subscribe to continue reading" link (a button in a menu or a teaser) says nothing of the
    article: it was counted as a prompt as soon as the page had any other link, because the link
    texts were matched as one joined string."""
    words = " ".join(["word"] * 50)
    html = (
        "<html><body><nav><a href='/'>Home page</a></nav><article><p>Teaser of the story. "
        f"{words}</p></article><a href='/subscribe'>Subscribe to continue reading</a></body></html>"
    )
    verdict = detect_paywall(Page.parse(html), html, 200, 50)
    assert verdict.kind == PaywallKind.NONE, verdict.evidence
