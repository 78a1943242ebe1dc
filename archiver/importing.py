"""`archiver import`: an article's citations, read and merged into a citation list (not written)."""

from __future__ import annotations

from pathlib import Path

from archiver.articles import MAX_ARTICLE_BYTES, ImportResult, parse_article
from archiver.errors import SourceError
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
