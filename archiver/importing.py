"""`archiver import`: an article's citations, read and merged into a citation list (not written)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from archiver.errors import SourceError
from archiver.formats import Format, detect_format, html, markdown, plaintext
from archiver.formats.records import ImportResult, ImportWarning
from archiver.sources import MAX_CELL_CHARS, MAX_SOURCES_BYTES, merge_sources, parse_sources, read_bounded
from archiver.urls import canonical


def import_article(article: Path, target: Path) -> tuple[ImportResult, str, list[str]]:
    """Read an article's citations and merge them into the citation list at `target` (not written)."""
    data = read_bounded(article, MAX_ARTICLE_BYTES)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError(article, [(None, "not UTF-8; save the article as UTF-8")]) from None
    result = parse_article(text, article.name)
    if not result.citations:
        raise SourceError(
            article,
            [
                (
                    None,
                    "no citation found (no [n] markers with a reference list, "
                    "no footnotes, no links in the article body)",
                )
            ],
        )
    existing = read_bounded(target, MAX_SOURCES_BYTES) if target.exists() else None
    if existing is not None:
        parse_sources(existing, target)  # refuse to merge into a list we cannot read: name its bad lines
    canonicals = {
        c.url: form for c in result.citations if (form := canonical(c.url)) != c.url and len(form) <= MAX_CELL_CHARS
    }
    merged, notes = merge_sources(existing, result.citations, canonicals)
    return result, merged, notes


def parse_article(text: str, name: str = "") -> ImportResult:
    """The citations of an article in one of the formats `import` takes (text, Markdown, HTML), by its
    name or else its content (see `formats.detect_format`); kept within what a citation list accepts
    (see `bounded`)."""
    readers = {Format.HTML: html.read_citations, Format.MARKDOWN: markdown.read_citations}
    fmt = detect_format(text, name, among=(Format.HTML, Format.MARKDOWN))
    return bounded(readers.get(fmt, plaintext.read_citations)(text), name)


MAX_ARTICLE_BYTES = 16 * 1024 * 1024
MAX_CITATIONS_PER_ARTICLE = 10_000
MAX_CLAIM_CHARS = 2_000  # a sentence; a longer "sentence" is a run of links or markup


def bounded(result: ImportResult, name: str = "article") -> ImportResult:
    """Never more citations than `MAX_CITATIONS_PER_ARTICLE` (an error), never a cell that
    `check` would refuse: a URL over the cell limit is left out, a claim is clipped; both are said."""
    if len(result.citations) > MAX_CITATIONS_PER_ARTICLE:
        raise SourceError(
            name or "article",
            [(None, f"{len(result.citations)} citations, more than the {MAX_CITATIONS_PER_ARTICLE} accepted")],
        )
    kept, clipped = [], 0
    for c in result.citations:
        if len(c.url) > MAX_CELL_CHARS or len(c.id) > MAX_CELL_CHARS:
            result.warnings.append(
                ImportWarning(
                    "url_too_long",
                    f"[{c.id[:20]}] URL of {len(c.url)} characters left out (at most {MAX_CELL_CHARS}): "
                    f"{c.url[:80]!r}…",
                    c.line,
                    c.id[:20],
                )
            )
            continue
        if len(c.claim) > MAX_CLAIM_CHARS:
            clipped += 1
            c = replace(c, claim=c.claim[: MAX_CLAIM_CHARS - 1].rstrip() + "…")
        kept.append(c)
    if clipped:
        result.warnings.append(
            ImportWarning("claim_clipped", f"{clipped} claim(s) longer than {MAX_CLAIM_CHARS} characters were clipped")
        )
    result.citations = kept
    return result
