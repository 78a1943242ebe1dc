"""Extract and judge one response: the CPU-bound part of a check, safe to run in a worker process.

For a page that answered, in order:

1. decode and parse it once (the tree is read by trafilatura, which works on its own copy, and by the
   page facts);
2. the fast path: when the citation holds a version whose main-text region is known and the page
   still holds that region unchanged (`archiver.region.holds`), its text is the held version's and
   trafilatura does not run; otherwise extract in full and locate the text's region anew;
3. the page facts, read once for every detector, then the verdicts (paywall, rot, soft-404 probe);
4. for content the citation does not hold yet: the lines its page shows as links (for drift) and its
   WARC exchange, compressed here, once: the record is the store's one copy of the body.
"""

from __future__ import annotations

from dataclasses import dataclass

from archiver.browser.need import ShellFacts, shell_facts
from archiver.detect.body import link_lines
from archiver.detect.page import Page
from archiver.detect.paywall import detect_paywall
from archiver.detect.rot import classify, worth_probing
from archiver.extract import decode, extract, parse_html
from archiver.models import Extraction, FetchResult, Outcome, PaywallVerdict, Signal
from archiver.region import Region, holds, locate
from archiver.store.versions import content_hash
from archiver.store.warc_format import PackedExchange, pack_exchange

ERROR_BODY_PARSED = 512 * 1024  # error pages are parsed (for bot walls) up to this size


@dataclass(frozen=True)
class Held:
    """What a citation holds, for the worker: the hashes of its versions, and its current version's
    text and metadata with the region its main text sat in ("" when unknown)."""

    hashes: frozenset[str] = frozenset()
    extraction: Extraction | None = None
    region: str = ""


@dataclass(frozen=True)
class Analysis:
    extraction: Extraction | None
    signal: Signal
    paywall: PaywallVerdict | None
    needs_probe: bool  # a healthy-looking page with nothing saying it is an article: ask the site (see rot)
    boilerplate: frozenset[str] = frozenset()  # lines of the text that the page shows as links (see drift)
    packed: PackedExchange | None = None  # the WARC exchange, compressed: content the citation does not hold
    region: str = ""  # where the main text sat (archiver.region), "" when not found
    fast: bool = False  # the page held the current version's region: its text, trafilatura not run


def analyse(fetched: FetchResult, earlier_words: list[int], held: Held | None = None, user_agent: str = "") -> Analysis:
    """Extract and judge one response. Pure CPU: safe to run in another process."""
    held = held or Held()
    content_type = fetched.header("content-type")
    if fetched.outcome == Outcome.OK:
        html, tree = "", None
        if (
            fetched.content_type in ("", "text/html", "application/xhtml+xml")
            and fetched.body.strip()
            and fetched.body[:5] != b"%PDF-"
        ):
            html, tree = parse_html(fetched.body, content_type)  # parsed once, read by both
        region = Region.decode(held.region) if held.region and held.extraction else None
        fast = region is not None and holds(tree, region)
        if fast and held.extraction is not None:
            extraction, where = held.extraction, held.region
        else:
            extraction = extract(fetched.body, fetched.final_url, content_type, (html, tree) if html else None)
            located = locate(tree, extraction.text) if extraction.text else None
            where = located.encode() if located else ""
        page = Page.from_tree(tree, html)
        paywall = detect_paywall(page, html, fetched.status, extraction.words, earlier_words) if html else None
        paywalled = bool(paywall and paywall.paywalled)
        signal = classify(
            fetched.outcome,
            fetched.status,
            fetched.url,
            fetched.final_url,
            fetched.redirects,
            page,
            extraction.text,
            paywalled=paywalled,
        )
        needs_probe = worth_probing(
            signal, extraction.text, page.article_evidence, paywalled, redirected=bool(fetched.redirects)
        )
        new = not fast and content_hash(extraction, fetched.body) not in held.hashes
        return Analysis(
            extraction,
            signal,
            paywall,
            needs_probe,
            link_lines(extraction.text, page.link_texts()) if new else frozenset(),
            pack_exchange(fetched, user_agent) if new else None,
            where,
            fast,
        )
    page = Page()
    if fetched.outcome == Outcome.HTTP_ERROR and fetched.body:
        html = decode(fetched.body[:ERROR_BODY_PARSED], content_type)
        page = Page.parse(html)
        paywall = detect_paywall(page, html, fetched.status, 0) if fetched.status == 402 else None
        signal = classify(
            fetched.outcome,
            fetched.status,
            fetched.url,
            fetched.final_url,
            fetched.redirects,
            page,
            error=fetched.error,
        )
        return Analysis(None, signal, paywall, False)
    signal = classify(
        fetched.outcome, fetched.status, fetched.url, fetched.final_url, fetched.redirects, page, error=fetched.error
    )
    return Analysis(None, signal, None, False)


def boilerplate_of(body: bytes, content_type: str, text: str) -> frozenset[str]:
    """The lines of a stored version's text that its page shows as links (for drift against it).
    Pure CPU: run it in a worker."""
    if not body.strip() or not text or body[:5] == b"%PDF-":
        return frozenset()
    html, tree = parse_html(body, content_type)
    return link_lines(text, Page.from_tree(tree, html).link_texts()) if tree is not None else frozenset()


def shell_facts_of(fetched: FetchResult) -> ShellFacts:
    """What the served HTML says about needing a browser (see `browser.need`). Pure CPU: run it in a worker."""
    body = fetched.body if fetched.outcome == Outcome.OK else fetched.body[:ERROR_BODY_PARSED]
    return shell_facts(decode(body, fetched.header("content-type")))
