"""The citation health report: JSON (the contract), Markdown, a self-contained HTML page, and the
article's reference list as Robust Links. Pure: data in, text out; everything from a page is escaped."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from archiver.detect.drift import EDITS
from archiver.detect.health import STATUSES

STATUS_WORDS = {
    "ok": "OK",
    "paywalled": "Paywalled",
    "drifted": "Drifted",
    "blocked": "Blocked",
    "failing": "Failing",
    "rotten": "Rotten",
    "offline": "Offline",
    "unchecked": "Unchecked",
}
COLOURS = {
    "ok": "#2e7d32",
    "paywalled": "#6a1b9a",
    "drifted": "#ef6c00",
    "blocked": "#607d8b",
    "failing": "#f9a825",
    "rotten": "#c62828",
    "offline": "#b0bec5",
    "unchecked": "#cfd8dc",
}


def report_data(
    citations: Sequence[Mapping[str, Any]],
    health: Mapping[str, Mapping[str, Any]],
    generated_at: datetime,
    captures: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The JSON contract: `generated_at`, a `summary` of counts per status, then `citations` in
    footnote order. A citation never checked is `unchecked` with empty details."""
    rows = []
    for c in citations:
        entry = dict(health.get(c["id"]) or _unchecked(c["id"], c["url"]))
        entry["url"] = c["url"]
        entry["claim_text"] = c.get("claim", "")
        entry["cited_at"] = c.get("cited_at") or None
        entry["added_at"] = c.get("added_at") or None
        best = (captures or {}).get(c["id"])
        entry["archive"] = (
            {"url": best["url"], "timestamp": best["timestamp"], "archive": best["archive"], "verified": True}
            if best
            else None
        )
        rows.append(entry)
    summary = {status: 0 for status in STATUSES}
    for row in rows:
        summary[row["status"]] = summary.get(row["status"], 0) + 1
    return {"generated_at": generated_at.isoformat(), "summary": summary, "citations": rows}


def _unchecked(citation_id: str, url: str) -> dict[str, Any]:
    return {
        "id": citation_id,
        "url": url,
        "status": "unchecked",
        "since": None,
        "flags": [],
        "checked_at": None,
        "http_status": None,
        "final_url": None,
        "rot": None,
        "paywall": None,
        "drift": None,
        "claim": None,
    }


# --- words -----------------------------------------------------------------------------------------------


def evidence(entry: Mapping[str, Any]) -> str:
    """The evidence behind a status, in plain words."""
    status = entry["status"]
    rot, paywall, claim, drift = (entry.get(k) or {} for k in ("rot", "paywall", "claim", "drift"))
    parts = []
    if status in ("rotten", "failing", "blocked") and rot.get("evidence"):
        parts.append(rot["evidence"])
    if claim.get("lost"):
        parts.append("the source no longer says " + ", ".join(claim["lost"]))
    if drift.get("kind") in EDITS:
        parts.append(
            f"{drift['kind'].replace('_', ' ')} (similarity {drift['score']:.0%})"
            + (": " + "; ".join(drift["changes"][:3]) if drift.get("changes") else "")
        )
    if paywall.get("kind") not in (None, "none"):
        parts.append(f"{paywall['kind']} paywall: " + "; ".join(paywall.get("evidence", [])[:2]))
    if rot.get("moved_to"):
        parts.append(f"moved to {rot['moved_to']}")
    if rot.get("recovered_at") and status == "ok":
        parts.append(f"recovered on {rot['recovered_at'][:10]}")
    if status == "offline":
        parts.append("the last pass could reach no host")
    return "; ".join(parts) or ("never checked" if status == "unchecked" else "")


def support(entry: Mapping[str, Any]) -> str:
    claim = entry.get("claim") or {}
    if not claim:
        return "unknown"
    if claim.get("lost"):
        return "no longer (" + ", ".join(claim["lost"]) + " gone)"
    if claim.get("supported") is True:
        return "yes (" + ", ".join(claim.get("found", [])) + ")"
    if claim.get("supported") is False:
        return "not found (" + ", ".join(claim.get("missing", [])) + ")"
    return "nothing to check"


