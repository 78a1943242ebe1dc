"""Extract and judge one response: the CPU-bound part of a check, safe to run in a worker process."""

from __future__ import annotations

import gzip
from dataclasses import dataclass

from archiver.detect.page import Page
from archiver.detect.paywall import PaywallVerdict, detect_paywall
from archiver.detect.rot import Severity, Signal, classify
from archiver.extract import decode, extract, parse_html
from archiver.models import Extraction, FetchResult, Outcome

PROBE_BELOW_WORDS = 300  # pages shorter than this, redirected or untyped get a soft-404 probe
ERROR_BODY_PARSED = 512 * 1024  # error pages are parsed (for bot walls) up to this size


@dataclass(frozen=True)
class Analysis:
    extraction: Extraction | None
    signal: Signal
    paywall: PaywallVerdict | None
    needs_probe: bool
    body_gz: bytes | None = None  # the body compressed for the store, here where there is CPU to spare


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
        signal = classify(
            fetched.outcome, fetched.status, fetched.url, fetched.final_url, fetched.redirects, page, extraction.text
        )
        paywall = detect_paywall(page, html, fetched.status, extraction.words, earlier_words) if html else None
        needs_probe = (
            signal.severity == Severity.HEALTHY
            and bool(extraction.text)
            and (extraction.words < PROBE_BELOW_WORDS or bool(fetched.redirects) or not page.is_article)
        )
        return Analysis(extraction, signal, paywall, needs_probe, gzip.compress(fetched.body, 6, mtime=0))
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
