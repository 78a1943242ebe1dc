"""The pages of `archiver serve` an editor works in, pure: the dashboard (every citation in a list
that sorts and filters by status, article and host, each linking its page) and a citation's page
(status and evidence, the claim and whether the source supports it, the timeline of checks with
drift and paywall events, versions with diffs and screenshots, archived copies with their
verification, the decisions, and the review forms for a logged-in editor). No script: sorting and
filtering are links and a GET form, so the pages work under `default-src 'none'`."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit

from archiver.models import LIST_ARTICLE, Decision, HealthStatus
from archiver.report.html import diff_html
from archiver.report.model import CheckMark, CitationPage, Entry, Report
from archiver.report.words import (
    COLOURS,
    REVIEW_WORDS,
    STATUS_WORDS,
    article_label,
    capture_date,
    day,
    explain,
    headline,
    reviewed,
    support,
)

e_ = html.escape
SORTS = ("status", "article", "host", "id", "since")
CSS = """
body{font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5rem auto;max-width:1280px;
color:#1a1a1a;padding:0 1rem}h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.15rem;margin:1.4rem 0 .4rem}
a{color:#0b57d0}table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.45rem;
vertical-align:top;text-align:left}th{background:#f3f3f3}.status{color:#fff;border-radius:.3rem;
padding:.1rem .5rem;font-weight:600;white-space:nowrap}.claim{min-width:18rem;max-width:32rem}
.url{word-break:break-all;font-size:.85rem}.muted{color:#555}form.inline{display:inline}
.filters{display:flex;gap:.8rem;flex-wrap:wrap;align-items:end;margin:.6rem 0}
.diff{font:12px/1.4 monospace;white-space:pre-wrap;background:#fafafa;border:1px solid #eee;padding:.5rem;
max-height:22rem;overflow:auto}.diff del{background:#ffebee;text-decoration:none;color:#8e0000;display:block}
.diff ins{background:#e8f5e9;text-decoration:none;color:#1b5e20;display:block}pre{white-space:pre-wrap}
.box{border:1px solid #ddd;border-radius:.4rem;padding:.8rem 1rem;margin:.8rem 0}
.review button{margin:.2rem .3rem .2rem 0;padding:.35rem .8rem;font-size:.95rem}
.timeline{max-width:100%;height:auto}.shot{max-width:240px;border:1px solid #ccc}
"""


@dataclass(frozen=True)
class Filters:
    """What the dashboard shows: citations of this status, article and host, sorted by `sort`."""

    status: str = ""
    article: str = ""
    host: str = ""
    sort: str = "status"

    @classmethod
    def of(cls, query: Mapping[str, str]) -> Filters:
        sort = query.get("sort", "status")
        return cls(query.get("status", ""), query.get("article", ""), query.get("host", ""), sort)


@dataclass(frozen=True)
class Editor:
    """Who looks at a page, as far as writing goes: `can_write` when credentials are configured,
    `name` and `csrf` when an editor is logged in."""

    can_write: bool = False
    name: str = ""
    csrf: str = ""


def page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{e_(title)}</title>'
        f"<style>{CSS}</style></head><body>{body}</body></html>"
    )


def badge(status: HealthStatus) -> str:
    return f'<span class="status" style="background:{COLOURS[status]}">{e_(STATUS_WORDS[status])}</span>'


def host(entry: Entry) -> str:
    return (urlsplit(entry.citation.url).hostname or "").removeprefix("www.")


def citation_href(key: str) -> str:
    return "/citations/" + quote(key, safe=":")


def render_dashboard(report: Report, filters: Filters, editor: Editor) -> str:
    """Every citation, filtered and sorted, each linking its page."""
    entries = [
        e
        for e in report.entries
        if (not filters.status or e.status == filters.status)
        and (not filters.article or e.citation.article == filters.article)
        and (not filters.host or host(e) == filters.host)
    ]
    order = list(HealthStatus)
    keys = {
        "status": lambda e: (order.index(e.status), e.citation.article, e.citation.id),
        "article": lambda e: (e.citation.article, e.citation.id),
        "host": lambda e: (host(e), e.citation.article),
        "id": lambda e: (e.citation.key,),
        "since": lambda e: ((e.health.since if e.health else "") or "9999", e.citation.key),
    }
    entries.sort(key=keys.get(filters.sort, keys["status"]))
    rows = "".join(
        f'<tr><td><a href="{e_(citation_href(e.citation.key))}">{e_(e.citation.key)}</a></td>'
        f"<td>{e_(e.citation.article)}</td><td>{badge(e.status)}<br><small class=muted>"
        f"{e_(day(e.health.since if e.health else ''))}</small></td><td>{e_(host(e))}</td>"
        f'<td>{e_(e.title)}<div class="url">{e_(e.citation.url)}</div></td>'
        f'<td class="claim">{e_(e.citation.claim)}</td><td>{e_(explain(e.health))}'
        f"{_reviewed_line(e)}</td></tr>"
        for e in entries
    )
    return page(
        "Citation health report",
        f"<h1>Citation health report</h1>{_one_article(report)}{_account(editor)}<p>{e_(headline(report.summary))}. "
        f'<a href="/report">The full report</a> · <a href="/api/report">JSON</a></p>'
        f"{_filter_form(report, filters)}<p class=muted>{len(entries)} citation(s) shown.</p>"
        f"<table><thead><tr>{_sort_headers(filters)}</tr></thead><tbody>{rows}</tbody></table>",
    )


def _one_article(report: Report) -> str:
    """A dashboard of one named article (`serve --article`) says which article it is."""
    if len(report.articles) != 1 or report.articles[0].id == LIST_ARTICLE:
        return ""
    return f"<h2>{e_(article_label(report.articles[0]))}</h2>"


def _sort_headers(filters: Filters) -> str:
    names = (("id", "citation"), ("article", "article"), ("status", "status"), ("host", "host"))
    cells = []
    for key, label in names:
        query = urlencode({k: v for k, v in {**filters.__dict__, "sort": key}.items() if v})
        current = " ▾" if filters.sort == key else ""
        cells.append(f'<th><a href="/?{e_(query)}">{label}</a>{current}</th>')
    return "".join(cells) + "<th>source</th><th>claim</th><th>evidence</th>"


def _filter_form(report: Report, filters: Filters) -> str:
    def select(name: str, label: str, values: Sequence[str], chosen: str) -> str:
        options = "".join(
            f'<option value="{e_(v)}"{" selected" if v == chosen else ""}>{e_(v)}</option>' for v in values
        )
        return f'<label>{label}<br><select name="{name}"><option value="">all</option>{options}</select></label>'

    statuses = [str(s) for s in HealthStatus if report.summary[s]]
    articles = sorted({e.citation.article for e in report.entries})
    hosts = sorted({host(e) for e in report.entries})
    return (
        '<form class="filters" method="get" action="/">'
        + select("status", "status", statuses, filters.status)
        + select("article", "article", articles, filters.article)
        + select("host", "host", hosts, filters.host)
        + f'<input type="hidden" name="sort" value="{e_(filters.sort)}"><button type="submit">filter</button></form>'
    )


def _account(editor: Editor) -> str:
    if not editor.can_write:
        return "<p class=muted>Read-only: no editor credentials are configured.</p>"
    if not editor.name:
        return '<p><a href="/login">Log in to review</a></p>'
    return (
        f'<form class="inline" method="post" action="/logout"><p class=muted>Editor: {e_(editor.name)} '
        f'<input type="hidden" name="csrf" value="{e_(editor.csrf)}"><button type="submit">log out</button>'
        "</p></form>"
    )


def _reviewed_line(entry: Entry) -> str:
    words = reviewed(entry.health)
    return f"<br><small>reviewed: {e_(words)}</small>" if words else ""


def render_citation(view: CitationPage, editor: Editor, message: str = "") -> str:
    """The page of one citation: the place an editor decides."""
    entry, c, h = view.entry, view.entry.citation, view.entry.health
    also = (
        "<p class=muted>The same page is cited by: "
        + ", ".join(f'<a href="{e_(citation_href(k))}">{e_(k)}</a>' for k in view.cited_by)
        + "</p>"
        if view.cited_by
        else ""
    )
    parts = [
        f'<p><a href="/">← all citations</a></p><h1>Citation {e_(c.key)} {badge(entry.status)}</h1>',
        _account(editor),
        f'<p role="status"><strong>{e_(message)}</strong></p>' if message else "",
        f'<div class="box"><div>{e_(entry.title)}</div><div class="url"><a href="{e_(c.url)}">{e_(c.url)}</a></div>'
        f"<p><strong>Evidence:</strong> {e_(explain(h) or 'nothing to report')}"
        f"{' (since ' + e_(day(h.since)) + ')' if h and h.since else ''}</p>"
        f'<p class="claim"><strong>Claim:</strong> <em>{e_(c.claim or "none given")}</em><br>'
        f"<strong>Does the source still support it?</strong> {e_(support(h.claim if h else None))}</p>"
        f"{also}</div>",
        _decisions(view, editor),
        "<h2>Checks</h2>" + _timeline(view.checks),
        "<h2>Archived copies</h2>" + _captures(view),
        f"<h2>Versions ({len(view.versions)})</h2>" + _versions(view),
    ]
    return page(f"Citation {c.key}", "".join(parts))


def _decisions(view: CitationPage, editor: Editor) -> str:
    h = view.entry.health
    listed = "".join(
        f"<li>{e_(REVIEW_WORDS[r.decision])} by {e_(r.by)} on {e_(r.at[:16].replace('T', ' '))}"
        f"{': ' + e_(r.note) if r.note else ''}{'' if r.holds else ' — the page has changed since'}</li>"
        for r in (h.reviews if h else ())
    )
    shown = f"<ul>{listed}</ul>" if listed else "<p class=muted>No decision in force.</p>"
    if not (editor.can_write and editor.name):
        return f'<div class="box"><h2>Review</h2>{shown}{_account(editor) if editor.can_write else ""}</div>'
    key = view.entry.citation.key
    buttons = "".join(
        f'<button type="submit" name="decision" value="{d}">{label}</button>'
        for d, label in (
            (Decision.ACCEPT, "Accept this version"),
            (Decision.NOT_ROT, "Not rot (false alarm)"),
            (Decision.IGNORE, "Ignore this citation"),
            ("undo", "Undo the last decision"),
        )
    )
    return (
        f'<div class="box review"><h2>Review</h2>{shown}'
        f'<form method="post" action="{e_(citation_href(key))}/review">'
        f'<input type="hidden" name="csrf" value="{e_(editor.csrf)}">'
        '<label>Note (why)<br><input name="note" size="70" maxlength="2000"></label><br>'
        f"{buttons}</form></div>"
    )


def _timeline(checks: Sequence[CheckMark]) -> str:
    """One mark per check, 12 px apart, the newest on the right; a drift event (▲ above) and a
    paywall (a bar below) drawn where they happened; a legend under it."""
    if not checks:
        return "<p class=muted>Never checked.</p>"
    step, width = 12, max(len(checks) * 12, 240)
    marks = []
    for i, m in enumerate(checks):
        x = i * step
        label = f"{m.checked_at[:16].replace('T', ' ')} {m.mark}"
        marks.append(
            f'<rect x="{x}" y="14" width="9" height="22" rx="1" fill="{COLOURS[m.mark]}"><title>{e_(label)}</title></rect>'
        )
        if m.drift:
            marks.append(
                f'<path d="M{x} 11 L{x + 9} 11 L{x + 4.5} 2 Z" fill="{COLOURS[HealthStatus.DRIFTED]}">'
                f"<title>{e_(m.checked_at[:16])} drift: {e_(m.drift)}</title></path>"
            )
        if m.paywall:
            marks.append(
                f'<rect x="{x}" y="39" width="{step}" height="5" fill="{COLOURS[HealthStatus.PAYWALLED]}">'
                f"<title>{e_(m.checked_at[:16])} paywall: {e_(m.paywall)}</title></rect>"
            )
    first, last = checks[0].checked_at[:10], checks[-1].checked_at[:10]
    legend = " ".join(
        f'<span style="color:{COLOURS[s]}">■</span> {STATUS_WORDS[s]}'
        for s in (HealthStatus.OK, HealthStatus.FAILING, HealthStatus.ROTTEN, HealthStatus.BLOCKED)
    )
    return (
        f'<svg class="timeline" role="img" aria-label="{len(checks)} checks from {first} to {last}" '
        f'viewBox="0 0 {width} 46" width="{width}" height="46" xmlns="http://www.w3.org/2000/svg">'
        f"{''.join(marks)}</svg><p class=muted><small>{len(checks)} checks, {first} → {last}. {legend} · "
        f'<span style="color:{COLOURS[HealthStatus.DRIFTED]}">▲</span> drift · '
        f'<span style="color:{COLOURS[HealthStatus.PAYWALLED]}">▬</span> paywall</small></p>'
    )


def _captures(view: CitationPage) -> str:
    if not view.captures:
        return "<p class=muted>No archived copy known yet.</p>"
    rows = "".join(
        f'<tr><td>{e_(capture_date(c))}</td><td>{e_(c.archive)}</td><td class="url"><a href="{e_(c.url)}">'
        f"{e_(c.url)}</a></td><td>"
        + e_({True: "verified", False: "not offered: " + c.verify_note, None: "not verified yet"}[c.verified])
        + "</td></tr>"
        for c in view.captures
    )
    return (
        f"<table><thead><tr><th>date</th><th>archive</th><th>copy</th><th>verification</th></tr></thead>{rows}</table>"
    )


def _versions(view: CitationPage) -> str:
    url = view.entry.citation.url
    out = []
    for v in view.versions:
        row = v.version
        stamp = row.first_seen[:19].replace("-", "").replace("T", "").replace(":", "")
        shot = (
            f'<a href="/files/{e_(quote(v.screenshot))}"><img class="shot" alt="screenshot of version {v.number}" '
            f'src="/files/{e_(quote(v.screenshot))}"></a>'
            if v.screenshot
            else ""
        )
        changed = (
            f"<details open><summary>what changed from version {v.number + 1}</summary>"
            f'<div class="diff">{diff_html(v.diff)}</div></details>'
            if v.diff
            else ""
        )
        out.append(
            f"<h3>{v.number}. {e_(row.first_seen[:19].replace('T', ' '))} · {e_(row.title)}</h3>"
            f"<p class=muted>{row.words} words · hash {e_(row.hash[:12])} · "
            f'<a href="/memento/{stamp[:14]}/{e_(url)}">replay as archived</a></p>{shot}{changed}'
            f"<details><summary>text</summary><pre>{e_(v.text)}</pre></details>"
        )
    return "".join(out) or "<p class=muted>No version stored yet.</p>"


def render_login(csrf: str, message: str = "") -> str:
    note = f'<p role="alert"><strong>{e_(message)}</strong></p>' if message else ""
    return page(
        "Log in",
        f'<p><a href="/">← all citations</a></p><h1>Editor login</h1>{note}'
        '<form method="post" action="/login"><p><label>Your name (recorded with your decisions)<br>'
        '<input name="name" maxlength="100" required></label></p><p><label>Password<br>'
        '<input name="password" type="password" required></label></p>'
        f'<input type="hidden" name="csrf" value="{e_(csrf)}"><button type="submit">Log in</button></form>',
    )
