"""HTML articles: their citations are read by `archiver.articles` (links in the article body and
footnote references); an archived copy is written back as the Robust Links attributes of the Memento
project (`data-originalurl`, `data-versionurl`, `data-versiondate`) on every link to the cited URL
outside navigation, added inside the start tag and nothing else touched. Pure: no I/O."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser

from archiver.articles import parse_html_article
from archiver.formats.records import (
    DEFAULT_LIMITS,
    Annotated,
    ArchivedCopy,
    Format,
    Insertion,
    KnownCapture,
    Left,
    LeftReason,
    Limits,
    Lines,
    ParsedArticle,
    ParsedCitation,
    Span,
    apply,
    check_count,
    check_size,
    decide,
)


@dataclass(frozen=True)
class _Anchor:
    span: Span  # the start tag
    attrs: dict[str, str]


def parse(text: str, name: str = "article.html", limits: Limits = DEFAULT_LIMITS) -> ParsedArticle:
    """The article's citations as `archiver.articles` reads them, with every link that writes each."""
    return _read(text, name, limits)[0]


def annotate(
    text: str, copies: Mapping[str, ArchivedCopy], name: str = "article.html", limits: Limits = DEFAULT_LIMITS
) -> Annotated:
    """The article with Robust Links attributes on each link to a citation that has a verified copy."""
    article, anchors = _read(text, name, limits)
    insertions: list[Insertion] = []
    written: list[str] = []
    left: list[Left] = []
    for citation in article.citations:
        outcome = decide(citation, copies)
        if isinstance(outcome, Left):
            left.append(outcome)
            continue
        mine = anchors.get(citation.url, [])
        if not mine:
            left.append(Left(citation.id, citation.url, LeftReason.NOT_WRITABLE))
            continue
        for anchor in mine:
            insertions.append(_attributes(text, anchor, citation.url, outcome))
        written.append(citation.id)
    return Annotated(apply(text, insertions), Format.HTML, tuple(written), tuple(left))


def _read(text: str, name: str, limits: Limits) -> tuple[ParsedArticle, dict[str, list[_Anchor]]]:
    check_size(text, name, limits)
    result = parse_html_article(text)
    check_count(len(result.citations), name, limits)
    finder = _AnchorFinder(text)
    finder.feed(text)
    finder.close()
    anchors: dict[str, list[_Anchor]] = {}
    for anchor in finder.anchors:
        anchors.setdefault(anchor.attrs.get("href", ""), []).append(anchor)
    citations = []
    for c in result.citations:
        mine = anchors.get(c.url, [])
        known = tuple(
            KnownCapture(a.attrs["data-versionurl"], a.attrs.get("data-versiondate", "")[:10])
            for a in mine
            if a.attrs.get("data-versionurl")
        )
        citations.append(
            ParsedCitation(
                id=c.id,
                url=c.url,
                claim=c.claim,
                line=c.line,
                source="link",
                spans=tuple(a.span for a in mine),
                known_captures=known,
            )
        )
    return ParsedArticle(Format.HTML, tuple(citations), tuple(result.warnings)), anchors


class _AnchorFinder(HTMLParser):
    """Every `<a>` start tag outside `<nav>`, with its exact place in the source."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text = text
        self.lines = Lines(text)
        self.nav = 0
        self.anchors: list[_Anchor] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "nav":
            self.nav += 1
        if tag != "a" or self.nav:
            return
        line, column = self.getpos()
        start = self.lines.start(line) + column
        raw = self.get_starttag_text() or ""
        if raw and self.text.startswith(raw, start):
            values = {k.lower(): (v or "") for k, v in attrs}
            self.anchors.append(_Anchor(Span(start, start + len(raw)), values))

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav" and self.nav:
            self.nav -= 1


def _attributes(text: str, anchor: _Anchor, url: str, copy: ArchivedCopy) -> Insertion:
    """The Robust Links attributes the tag lacks, added just before its closing `>` or `/>`."""
    wanted = {
        "data-originalurl": url,
        "data-versionurl": copy.capture_url,
        "data-versiondate": copy.day,
    }
    added = " ".join(f'{k}="{html.escape(v, quote=True)}"' for k, v in wanted.items() if k not in anchor.attrs)
    raw = text[anchor.span.start : anchor.span.end]
    # `/>` closes the tag only after a space or a quote: in `<a href=http://x/>` the slash is the URL's
    at = anchor.span.end - (2 if raw.endswith("/>") and raw[-3:-2] in (" ", "\t", "\n", '"', "'") else 1)
    while text[at - 1].isspace():
        at -= 1
    return Insertion(at, " " + added)
