"""Markdown articles: their citations (footnotes `[^1]: URL`, inline, reference-style and autolinks),
each with the sentence that carries it, where each is written, and their write-back: the footnote definition, or the citing link, is followed by ` ([archived copy](URL), DATE)`.
That annotation is recognised on reading, so an annotated article imports exactly as before, with
the copy as a known capture. Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from archiver.formats.records import (
    DEFAULT_LIMITS,
    LINK_MARK,
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
    link_id,
    split_sentences,
    url_warnings,
)
from archiver.models import Citation

FOOTNOTE_DEF = re.compile(r"^\s*\[\^([^\]\s]+)\]:\s*(.*)$")
_REF_DEF = re.compile(r"^\s{0,3}\[([^\]^][^\]]*)\]:\s*<?(\S+?)>?(?:\s+[\"'(].*[\"')])?\s*$")
# Every scan that starts at a bracket stops at the next bracket and never backtracks, so that a
# line of 2 MB of `[` (or of `[a](`) is read in linear time, not quadratic.
INLINE = re.compile(
    r"(?<!!)\[((?:[^\[\]]|\[[^\[\]]*\])*+)\]\(\s*+<?((?:[^()\s<>\[\]]|\([^()\s]*\))++)>?(?:\s++\"[^\"]*+\")?\s*+\)"
)
_REFLINK = re.compile(r"(?<!!)\[([^\[\]]++)\]\[([^\[\]]*+)\]")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_FOOTNOTE = re.compile(r"\[\^([^\[\]\s]++)\]")
_URL_IN = re.compile(r"<?((?:https?:/{0,3}|www\.)[^\s<>\]]+)>?|\]\(([^)\s]+)\)", re.I)

ANNOTATION = re.compile(r" \(\[archived copy\]\((?P<url>[^()\s<>]+)\), (?P<date>\d{4}-\d{2}-\d{2})\)")
_CONTINUATION = re.compile(r"^(?: {4}|\t)\S")


@dataclass(frozen=True)
class _Place:
    span: Span  # the footnote definition or the link
    at: int  # where an annotation goes
    known: KnownCapture | None


def looks_like(text: str) -> bool:
    """Whether a text without a telling name reads as Markdown: a footnote definition or an inline link."""
    return bool(FOOTNOTE_DEF.search(text) or INLINE.search(text))


def parse(text: str, name: str = "article.md", limits: Limits = DEFAULT_LIMITS) -> ParsedArticle:
    """The article's citations as `read_citations` reads them, our annotations set aside."""
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
    result = read_citations(ANNOTATION.sub("", text))
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
        definition = FOOTNOTE_DEF.match(line)
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
        reference = _REF_DEF.match(line)
        if reference:
            refdefs.setdefault(reference.group(1).strip().lower(), reference.group(2))
        else:
            for found in INLINE.finditer(line):
                _add_link(links, text, found.group(2), base + found.start(), base + found.end())
            for found in _AUTOLINK.finditer(line):
                _add_link(links, text, found.group(1), base + found.start(), base + found.end())
            for found in _REFLINK.finditer(line):
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


def read_citations(text: str) -> ImportResult:
    """Markdown: footnotes `[^1]` with `[^1]: URL`, inline links, reference-style links, autolinks."""
    footnotes: dict[str, tuple[str, int]] = {}
    refdefs: dict[str, str] = {}
    body_lines: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        fn = FOOTNOTE_DEF.match(line)
        ref = _REF_DEF.match(line)
        if fn:
            found = _URL_IN.search(fn.group(2))
            footnotes.setdefault(
                fn.group(1), ((found.group(1) or found.group(2)) if found else fn.group(2).strip(), number)
            )
        elif ref:
            refdefs[ref.group(1).strip().lower()] = ref.group(2)
        else:
            body_lines.append((number, line))
    links: list[str] = []

    def mark(url: str, label: str) -> str:
        links.append(url)
        return f"{label}\u2060L{len(links) - 1}\u2060"

    paragraphs = _paragraphs(body_lines)
    claims: dict[str, tuple[str, int]] = {}
    link_claims: dict[int, tuple[str, int]] = {}
    for number, paragraph in paragraphs:
        plain = INLINE.sub(lambda m: mark(m.group(2), m.group(1)), paragraph)
        plain = _REFLINK.sub(
            lambda m: (
                mark(refdefs.get((m.group(2) or m.group(1)).lower(), ""), m.group(1))
                if (m.group(2) or m.group(1)).lower() in refdefs
                else m.group(0)
            ),
            plain,
        )
        plain = _AUTOLINK.sub(lambda m: mark(m.group(1), ""), plain)
        plain = re.sub(r"[*_`]{1,3}", "", re.sub(r"^\s*(#+|>|[-*+]|\d+\.)\s+", "", plain))
        for sentence in split_sentences(plain):
            clean = " ".join(_FOOTNOTE.sub("", LINK_MARK.sub("", sentence)).split())
            for marker in _FOOTNOTE.findall(sentence):
                claims.setdefault(marker, (clean, number))
            for index in LINK_MARK.findall(sentence):
                link_claims.setdefault(int(index), (clean, number))
    result = ImportResult()
    for marker, (_claim, number) in claims.items():
        if marker not in footnotes:
            result.warnings.append(
                ImportWarning(
                    "missing_reference", f"marker [^{marker}] in the text has no footnote definition", number, marker
                )
            )
    for marker, (url, number) in footnotes.items():
        if marker not in claims:
            result.warnings.append(
                ImportWarning("uncited_reference", f"footnote [^{marker}] is never cited in the text", number, marker)
            )
        result.citations.append(Citation(marker, url, claims.get(marker, ("", 0))[0], line=number))
    seen = {c.url for c in result.citations}
    for index, url in enumerate(links):
        if not url or url in seen or url.startswith("#"):
            continue
        seen.add(url)
        claim, number = link_claims.get(index, ("", 0))
        result.citations.append(Citation(link_id(url), url, claim, line=number))
    result.warnings.extend(url_warnings(result.citations))
    return result


def _paragraphs(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    paragraphs: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    for number, line in [*lines, (0, "")]:
        if line.strip():
            if not current:
                start = number
            current.append(line.strip())
        elif current:
            paragraphs.append((start, " ".join(current)))
            current = []
    return paragraphs
