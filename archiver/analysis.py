"""Extract and judge one response: the CPU-bound part of a check, safe to run in a worker process."""

from __future__ import annotations

import gzip
from dataclasses import dataclass

from archiver.browser.need import ShellFacts, shell_facts
from archiver.detect.body import link_lines
from archiver.detect.page import Page
from archiver.detect.paywall import detect_paywall
from archiver.detect.rot import classify, worth_probing
from archiver.extract import decode, extract, parse_html
from archiver.models import Extraction, FetchResult, Outcome, PaywallVerdict, Signal

ERROR_BODY_PARSED = 512 * 1024  # error pages are parsed (for bot walls) up to this size


@dataclass(frozen=True)
class Analysis:
    extraction: Extraction | None
    signal: Signal
    paywall: PaywallVerdict | None
    needs_probe: bool  # a healthy-looking page with nothing saying it is an article: ask the site (see rot)
    body_gz: bytes | None = None  # the body compressed for the store, here where there is CPU to spare
    boilerplate: frozenset[str] = frozenset()  # lines of the text that the page shows as links (see drift)


def analyse(fetched: FetchResult, earlier_words: list[int]) -> Analysis:
    """Extract and judge one response. Pure CPU: safe to run in another process."""
    content_type = fetched.header("content-type")
    if fetched.outcome == Outcome.OK:
        html, tree = "", None
        if (
            fetched.content_type in ("", "text/html", "application/xhtml+xml")
            and fetched.body.strip()
            and fetched.body[:5] != b"%PDF-"
        ):
            html, tree = parse_html(fetched.body, content_type)  # parsed once, read by both
        page = Page.from_tree(tree, html)
        extraction = extract(fetched.body, fetched.final_url, content_type, (html, tree) if html else None)
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
        return Analysis(
            extraction,
            signal,
            paywall,
            needs_probe,
            gzip.compress(fetched.body, 6, mtime=0),
            link_lines(extraction.text, page.link_texts()),
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
