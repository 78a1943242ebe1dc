"""The citation formats articles and bibliographies arrive in: reading their citations, and writing
each citation's archived copy back into the file, in its own format, changing nothing else.

| format | read from | archived copy written as |
|---|---|---|
| text | `[n]` markers and a `[n] URL` reference list | ` (archived copy: URL, DATE)` after the reference |
| Markdown | footnotes, inline, reference and autolinks | ` ([archived copy](URL), DATE)` after the footnote or link |
| HTML | links in the article body, footnotes | Robust Links `data-originalurl/-versionurl/-versiondate` |
| BibTeX / BibLaTeX | entries with `url` (`urldate`) | `archiveurl` and `archivedate` fields |
| CSL-JSON | items with `URL` (`accessed`) | `archive` and `archive_location` |
| wikitext | cite templates, bare links in `<ref>` | `archive-url`, `archive-date`, `url-status`; `{{Webarchive}}` |

Parsing and annotating are pure (text in, records or text out); `read_article` is the one place a
file is read, bounded before it is."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

from archiver.errors import SourceError
from archiver.formats import bibtex, csljson, html, markdown, plaintext, wikitext
from archiver.formats.records import (
    DEFAULT_LIMITS,
    Annotated,
    ArchivedCopy,
    Format,
    KnownCapture,
    Left,
    LeftReason,
    Limits,
    LinkStatus,
    ParsedArticle,
    ParsedCitation,
    Span,
)

__all__ = [
    "Annotated",
    "ArchivedCopy",
    "DEFAULT_LIMITS",
    "Format",
    "KnownCapture",
    "Left",
    "LeftReason",
    "Limits",
    "LinkStatus",
    "ParsedArticle",
    "ParsedCitation",
    "Span",
    "annotate",
    "detect_format",
    "parse",
    "read_article",
]

_EXTENSIONS: dict[str, Format] = {
    ".bib": Format.BIBTEX,
    ".bibtex": Format.BIBTEX,
    ".biblatex": Format.BIBTEX,
    ".csl.json": Format.CSL_JSON,
    ".csljson": Format.CSL_JSON,
    ".json": Format.CSL_JSON,
    ".wiki": Format.WIKITEXT,
    ".wikitext": Format.WIKITEXT,
    ".mediawiki": Format.WIKITEXT,
    ".mw": Format.WIKITEXT,
    ".md": Format.MARKDOWN,
    ".markdown": Format.MARKDOWN,
    ".html": Format.HTML,
    ".htm": Format.HTML,
    ".xhtml": Format.HTML,
}
_SNIFF_BYTES = 8192
_CSL = re.compile(r'^\s*\[\s*(\]|\{\s*"(id|type|URL|title)"\s*:)')
# an entry `@type{key,` or `@string{`, `@comment{`, `@preamble{` at the start of a line
_BIBTEX = re.compile(
    r"^[ \t]*@[ \t]*(?:(?:string|comment|preamble)[ \t]*[{(]|[A-Za-z]+[ \t]*[{(][ \t]*[^\s,{}()\"]+[ \t]*,)",
    re.M | re.I,
)
_WIKITEXT = re.compile(
    r"\{\{\s*(cite[ _]|citation\s*[|}]|use [dm][md]y dates)|<ref[\s>/]|^==[^=\n].*==[ \t]*$", re.I | re.M
)
_HTML = re.compile(r"\s*(<!doctype html|<html)", re.I)

_PARSERS = {
    Format.TEXT: plaintext.parse,
    Format.MARKDOWN: markdown.parse,
    Format.HTML: html.parse,
    Format.BIBTEX: bibtex.parse,
    Format.CSL_JSON: csljson.parse,
    Format.WIKITEXT: wikitext.parse,
}


def detect_format(text: str, name: str = "", among: Collection[Format] = tuple(Format)) -> Format:
    """The format by the file name's extension, else by what the text starts with; only the formats
    `among` are considered (plain text is what is left)."""
    lowered = name.lower()
    for suffix, fmt in sorted(_EXTENSIONS.items(), key=lambda kv: -len(kv[0])):
        if lowered.endswith(suffix) and fmt in among:
            return fmt
    head = text[:_SNIFF_BYTES].lstrip("\ufeff")
    sniffed: tuple[tuple[Format, Callable[[], bool]], ...] = (
        (Format.CSL_JSON, lambda: bool(_CSL.match(head))),
        (Format.HTML, lambda: bool(_HTML.match(head))),
        (Format.BIBTEX, lambda: bool(_BIBTEX.search(head))),
        (Format.WIKITEXT, lambda: bool(_WIKITEXT.search(head))),
        (Format.MARKDOWN, lambda: markdown.looks_like(text)),
    )
    return next((fmt for fmt, test in sniffed if fmt in among and test()), Format.TEXT)


def parse(text: str, name: str = "", fmt: Format | None = None, limits: Limits = DEFAULT_LIMITS) -> ParsedArticle:
    """Every citation of an article or a bibliography, in reading order. A malformed file raises
    SourceError naming `name`, the line or entry, and the problem."""
    fmt = fmt or detect_format(text, name)
    return _PARSERS[fmt](text, name or f"article ({fmt})", limits)


def annotate(
    text: str,
    copies: Mapping[str, ArchivedCopy],
    name: str = "",
    fmt: Format | None = None,
    templates: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> Annotated:
    """The text with each citation's archived copy (`copies`, by citation id) written back in the
    text's own format, every other character unchanged; citations without a copy are listed in
    `left`. `templates=True` lets a bare wikitext link become a `{{cite web}}`."""
    fmt = fmt or detect_format(text, name)
    label = name or f"article ({fmt})"
    if fmt is Format.WIKITEXT:
        return wikitext.annotate(text, copies, label, limits, templates=templates)
    annotators = {
        Format.TEXT: plaintext.annotate,
        Format.MARKDOWN: markdown.annotate,
        Format.HTML: html.annotate,
        Format.BIBTEX: bibtex.annotate,
        Format.CSL_JSON: csljson.annotate,
    }
    return annotators[fmt](text, copies, label, limits)


def read_article(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> str:
    """A file's text, refused before it is read when it is over the size bound; UTF-8 (a BOM is fine)."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(limits.max_bytes + 1)
    except OSError as exc:
        raise SourceError(path, [(None, f"cannot read: {exc.strerror}")]) from None
    if len(data) > limits.max_bytes:
        raise SourceError(path, [(None, f"over the limit of {limits.max_bytes:,} bytes")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceError(path, [(line, f"not UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8")]) from None
