"""The report as Markdown (renders on GitHub): a headline, then one row per citation. A publication
(more than one article) gets its summary first, articles ranked by the share of their citations that
no longer hold, then a section per article. Pure; every cell has pipes, newlines and markup
neutralised."""

from __future__ import annotations

import html
from collections.abc import Sequence

from archiver.models import LIST_ARTICLE, Article, HealthStatus
from archiver.report.model import Entry, Report
from archiver.report.words import (
    STATUS_WORDS,
    article_label,
    capture_date,
    day,
    explain,
    headline,
    reviewed,
    support,
)


def render_markdown(report: Report) -> str:
    lines = [
        "# Citation health report",
        "",
        f"Generated {report.generated_at.isoformat()[:19]}Z. {headline(report.summary)}.",
        "",
    ]
    sections = report.by_article()
    if len(sections) <= 1:
        named = [s for s in sections if s.article.id != LIST_ARTICLE]  # an article's own report names it
        heading = [line for s in named for line in (f"## {_md(article_label(s.article))}", "", _about(s.article), "")]
        return "\n".join(lines + heading + _table(report.entries)) + "\n"
    lines += [
        "## Publication summary",
        "",
        f"{len(sections)} articles, ranked by the share of their citations that no longer hold (rotten or drifted).",
        "",
        "| rank | article | citations | no longer hold | share | " + " | ".join(STATUS_WORDS[s] for s in _SHOWN) + " |",
        "|---|---|---|---|---|" + "---|" * len(_SHOWN),
    ]
    for rank, s in enumerate(report.ranking(), 1):
        counts = s.summary
        lines.append(
            f"| {rank} | [{_md(article_label(s.article))}](#{_anchor(s.article.id)}) | {len(s.entries)} | {s.broken} "
            f"| {s.share:.0%} | " + " | ".join(str(counts[st]) for st in _SHOWN) + " |"
        )
    for s in sections:
        a = s.article
        lines += ["", f'<a id="{_anchor(a.id)}"></a>', f"## {_md(article_label(a))}", ""]
        lines += [f"{_about(a)}. {headline(s.summary)}.", ""]
        lines += _table(s.entries)
    return "\n".join(lines) + "\n"


def _about(a: Article) -> str:
    about = ", ".join(p for p in (f"published {a.published}" if a.published else "", _md(a.source)) if p)
    return f"`{_md(a.id)}`" + (f" ({about})" if about else "")


_SHOWN = (HealthStatus.ROTTEN, HealthStatus.DRIFTED, HealthStatus.FAILING, HealthStatus.PAYWALLED, HealthStatus.OK)


def _anchor(article_id: str) -> str:
    return "article-" + article_id.lower()


def _table(entries: Sequence[Entry]) -> list[str]:
    lines = [
        "| # | status | since | evidence | claim | source still supports it | versions | archived copy "
        "| local snapshot |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        h = e.health
        copy = f"[{capture_date(e.archive)}]({e.archive.url})" if e.archive else "none"
        cells = [
            f"[{_md(e.citation.id)}]({_md(e.citation.url)})",
            f"**{STATUS_WORDS[e.status]}**",
            _md(day(h.since if h else "")),
            _md("; ".join(p for p in (explain(h), f"reviewed: {reviewed(h)}" if h and h.reviews else "") if p)),
            _md(e.citation.claim),
            _md(support(h.claim if h else None)),
            str(e.versions),
            copy,
            _md(e.snapshot),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _md(text: str) -> str:
    """A table cell: pipes, newlines and markup neutralised."""
    value = " ".join((text or "").split())
    return html.escape(value, quote=False).replace("|", "\\|").replace("[", "\\[").replace("]", "\\]")
