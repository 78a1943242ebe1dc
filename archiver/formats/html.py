"""HTML articles: their citations (links in the article body, never navigation, header, footer or
asides, and footnote markers whose target holds the reference), each with the sentence that carries
it, and their write-back: an archived copy is written back as the Robust Links attributes of the Memento
project (`data-originalurl`, `data-versionurl`, `data-versiondate`) on every link to the cited URL
outside navigation, added inside the start tag and nothing else touched. Pure: no I/O."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser

from lxml import html as lxml_html

from archiver.formats.records import (
    DEFAULT_LIMITS,
    LINK_MARK,
    Annotated,
    ArchivedCopy,
    Format,
    ImportResult,
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
    link_id,
    split_sentences,
    url_warnings,
)
from archiver.models import Citation

_BLOCKS = ("p", "li", "blockquote", "dd", "td", "h2", "h3", "h4", "figcaption")
_CHROME = ("nav", "header", "footer", "aside", "script", "style", "form", "noscript", "template")


@dataclass(frozen=True)
class _Anchor:
    span: Span  # the start tag
    attrs: dict[str, str]


def parse(text: str, name: str = "article.html", limits: Limits = DEFAULT_LIMITS) -> ParsedArticle:
    """The article's citations as `read_citations` reads them, with every link that writes each."""
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
    result = read_citations(text)
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


def read_citations(html: str) -> ImportResult:
    """HTML: links inside the article body (not navigation, header, footer or asides), and footnote
    markers (`<a href="#fn1">1</a>`) whose target holds the reference's URL."""
    root = lxml_html.document_fromstring(html)
    container = next(
        (
            found[0]
            for xpath in ("//article", "//main", "//*[@role='main']", "//*[@itemprop='articleBody']", "//body")
            if (found := root.xpath(xpath))
        ),
        root,
    )
    for element in container.xpath(" | ".join(f".//{tag}" for tag in _CHROME)):
        element.getparent().remove(element)
    targets: dict[str, str] = {}
    target_elements = set()
    by_id: dict[str, object] = {}
    for element in root.iter():  # one walk, not one search of the document per footnote marker
        by_id.setdefault(element.get("id") or "", element)
    for anchor in container.xpath(".//a[starts-with(@href, '#')]"):
        ident = anchor.get("href")[1:]
        found = by_id.get(ident) if ident else None
        if found is not None and ident not in targets:
            link = found.xpath(".//a[starts-with(@href, 'http')]/@href")  # type: ignore[attr-defined]
            if link:
                targets[ident] = str(link[0])
                target_elements.add(found)
    in_targets = {node for target in target_elements for node in target.iter()}  # type: ignore[attr-defined]
    result = ImportResult()
    claims: dict[str, tuple[str, int]] = {}
    order: list[tuple[str, str]] = []  # (id, url) in reading order
    for block in container.iter(*_BLOCKS):
        if block in in_targets:
            continue
        if any(a.tag in _BLOCKS for a in block.iterancestors()):
            continue  # nested blocks are read with their parent
        pieces: list[str] = []
        found_links: list[tuple[str, str]] = []
        for node in block.iter():
            if node.tag == "a" and node.get("href", "").startswith("#") and node.get("href")[1:] in targets:
                ident = node.get("href")[1:]
                label = node.text_content().strip().strip("[]") or ident
                cid = label if re.fullmatch(r"[A-Za-z0-9._-]{1,64}", label) else ident
                found_links.append((cid, targets[ident]))
                pieces.append(f"\u2060L{len(found_links) - 1}\u2060")
                pieces.append(node.tail or "")
                continue
            if node.tag == "a" and node.get("href", "").startswith(("http://", "https://")):
                found_links.append(("", node.get("href")))
                pieces.append(node.text_content() + f"\u2060L{len(found_links) - 1}\u2060")
                pieces.append(node.tail or "")
                continue
            if any(p.tag == "a" for p in node.iterancestors()) and node is not block:
                pieces.append(node.tail or "")
                continue
            if node is block or node.tag != "a":
                pieces.append(node.text or "")
                if node is not block:
                    pieces.append(node.tail or "")
        text = " ".join("".join(pieces).split())
        line = block.sourceline or 0
        for sentence in split_sentences(text):
            clean = " ".join(LINK_MARK.sub("", sentence).split())
            for index in LINK_MARK.findall(sentence):
                cid, url = found_links[int(index)]
                key = cid or link_id(url)
                claims.setdefault(key, (clean, line))
                order.append((key, url))
    seen_ids: set[str] = set()
    for cid, url in order:
        if cid in seen_ids:
            continue
        seen_ids.add(cid)
        claim, line = claims[cid]
        result.citations.append(Citation(cid, url, claim, line=line))
    result.warnings.extend(url_warnings(result.citations))
    return result
