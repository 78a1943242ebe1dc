"""The article's reference list as Robust Links (the Memento project's convention), ready to paste
back into the article; for a publication, one list per article, each in a `<section>` naming it (or
one article's alone: `report --article ID`). Pure; everything is escaped."""

from __future__ import annotations

import html
from collections.abc import Sequence

from archiver.report.model import Entry, Report
from archiver.report.words import archive_label, article_label, capture_date, link_date


def render_robustlinks(report: Report) -> str:
    """One reference list, or one per article (see the module's docstring)."""
    sections = report.by_article()
    if len(sections) <= 1:
        return _references(report.entries)
    return "".join(
        f'<section data-article="{html.escape(s.article.id)}">\n<h2>{html.escape(article_label(s.article))}</h2>\n'
        f"{_references(s.entries)}</section>\n"
        for s in sections
    )


def _references(entries: Sequence[Entry]) -> str:
    """Each link keeps its original URL, the date of linking in `data-versiondate` (always: the citation
    date, else the date we first stored the page, else the date it joined the list) and the best
    verified capture in `data-versionurl`, so a reader can always reach what the author saw."""
    e_ = html.escape
    items = []
    for e in entries:
        cid, url = e.citation.id, e.citation.url
        attrs = (
            f'href="{e_(url)}" data-originalurl="{e_(url)}" data-versiondate="{link_date(e.citation, e.first_seen)}"'
        )
        if e.archive:
            attrs += (
                f' data-versionurl="{e_(e.archive.url)}"'
                f' title="archived copy of {capture_date(e.archive)} ({e_(archive_label(e.archive.archive))})"'
            )
        items.append(f'  <li id="ref-{e_(cid)}">[{e_(cid)}] <a {attrs}>{e_(url)}</a></li>')
    return '<ol class="references">\n' + "\n".join(items) + "\n</ol>\n"
