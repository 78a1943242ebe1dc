"""The report as one self-contained HTML page (no external assets, a restrictive Content-Security-Policy,
works opened from disk): a row per citation with its check timeline as inline SVG and the diff of its
latest drift; a publication's summary first (articles ranked by the share of their citations that no
longer hold), then a table per article. Pure; everything that came from a page is escaped."""

from __future__ import annotations

import html
from collections.abc import Sequence

from archiver.models import LIST_ARTICLE, Article, Health, HealthStatus
from archiver.report.model import Entry, Report
from archiver.report.words import (
    COLOURS,
    STATUS_WORDS,
    article_label,
    capture_date,
    day,
    explain,
    headline,
    reviewed,
    support,
)

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;color:#222}
h1{font-size:1.6rem;margin:0 0 .3rem}.summary span{display:inline-block;margin:.2rem .4rem .2rem 0;padding:.15rem .6rem;
border-radius:1rem;color:#fff;font-weight:600}table{border-collapse:collapse;width:100%;margin-top:1rem}
th,td{border-bottom:1px solid #ddd;padding:.5rem;vertical-align:top;text-align:left}th{background:#f5f5f5}
.status{color:#fff;border-radius:.3rem;padding:.1rem .45rem;font-weight:600;white-space:nowrap}
.url{word-break:break-all;font-size:.85rem}.claim{font-style:italic;min-width:16rem;max-width:28rem}.diff{font:12px/1.4 monospace;
white-space:pre-wrap;background:#fafafa;border:1px solid #eee;padding:.5rem;max-height:18rem;overflow:auto}
.diff del{background:#ffebee;text-decoration:none;color:#b71c1c;display:block}
.diff ins{background:#e8f5e9;text-decoration:none;color:#1b5e20;display:block}details{margin-top:.3rem}
.legend rect{stroke:none}small{color:#666}
"""


def render_html(report: Report, local_files: bool = True) -> str:
    """The page; `local_files=False` leaves snapshot paths unlinked (for pages served over HTTP)."""
    e_ = html.escape
    chips = "".join(
        f'<span style="background:{COLOURS[s]}">{n} {STATUS_WORDS[s]}</span>' for s, n in report.summary.items() if n
    )
    sections = report.by_article()
    if len(sections) <= 1:
        named = [s for s in sections if s.article.id != LIST_ARTICLE]  # an article's own report names it
        body = "".join(_heading(s.article) for s in named) + _table(report.entries, local_files)
    else:
        ranked = "".join(
            f'<tr><td>{rank}</td><td><a href="#article-{e_(s.article.id)}">{e_(article_label(s.article))}</a></td>'
            f"<td>{len(s.entries)}</td><td>{s.broken}</td><td>{s.share:.0%}</td><td>{e_(headline(s.summary))}</td></tr>"
            for rank, s in enumerate(report.ranking(), 1)
        )
        body = (
            "<h2>Publication summary</h2><p>Articles ranked by the share of their citations that no longer hold "
            "(rotten or drifted).</p><table><thead><tr><th>rank</th><th>article</th><th>citations</th>"
            f"<th>no longer hold</th><th>share</th><th>statuses</th></tr></thead><tbody>{ranked}</tbody></table>"
        )
        for s in sections:
            body += (
                f'<section id="article-{e_(s.article.id)}">{_heading(s.article)}'
                f"<p>{e_(headline(s.summary))}.</p>{_table(s.entries, local_files)}</section>"
            )
    legend = "".join(
        f'<svg width="10" height="10" class="legend"><rect width="10" height="10" fill="{COLOURS[k]}"/></svg> {k} '
        for k in (
            HealthStatus.OK,
            HealthStatus.FAILING,
            HealthStatus.ROTTEN,
            HealthStatus.BLOCKED,
            HealthStatus.OFFLINE,
        )
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Citation health report</title><style>{_CSS}</style></head>
<body><h1>Citation health report</h1>
<p><small>Generated {e_(report.generated_at.isoformat()[:19])}Z</small></p>
<p class="summary">{chips}</p><p>{e_(headline(report.summary))}. <small>Timeline: {legend}</small></p>
{body}</body></html>
"""


def _heading(a: Article) -> str:
    e_ = html.escape
    about = " · ".join(e_(p) for p in (a.id, f"published {a.published}" if a.published else "", a.source) if p)
    return f"<h2>{e_(article_label(a))}</h2><p><small>{about}</small></p>"


def _table(entries: tuple[Entry, ...], local_files: bool) -> str:
    e_ = html.escape
    rows = []
    for e in entries:
        h, cid, url = e.health, e.citation.id, e.citation.url
        copy = f'<a href="{e_(e.archive.url)}">{capture_date(e.archive)}</a>' if e.archive else "none"
        # from disk, the file's absolute file: URI; over HTTP, the citation's page (no file links)
        href = e.snapshot_uri if local_files else f"citations/{e.citation.key}"
        local = f'<a href="{e_(href)}">text</a>' if e.snapshot else ""
        diff = (
            f'<details><summary>what changed</summary><div class="diff">{diff_html(e.diff)}</div></details>'
            if e.diff
            else ""
        )
        title = f"<div>{e_(e.title)}</div>" if e.title else ""
        rows.append(
            f'<tr id="c{e_(e.citation.key)}"><td>{e_(cid)}</td>'
            f'<td><span class="status" style="background:{COLOURS[e.status]}">'
            f"{e_(STATUS_WORDS[e.status])}</span><br><small>{e_(day(h.since if h else ''))}</small></td>"
            f'<td>{title}<div class="url"><a href="{e_(url)}">{e_(url)}</a></div>'
            f"{_timeline_svg(e.timeline)}</td>"
            f"<td>{e_(explain(h))}{diff}{_review(h)}</td>"
            f'<td class="claim">{e_(e.citation.claim)}<br><small>supported: {e_(support(h.claim if h else None))}</small></td>'
            f"<td>{e.versions}</td><td>{copy}</td><td>{local}</td></tr>"
        )
    return f"""<table><thead><tr><th>#</th><th>status</th><th>source</th><th>evidence</th><th>claim</th><th>versions</th>
<th>archived copy</th><th>snapshot</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>"""


def _review(health: Health | None) -> str:
    words = reviewed(health)
    return f'<div class="review"><small>reviewed: {html.escape(words)}</small></div>' if words else ""


def diff_html(diff: str) -> str:
    """A unified diff as lines struck out and added (what the page of a citation shows too)."""
    out = []
    for line in diff.splitlines():
        if line.startswith(("---", "+++", "@@")):
            continue
        text = html.escape(line[1:] if line[:1] in "+- " else line)
        if line.startswith("-"):
            out.append(f"<del>− {text}</del>")
        elif line.startswith("+"):
            out.append(f"<ins>+ {text}</ins>")
        else:
            out.append(f"<span>  {text}</span>\n")
    return "".join(out)


def _timeline_svg(marks: Sequence[tuple[str, HealthStatus]]) -> str:
    """One mark per check, coloured by outcome; the newest on the right."""
    width, size, gap = 8, 18, 3  # a mark a pointer can hover, 90 of them in 990 px
    total = max(1, len(marks)) * (width + gap)
    rects = []
    for i, (when, state) in enumerate(marks):  # `state` is a word of ours, `when` a stamp we wrote
        rects.append(
            f'<rect x="{i * (width + gap)}" y="0" width="{width}" height="{size}" rx="1" '
            f'fill="{COLOURS[state]}"><title>{html.escape(when[:16])} {state}</title></rect>'
        )
    return (
        f'<svg role="img" aria-label="check timeline" width="{total}" height="{size}" '
        f'viewBox="0 0 {total} {size}" xmlns="http://www.w3.org/2000/svg">{"".join(rects)}</svg>'
    )