def _day(stamp: str | None) -> str:
    return stamp[:10] if stamp else ""


def _capture_date(archive: Mapping[str, Any] | None) -> str:
    if not archive:
        return ""
    t = archive["timestamp"]
    return f"{t[:4]}-{t[4:6]}-{t[6:8]}"


def headline(data: Mapping[str, Any]) -> str:
    summary = data["summary"]
    total = sum(summary.values())
    parts = [f"{n} {status}" for status, n in summary.items() if n]
    return f"{total} citation(s): " + ", ".join(parts)


# --- Markdown -------------------------------------------------------------------------------------------


def _md(text: Any) -> str:
    """A table cell: pipes, newlines and markup neutralised."""
    value = " ".join(str(text or "").split())
    return html.escape(value, quote=False).replace("|", "\\|").replace("[", "\\[").replace("]", "\\]")


def render_markdown(data: Mapping[str, Any]) -> str:
    lines = ["# Citation health report", "", f"Generated {data['generated_at'][:19]}Z. {headline(data)}.", ""]
    lines += [
        "| # | status | since | evidence | claim | source still supports it | versions | archived copy "
        "| local snapshot |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for e in data["citations"]:
        archive = e.get("archive")
        copy = f"[{_capture_date(archive)}]({archive['url']})" if archive else "none"
        lines.append(
            "| "
            + " | ".join(
                [
                    f"[{_md(e['id'])}]({_md(e['url'])})",
                    f"**{STATUS_WORDS.get(e['status'], e['status'])}**",
                    _md(_day(e.get("since"))),
                    _md(evidence(e)),
                    _md(e.get("claim_text", "")),
                    _md(support(e)),
                    str(e.get("versions", "")),
                    copy,
                    _md(e.get("snapshot") or ""),
                ]
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


# --- HTML -----------------------------------------------------------------------------------------------

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;color:#222}
h1{font-size:1.6rem;margin:0 0 .3rem}.summary span{display:inline-block;margin:.2rem .4rem .2rem 0;padding:.15rem .6rem;
border-radius:1rem;color:#fff;font-weight:600}table{border-collapse:collapse;width:100%;margin-top:1rem}
th,td{border-bottom:1px solid #ddd;padding:.5rem;vertical-align:top;text-align:left}th{background:#f5f5f5}
.status{color:#fff;border-radius:.3rem;padding:.1rem .45rem;font-weight:600;white-space:nowrap}
.url{word-break:break-all;font-size:.85rem}.claim{font-style:italic;max-width:22rem}.diff{font:12px/1.4 monospace;
white-space:pre-wrap;background:#fafafa;border:1px solid #eee;padding:.5rem;max-height:18rem;overflow:auto}
.diff del{background:#ffebee;text-decoration:none;color:#b71c1c;display:block}
.diff ins{background:#e8f5e9;text-decoration:none;color:#1b5e20;display:block}details{margin-top:.3rem}
.legend rect{stroke:none}small{color:#666}
"""


def _timeline_svg(marks: Sequence[Sequence[str]]) -> str:
    """One mark per check, coloured by outcome; the newest on the right."""
    width, size, gap = 6, 14, 2
    total = max(1, len(marks)) * (width + gap)
    rects = []
    for i, (when, state) in enumerate(marks):
        colour = COLOURS.get(state, COLOURS["failing"])
        rects.append(
            f'<rect x="{i * (width + gap)}" y="0" width="{width}" height="{size}" rx="1" '
            f'fill="{colour}"><title>{html.escape(when[:16])} {html.escape(state)}</title></rect>'
        )
    return (
        f'<svg role="img" aria-label="check timeline" width="{total}" height="{size}" '
        f'viewBox="0 0 {total} {size}" xmlns="http://www.w3.org/2000/svg">{"".join(rects)}</svg>'
    )


def diff_html(diff: str) -> str:
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


def render_html(data: Mapping[str, Any]) -> str:
    """A self-contained page: no external assets, works opened from disk."""
    e_ = html.escape
    chips = "".join(
        f'<span style="background:{COLOURS[s]}">{n} {STATUS_WORDS[s]}</span>' for s, n in data["summary"].items() if n
    )
    rows = []
    for e in data["citations"]:
        status = e["status"]
        archive = e.get("archive")
        copy = f'<a href="{e_(archive["url"])}">{_capture_date(archive)}</a>' if archive else "none"
        snapshot = e.get("snapshot")
        local = f'<a href="file://{e_(snapshot)}">text</a>' if snapshot else ""
        diff = (
            f'<details><summary>what changed</summary><div class="diff">{diff_html(e["diff"])}</div></details>'
            if e.get("diff")
            else ""
        )
        title = f"<div>{e_(e.get('title') or '')}</div>" if e.get("title") else ""
        rows.append(
            f'<tr id="c{e_(e["id"])}"><td>{e_(e["id"])}</td>'
            f'<td><span class="status" style="background:{COLOURS.get(status, "#999")}">'
            f"{e_(STATUS_WORDS.get(status, status))}</span><br><small>{e_(_day(e.get('since')))}</small></td>"
            f'<td>{title}<div class="url"><a href="{e_(e["url"])}">{e_(e["url"])}</a></div>'
            f"{_timeline_svg(e.get('timeline') or [])}</td>"
            f"<td>{e_(evidence(e))}{diff}</td>"
            f'<td class="claim">{e_(e.get("claim_text", ""))}<br><small>supported: {e_(support(e))}</small></td>'
            f"<td>{e.get('versions', '')}</td><td>{copy}</td><td>{local}</td></tr>"
        )
    legend = "".join(
        f'<svg width="10" height="10" class="legend"><rect width="10" height="10" fill="{COLOURS[k]}"/></svg> {k} '
        for k in ("ok", "failing", "rotten", "blocked", "offline")
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Citation health report</title><style>{_CSS}</style></head>
<body><h1>Citation health report</h1>
<p><small>Generated {e_(data["generated_at"][:19])}Z</small></p>
<p class="summary">{chips}</p><p>{e_(headline(data))}. <small>Timeline: {legend}</small></p>
<table><thead><tr><th>#</th><th>status</th><th>source</th><th>evidence</th><th>claim</th><th>versions</th>
<th>archived copy</th><th>snapshot</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table></body></html>
"""


# --- Robust Links -----------------------------------------------------------------------------------------


def render_robustlinks(data: Mapping[str, Any]) -> str:
    """The reference list as Robust Links (Memento project): each link keeps its original URL, the
    date of linking in `data-versiondate` (always: the citation date, else the date we first stored
    the page, else the date it joined the list) and the best verified capture in `data-versionurl`,
    so a reader can always reach what the author saw."""
    e_ = html.escape
    items = []
    for e in data["citations"]:
        archive = e.get("archive")
        attrs = f'href="{e_(e["url"])}" data-originalurl="{e_(e["url"])}" data-versiondate="{link_date(e)}"'
        if archive:
            attrs += (
                f' data-versionurl="{e_(archive["url"])}"'
                f' title="archived copy of {_capture_date(archive)} ({e_(archive_label(archive["archive"]))})"'
            )
        items.append(f'  <li id="ref-{e_(e["id"])}">[{e_(e["id"])}] <a {attrs}>{e_(e["url"])}</a></li>')
    return '<ol class="references">\n' + "\n".join(items) + "\n</ol>\n"


def link_date(entry: Mapping[str, Any]) -> str:
    """The date of linking, YYYY-MM-DD: the citation's date, else its first stored version's, else
    the day it joined the citation list."""
    for key in ("cited_at", "first_seen", "added_at"):
        value = str(entry.get(key) or "")
        if len(value) >= 10 and value[4] == "-" and value[7] == "-":
            return value[:10]
    return ""


def archive_label(archive: str) -> str:
    return "Wayback Machine" if archive == "wayback" else archive
