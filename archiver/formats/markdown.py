"""Markdown articles: their citations are read by `archiver.articles` (footnotes `[^1]: URL`, inline,
reference-style and autolinks); this module finds where each is written and writes an archived copy
back: the footnote definition, or the citing link, is followed by ` ([archived copy](URL), DATE)`.
That annotation is recognised on reading, so an annotated article imports exactly as before, with
the copy as a known capture. Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from archiver.articles import (
    _MD_AUTOLINK,
    _MD_FOOTNOTE_DEF,
    _MD_INLINE,
    _MD_REF_DEF,
    _MD_REFLINK,
    parse_markdown_article,
)
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
    ParsedArticle,
    ParsedCitation,
    Span,
    apply,
    check_count,
    check_size,
    decide,
)

ANNOTATION = re.compile(r" \(\[archived copy\]\((?P<url>[^()\s<>]+)\), (?P<date>\d{4}-\d{2}-\d{2})\)")
_CONTINUATION = re.compile(r"^(?: {4}|\t)\S")


@dataclass(frozen=True)
class _Place:
    span: Span  # the footnote definition or the link
    at: int  # where an annotation goes
    known: KnownCapture | None


def parse(text: str, name: str = "article.md", limits: Limits = DEFAULT_LIMITS) -> ParsedArticle:
    """The article's citations as `archiver.articles` reads them, our annotations set aside."""
    return _read(text, name, limits)[0]


def annotate(
    text: str, copies: Mapping[str, ArchivedCopy], name: str = "article.md", limits: Limits = DEFAULT_LIMITS
) -> Annotated:
    """The article with ` ([archived copy](URL), DATE)` after each cited footnote or link."""
    article, places = _read(text, name, limits)
    insertions: list[Insertion] = []
    written: list[str] = []
    left: list[Left] = []
    for citation in article.citations:
        outcome = decide(citation, copies)
        place = places.get(citation.id)
        if isinstance(outcome, Left):
            left.append(outcome)
        elif place is None:
            left.append(Left(citation.id, citation.url, LeftReason.NOT_WRITABLE))
        else:
            insertions.append(Insertion(place.at, annotation(outcome)))
            written.append(citation.id)
    return Annotated(apply(text, insertions), Format.MARKDOWN, tuple(written), tuple(left))


def annotation(copy: ArchivedCopy) -> str:
    """The archived-copy link; characters that would end a Markdown link destination are escaped."""
    url = "".join(f"%{ord(ch):02X}" if ch in "()<> " else ch for ch in copy.capture_url)
    return f" ([archived copy]({url}), {copy.day})"


def _read(text: str, name: str, limits: Limits) -> tuple[ParsedArticle, dict[str, _Place]]:
    check_size(text, name, limits)
    result = parse_markdown_article(ANNOTATION.sub("", text))
    check_count(len(result.citations), name, limits)
    footnotes, links = _places(text)
    citations: list[ParsedCitation] = []
    places: dict[str, _Place] = {}
    for c in result.citations:
        place = footnotes.get(c.id) or links.get(c.url)
        if place is not None:
            places[c.id] = place
        citations.append(
            ParsedCitation(
                id=c.id,
                url=c.url,
                claim=c.claim,
                line=c.line,
                source="footnote" if c.id in footnotes else "link",
                spans=(place.span,) if place else (),
                known_captures=(place.known,) if place and place.known else (),
            )
        )
    return ParsedArticle(Format.MARKDOWN, tuple(citations), tuple(result.warnings)), places


def _places(text: str) -> tuple[dict[str, _Place], dict[str, _Place]]:
    """Where each footnote is defined, and where each URL is first linked from the body."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    footnotes: dict[str, _Place] = {}
    refdefs: dict[str, str] = {}
    links: dict[str, _Place] = {}
    reflinks: list[tuple[str, int, int]] = []  # label, start, end
    i = 0
    while i < len(lines):
        line = lines[i].rstrip("\r\n")
        base = offsets[i]
        definition = _MD_FOOTNOTE_DEF.match(line)
        if definition:
            last = i
            while last + 1 < len(lines) and _CONTINUATION.match(lines[last + 1]):
                last += 1
            content = lines[last].rstrip("\r\n").rstrip()
            end = offsets[last] + len(content)
            existing = ANNOTATION.search(content)
            known = _known(existing) if existing and existing.end() == len(content) else None
            footnotes.setdefault(definition.group(1), _Place(Span(base, end), end, known))
            i = last + 1
            continue
        reference = _MD_REF_DEF.match(line)
        if reference:
            refdefs.setdefault(reference.group(1).strip().lower(), reference.group(2))
        else:
            for found in _MD_INLINE.finditer(line):
                _add_link(links, text, found.group(2), base + found.start(), base + found.end())
            for found in _MD_AUTOLINK.finditer(line):
                _add_link(links, text, found.group(1), base + found.start(), base + found.end())
            for found in _MD_REFLINK.finditer(line):
                label = (found.group(2) or found.group(1)).strip().lower()
                reflinks.append((label, base + found.start(), base + found.end()))
        i += 1
    for label, start, end in reflinks:
        if label in refdefs:
            _add_link(links, text, refdefs[label], start, end)
    return footnotes, links


def _add_link(links: dict[str, _Place], text: str, url: str, start: int, end: int) -> None:
    current = links.get(url)
    if current is not None and current.span.start <= start:
        return
    existing = ANNOTATION.match(text, end)
    links[url] = _Place(Span(start, end), end, _known(existing) if existing else None)


def _known(found: re.Match[str]) -> KnownCapture:
    return KnownCapture(found.group("url"), found.group("date"))
