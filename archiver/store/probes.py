"""The `probes` table: what a site served for a URL that cannot exist, per site level (see the
soft-404 probe of `detect.rot`), kept for `probe_days`."""

from __future__ import annotations

from archiver.models.rows import ProbeRow
from archiver.store.db import Database

MAX_TEXT = 100_000  # characters of the answer's text kept: enough to compare, bounded


def probe(db: Database, site: str) -> ProbeRow | None:
    r = db.one("SELECT * FROM probes WHERE site = ?", [site])
    return ProbeRow(r["site"], r["url"], r["status"], r["text"], r["probed_at"]) if r else None


def save(db: Database, answer: ProbeRow) -> None:
    with db.transaction():
        db.upsert(
            "probes",
            {
                "site": answer.site,
                "url": answer.url,
                "status": answer.status,
                "text": answer.text[:MAX_TEXT],
                "probed_at": answer.probed_at,
            },
            ("site",),
        )
