"""Plain-text articles (bracketed markers `[n]` and a reference list `[n] URL`): their citations are
read by `archiver.articles`; an archived copy is written at the end of the reference's line as
` (archived copy: URL, DATE)`, an annotation recognised on reading. Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping

from archiver.articles import _REFERENCE, parse_text_article
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

ANNOTATION = re.compile(r" \(archived copy: (?P<url>\S+), (?P<date>\d{4}-\d{2}-\d{2})\)")


def parse(text: str, name: str = "article.txt", limits: Limits = DEFAULT_LIMITS) -> ParsedArticle:
    """The article's citations as `archiver.articles` reads them, our annotations set aside."""
    return _read(text, name, limits)


def annotate(
    text: str, copies: Mapping[str, ArchivedCopy], name: str = "article.txt", limits: Limits = DEFAULT_LIMITS
) -> Annotated:
    """The article with ` (archived copy: URL, DATE)` at the end of each reference line that has one."""
    article = _read(text, name, limits)
    insertions: list[Insertion] = []
    written: list[str] = []
    left: list[Left] = []
    for citation in article.citations:
        outcome = decide(citation, copies)
        if isinstance(outcome, Left):
            left.append(outcome)
        elif not citation.spans:
            left.append(Left(citation.id, citation.url, LeftReason.NOT_WRITABLE))
        else:
            url = outcome.capture_url.replace(" ", "%20")
            insertions.append(Insertion(citation.spans[0].end, f" (archived copy: {url}, {outcome.day})"))
            written.append(citation.id)
    return Annotated(apply(text, insertions), Format.TEXT, tuple(written), tuple(left))


def _read(text: str, name: str, limits: Limits) -> ParsedArticle:
    check_size(text, name, limits)
    result = parse_text_article(ANNOTATION.sub("", text))
    check_count(len(result.citations), name, limits)
    places: dict[str, tuple[Span, KnownCapture | None]] = {}
    offset = 0
    for line in text.splitlines(keepends=True):
        content = line.rstrip("\r\n").rstrip()
        reference = _REFERENCE.match(ANNOTATION.sub("", content))
        if reference and reference.group(1) not in places:
            existing = ANNOTATION.search(content)
            known = KnownCapture(existing.group("url"), existing.group("date")) if existing else None
            places[reference.group(1)] = (Span(offset, offset + len(content)), known)
        offset += len(line)
    citations = []
    for c in result.citations:
        span, known = places.get(c.id, (None, None))
        citations.append(
            ParsedCitation(
                id=c.id,
                url=c.url,
                claim=c.claim,
                line=c.line,
                source="reference",
                spans=(span,) if span else (),
                known_captures=(known,) if known else (),
            )
        )
    return ParsedArticle(Format.TEXT, tuple(citations), tuple(result.warnings))
