"""The `citation_health` and `status_changes` tables: each citation's latest health, one row a citation
of an article (so a report reads one row per citation, however long its history), and every change of
status. (The older `health` table, one row per watched URL, is kept as it was and no longer written.)

A health row keeps the typed `Health` as one JSON document of its own fields (the report's contract is
built by the report alone); `_encode` and `_decode` are the only code that reads or writes it."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

from archiver.models import (
    ClaimState,
    Decision,
    DriftClass,
    DriftState,
    Flag,
    Health,
    HealthStatus,
    PaywallKind,
    PaywallState,
    Review,
    RotVerdict,
)
from archiver.store.db import Database


def save(db: Database, article: str, health: Health, now: datetime, evidence: str) -> HealthStatus:
    """Keep a citation's health; when its status moved, record the change with `evidence` (the
    sentence that explains the new status). Returns the status it had before."""
    key = {"article_id": article, "citation_id": health.citation_id}
    with db.transaction():
        old = _held(db, article, health.citation_id, now)
        db.upsert(
            "citation_health",
            {
                **key,
                "status": str(health.status),
                "since": health.since,
                "updated_at": now.isoformat(),
                "report": _encode(health),
            },
            ("article_id", "citation_id"),
        )
        if old != health.status:
            db.insert(
                "status_changes",
                {
                    **key,
                    "at": now.isoformat(),
                    "old_status": str(old),
                    "new_status": str(health.status),
                    "evidence": evidence,
                },
            )
    return old


def _held(db: Database, article: str, citation_id: str, now: datetime) -> HealthStatus:
    """The status kept before this change, its row locked until the commit, so that two writers (two
    processes on one PostgreSQL store) never both record the same change. A citation's first row is
    made at once: a writer that raced for it waits for the other's commit and reads its status."""
    lock = f"SELECT status FROM citation_health WHERE article_id = ? AND citation_id = ?{db.for_update}"
    row = db.one(lock, [article, citation_id])
    if row is not None:
        return HealthStatus(row["status"])
    first = {
        "article_id": article,
        "citation_id": citation_id,
        "status": str(HealthStatus.UNCHECKED),
        "updated_at": now.isoformat(),
    }
    if db.insert_key("citation_health", first, "citation_id", unique=("article_id", "citation_id")):
        return HealthStatus.UNCHECKED
    row = db.one(lock, [article, citation_id])
    assert row is not None
    return HealthStatus(row["status"])


def health(db: Database, article: str, citation_id: str) -> Health | None:
    row = db.one("SELECT report FROM citation_health WHERE article_id = ? AND citation_id = ?", [article, citation_id])
    return _decode(row["report"]) if row else None


def all_health(db: Database) -> dict[tuple[str, str], Health]:
    """Every citation's health, by (article, citation id)."""
    rows = db.query("SELECT article_id, citation_id, report FROM citation_health")
    return {(r["article_id"], r["citation_id"]): _decode(r["report"]) for r in rows}


def _encode(h: Health) -> str:
    return json.dumps(asdict(h), ensure_ascii=False)


def _decode(text: str) -> Health:
    d = json.loads(text)
    rot, paywall, drift, claim = d["rot"], d["paywall"], d["drift"], d["claim"]
    return Health(
        citation_id=d["citation_id"],
        url=d["url"],
        status=HealthStatus(d["status"]),
        flags=tuple(Flag(f) for f in d["flags"]),
        since=d["since"],
        checked_at=d["checked_at"],
        http_status=d["http_status"],
        final_url=d["final_url"],
        rot=RotVerdict(**{**rot, "status": HealthStatus(rot["status"])}),
        paywall=PaywallState(
            **{**paywall, "kind": PaywallKind(paywall["kind"]), "evidence": tuple(paywall["evidence"])}
        )
        if paywall
        else None,
        drift=DriftState(
            **{**drift, "drift_class": DriftClass(drift["drift_class"]), "changes": tuple(drift["changes"])}
        )
        if drift
        else None,
        claim=ClaimState(
            claim["claim"],
            tuple(claim["facts"]),
            tuple(claim["found"]),
            tuple(claim["missing"]),
            tuple(claim["lost"]),
            claim["since"],
        )
        if claim
        else None,
        reviews=tuple(Review(**{**r, "decision": Decision(r["decision"])}) for r in d.get("reviews", ())),
        title=d["title"],
        versions=d["versions"],
        snapshot=d["snapshot"],
    )
