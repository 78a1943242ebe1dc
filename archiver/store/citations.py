"""The `citations` table: an article's citations as the list gives them (id, URL, claim, date,
phrases to keep, check interval, other columns), kept after the list drops them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime

from archiver.models import Citation
from archiver.models.rows import CitationRow
from archiver.store.db import Database, Row
from archiver.urls import canonical, is_http_url

_LEADING_NUMBER = re.compile(r"\d+")


def sync(db: Database, citations: Iterable[Citation], now: datetime) -> None:
    """Make the table match the list: new and changed citations written, dropped ones marked removed."""
    stamp = now.isoformat()
    ids = []
    with db.transaction():
        for c in citations:
            ids.append(c.id)
            db.execute(
                """INSERT INTO citations (id, url, claim, cited_at, expect, interval, extra, added_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(id) DO UPDATE SET url=excluded.url, claim=excluded.claim,
                     cited_at=excluded.cited_at, expect=excluded.expect,
                     interval=excluded.interval, extra=excluded.extra, removed_at=NULL""",
                [
                    c.id,
                    c.url,
                    c.claim,
                    c.cited_at,
                    json.dumps(list(c.expect)),
                    c.interval,
                    json.dumps(c.extra, ensure_ascii=False),
                    stamp,
                ],
            )
        listed = f" AND id NOT IN ({','.join('?' * len(ids))})" if ids else ""
        db.execute(f"UPDATE citations SET removed_at = ? WHERE removed_at IS NULL{listed}", [stamp, *ids])


def all_citations(db: Database, include_removed: bool = False) -> list[CitationRow]:
    where = "" if include_removed else " WHERE removed_at IS NULL"
    return sorted((_row(r) for r in db.query(f"SELECT * FROM citations{where}")), key=footnote_order)


def footnote_order(citation: Citation) -> tuple[int, str]:
    """Citations in footnote order: by the number an id begins with (2 before 10; none counts as 0),
    then by the id."""
    number = _LEADING_NUMBER.match(citation.id)
    return (int(number.group()) if number else 0, citation.id)


def find(db: Database, key: str) -> CitationRow | None:
    """A citation by its id, or by its URL as cited or in canonical form (tracking parameters, case
    of the host, a default port and a fragment make no difference); removed ones included."""
    row = db.one("SELECT * FROM citations WHERE id = ?", [key])
    if row is not None:
        return _row(row)
    if not is_http_url(key):
        return None
    rows = all_citations(db, include_removed=True)
    wanted = canonical(key)
    return next((r for r in rows if r.url == key), None) or next((r for r in rows if canonical(r.url) == wanted), None)


def _row(r: Row) -> CitationRow:
    return CitationRow(
        id=r["id"],
        url=r["url"],
        claim=r["claim"],
        cited_at=r["cited_at"],
        expect=tuple(json.loads(r["expect"])),
        interval=r["interval"],
        extra=json.loads(r["extra"]),
        added_at=r["added_at"],
        removed_at=r["removed_at"],
    )
