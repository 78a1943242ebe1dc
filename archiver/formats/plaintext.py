"""Plain-text articles (bracketed markers `[n]` and a reference list `[n] URL`): their citations, each
with the sentence that carries its marker (and the one before, when it opens with "Moreover", "De
plus"…), and their write-back: an archived copy is written at the end of the reference's line as
` (archived copy: URL, DATE)`, an annotation recognised on reading. Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping

from archiver.formats.records import (
    DEFAULT_LIMITS,
    Annotated,
    ArchivedCopy,
    Format,
    ImportResult,
    ImportWarning,
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
    split_sentences,
    url_warnings,
)
from archiver.models import Citation

REFERENCE = re.compile(
    r"^\s*\[(\d+)\]\s*[.:)\-–]?\s*((?:https?:|www\.|\d+https?:|https?/)\S.*?|\S+\.\w{2,}/\S*)\s*$", re.I
)
_MARKER = re.compile(r"\[(\d+)\]")
_CONNECTIVES = re.compile(
    r"^(de plus|en outre|par ailleurs|en effet|ainsi|toutefois|cependant|moreover|in addition|"
    r"furthermore|also|however|besides)\b",
    re.I,
)

ANNOTATION = re.compile(r" \(archived copy: (?P<url>\S+), (?P<date>\d{4}-\d{2}-\d{2})\)")


def parse(text: str, name: str = "article.txt", limits: Limits = DEFAULT_LIMITS) -> ParsedArticle:
    """The article's citations as `read_citations` reads them, our annotations set aside."""
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
    result = read_citations(ANNOTATION.sub("", text))
    check_count(len(result.citations), name, limits)
    places: dict[str, tuple[Span, KnownCapture | None]] = {}
    offset = 0
    for line in text.splitlines(keepends=True):
        content = line.rstrip("\r\n").rstrip()
        reference = REFERENCE.match(ANNOTATION.sub("", content))
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


def strip_markers(text: str) -> str:
    return " ".join(_MARKER.sub("", text).split())


def read_citations(text: str) -> ImportResult:
    """A plain-text article: bracketed markers [n] in the body, a numbered reference list `[n] URL`."""
    result = ImportResult()
    references: dict[str, tuple[str, int]] = {}
    body: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        ref = REFERENCE.match(line)
        if ref:
            references.setdefault(ref.group(1), (ref.group(2), number))
        elif line.strip():
            body.append((number, line))
    claims: dict[str, tuple[str, int]] = {}
    for number, paragraph in body:
        sentences = split_sentences(paragraph)
        for i, sentence in enumerate(sentences):
            markers = _MARKER.findall(sentence)
            if not markers:
                continue
            claim = strip_markers(sentence)  # once per sentence, however many markers it carries
            if i > 0 and _CONNECTIVES.match(claim) and not _MARKER.search(sentences[i - 1]):
                claim = strip_markers(sentences[i - 1]) + " " + claim
            for marker in markers:
                claims.setdefault(marker, (claim, number))
    for marker, (_claim, number) in claims.items():
        if marker not in references:
            result.warnings.append(
                ImportWarning(
                    "missing_reference",
                    f"marker [{marker}] in the text has no entry in the reference list",
                    number,
                    marker,
                )
            )
    for marker, (url, number) in sorted(references.items(), key=lambda kv: int(kv[0])):
        if marker not in claims:
            result.warnings.append(
                ImportWarning("uncited_reference", f"reference [{marker}] is never cited in the text", number, marker)
            )
        claim = claims.get(marker, ("", 0))[0]
        result.citations.append(Citation(marker, url, claim, line=number))
    result.warnings.extend(url_warnings(result.citations))
    return result
