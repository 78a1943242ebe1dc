"""The citation health report. Pure: takes what the store holds, returns text or JSON-ready data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from archiver.detect.health import STATUSES


def report_data(citations: Sequence[Mapping[str, Any]], health: Mapping[str, Mapping[str, Any]],
                generated_at: datetime, captures: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The JSON contract: `generated_at`, a `summary` of counts per status, then `citations` in
    footnote order. A citation never checked is `unchecked` with empty details."""
    rows = []
    for c in citations:
        entry = dict(health.get(c["id"]) or _unchecked(c["id"], c["url"]))
        entry["url"] = c["url"]
        entry["claim_text"] = c.get("claim", "")
        best = (captures or {}).get(c["id"])
        entry["archive"] = {"url": best["url"], "timestamp": best["timestamp"], "archive": best["archive"],
                            "verified": True} if best else None
        rows.append(entry)
    summary = {status: 0 for status in STATUSES}
    for row in rows:
        summary[row["status"]] = summary.get(row["status"], 0) + 1
    return {"generated_at": generated_at.isoformat(), "summary": summary, "citations": rows}


def _unchecked(citation_id: str, url: str) -> dict[str, Any]:
    return {"id": citation_id, "url": url, "status": "unchecked", "since": None, "flags": [],
            "checked_at": None, "http_status": None, "final_url": None, "rot": None,
            "paywall": None, "drift": None, "claim": None}
