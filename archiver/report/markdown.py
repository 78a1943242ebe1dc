"""The report as Markdown (renders on GitHub): a headline, then one row per citation. Pure; every
cell has pipes, newlines and markup neutralised."""

from __future__ import annotations

import html

from archiver.report.model import Report
from archiver.report.words import STATUS_WORDS, capture_date, day, explain, headline, support


def render_markdown(report: Report) -> str:
    lines = [
        "# Citation health report",
        "",
        f"Generated {report.generated_at.isoformat()[:19]}Z. {headline(report.summary)}.",
        "",
        "| # | status | since | evidence | claim | source still supports it | versions | archived copy "
        "| local snapshot |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for e in report.entries:
        h = e.health
        copy = f"[{capture_date(e.archive)}]({e.archive.url})" if e.archive else "none"
        cells = [
            f"[{_md(e.citation.id)}]({_md(e.citation.url)})",
            f"**{STATUS_WORDS[e.status]}**",
            _md(day(h.since if h else "")),
            _md(explain(h)),
            _md(e.citation.claim),
            _md(support(h.claim if h else None)),
            str(e.versions),
            copy,
            _md(e.snapshot),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    """A table cell: pipes, newlines and markup neutralised."""
    value = " ".join((text or "").split())
    return html.escape(value, quote=False).replace("|", "\\|").replace("[", "\\[").replace("]", "\\]")
