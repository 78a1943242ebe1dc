"""The `passes` and `checks` tables: every check of a watched URL, whatever happened, with the
verdicts the detectors drew from it, and the pass it belonged to (an offline pass says nothing of
any URL)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from archiver.cadence import Record
from archiver.models import (
    BrowserTrace,
    CheckVerdicts,
    Citation,
    FetchedBy,
    FetchResult,
    Outcome,
    PaywallKind,
    PaywallVerdict,
    Refusal,
    Severity,
    Signal,
    Validators,
)
from archiver.models.rows import CheckRow, TimelinePoint
from archiver.models.time import parse_stamp
from archiver.store.db import Database, Row

_SEVERITIES = {str(s): s for s in Severity}
MAX_REFUSALS = 100  # refused requests kept per check: a page of ads may make hundreds
_WITH_PASS = """SELECT c.*, coalesce(p.offline, 0) AS offline FROM checks c LEFT JOIN passes p ON p.id = c.pass_id"""


def begin_pass(db: Database, now: datetime, citations: int) -> int:
    with db.transaction():
        pass_id = db.insert("passes", {"started_at": now.isoformat(), "citations": citations})
    assert pass_id is not None
    return pass_id


def finish_pass(db: Database, pass_id: int, now: datetime, offline: bool) -> None:
    with db.transaction():
        db.update("passes", {"id": pass_id}, {"finished_at": now.isoformat(), "offline": int(offline)})


def unfinished_passes(db: Database) -> list[tuple[int, str]]:
    return [(r["id"], r["started_at"]) for r in db.query("SELECT id, started_at FROM passes WHERE finished_at IS NULL")]


def pass_outcomes(db: Database, pass_id: int) -> dict[str, Outcome]:
    """The outcome of each citation checked in a pass (its last check there)."""
    rows = db.query("SELECT citation_id, outcome FROM checks WHERE pass_id = ? ORDER BY id", [pass_id])
    return {r["citation_id"]: Outcome(r["outcome"]) for r in rows}


def by_worker(db: Database, since: datetime) -> dict[str, int]:
    """Checks recorded since `since`, per worker that recorded them ("" for a local pass)."""
    rows = db.query(
        "SELECT worker, count(*) AS n FROM checks WHERE checked_at >= ? GROUP BY worker", [since.isoformat()]
    )
    return {r["worker"] or "": int(r["n"]) for r in rows}


@dataclass(frozen=True)
class NewCheck:
    """A check about to be recorded: what was fetched, when, in which pass, and what it was judged."""

    citation: Citation
    fetched: FetchResult
    checked_at: datetime
    pass_id: int | None
    extract_ms: int
    verdicts: CheckVerdicts
    note: str
    browser: BrowserTrace | None = None  # what the browser did in the check, when it took part


def insert(
    db: Database, new: NewCheck, version_hash: str, new_version: bool, task_id: str | None = None, worker: str = ""
) -> CheckRow | None:
    """One check row (inside the caller's transaction). A worker's check names its task: None when
    that task's check is recorded already (a redelivered task)."""
    fetched, verdicts, checked_at, browser = new.fetched, new.verdicts, new.checked_at, new.browser
    validators = fetched.validators if fetched.outcome == Outcome.OK else Validators()
    paywall = verdicts.paywall
    refused = browser.refused[:MAX_REFUSALS] if browser else ()
    check_id = db.insert(
        "checks",
        {
            "citation_id": new.citation.id,
            "pass_id": new.pass_id,
            "checked_at": checked_at.isoformat(),
            "url": new.citation.url,
            "outcome": str(fetched.outcome),
            "http_status": fetched.status,
            "final_url": fetched.final_url,
            "redirects": json.dumps([[h.url, h.status, h.location] for h in fetched.redirects]),
            "error": fetched.error,
            "fetch_ms": fetched.elapsed_ms,
            "extract_ms": new.extract_ms,
            "bytes": len(fetched.body),
            "content_type": fetched.content_type,
            "etag": validators.etag,
            "last_modified": validators.last_modified,
            "version_hash": version_hash,
            "new_version": int(new_version),
            "note": new.note,
            "signal": verdicts.signal.kind,
            "severity": str(verdicts.signal.severity),
            "evidence": verdicts.signal.evidence,
            "moved_to": verdicts.signal.moved_to,
            "paywall": str(paywall.kind) if paywall else "",
            "paywall_evidence": json.dumps(list(paywall.evidence) if paywall else [], ensure_ascii=False),
            "paywall_truncated": int(bool(paywall and paywall.truncated)),
            "fetched_by": str(fetched.fetched_by),
            "browser_note": browser.note if browser else "",
            "refused": _refusals_json(refused),
            "task_id": task_id,
            "worker": worker,
        },
        unique=("task_id",) if task_id else (),
    )
    if check_id is None:
        return None
    return CheckRow(
        check_id,
        new.citation.id,
        checked_at.isoformat(),
        fetched.outcome,
        fetched.status,
        fetched.final_url,
        version_hash,
        new_version,
        fetched.error,
        new.pass_id,
        verdicts,
        fetched_by=fetched.fetched_by,
        browser_note=browser.note if browser else "",
        refused=refused,
    )


def of_task(db: Database, task_id: str) -> CheckRow | None:
    """The check a worker's task recorded, if it did."""
    row = db.one(f"{_WITH_PASS} WHERE c.task_id = ?", [task_id])
    return _row(row) if row else None


def checks(db: Database, watched_id: str) -> list[CheckRow]:
    """Every check of a watched URL, oldest first, with whether its pass was offline."""
    return [_row(r) for r in db.query(f"{_WITH_PASS} WHERE c.citation_id = ? ORDER BY c.id", [watched_id])]


def latest(db: Database, watched_id: str) -> CheckRow | None:
    row = db.one(f"{_WITH_PASS} WHERE c.citation_id = ? ORDER BY c.id DESC LIMIT 1", [watched_id])
    return _row(row) if row else None


def validators(db: Database, watched_id: str) -> Validators:
    """ETag and Last-Modified of the newest successful response, for a conditional request."""
    row = db.one(
        """SELECT etag, last_modified FROM checks WHERE citation_id = ? AND outcome = 'ok' AND version_hash != ''
           ORDER BY id DESC LIMIT 1""",
        [watched_id],
    )
    return Validators(row["etag"], row["last_modified"]) if row else Validators()


def timeline(db: Database, watched_id: str, limit: int) -> list[TimelinePoint]:
    """The newest `limit` checks, oldest first (an indexed read, however long the history)."""
    rows = db.execute(  # plain tuples: the report's hot path
        """SELECT c.checked_at, c.severity, coalesce(p.offline, 0)
           FROM checks c LEFT JOIN passes p ON p.id = c.pass_id
           WHERE c.citation_id = ? ORDER BY c.checked_at DESC LIMIT ?""",
        [watched_id, limit],
    ).fetchall()
    return [TimelinePoint(at, _SEVERITIES[severity], bool(offline)) for at, severity, offline in reversed(rows)]


def schedule_records(db: Database) -> dict[str, Record]:
    """For every watched URL checked: its last check time and its failures since the last healthy
    or blocked check (checks in offline passes are not failures)."""
    failed = ", ".join(f"'{s}'" for s in Severity if s.failed)
    rows = db.query(
        f"""SELECT c.citation_id, max(c.checked_at) AS last_at,
                   sum(CASE WHEN c.severity IN ({failed}) AND c.id > coalesce(h.ok_id, 0)
                            AND coalesce(p.offline, 0) = 0 THEN 1 ELSE 0 END) AS failures
            FROM checks c
            LEFT JOIN (SELECT citation_id, max(id) AS ok_id FROM checks
                       WHERE severity NOT IN ({failed}) GROUP BY citation_id) h ON h.citation_id = c.citation_id
            LEFT JOIN passes p ON p.id = c.pass_id
            GROUP BY c.citation_id"""
    )
    return {r["citation_id"]: Record(parse_stamp(r["last_at"]), int(r["failures"] or 0)) for r in rows}


def dangling(db: Database) -> list[tuple[int, str]]:
    """Checks that name a version that is not stored: (check id, watched id)."""
    return [
        (r["id"], r["citation_id"])
        for r in db.query(
            """SELECT c.id, c.citation_id FROM checks c WHERE c.version_hash != '' AND NOT EXISTS
               (SELECT 1 FROM versions v WHERE v.citation_id = c.citation_id AND v.hash = c.version_hash)"""
        )
    ]


def _row(r: Row) -> CheckRow:
    paywall = (
        PaywallVerdict(
            PaywallKind(r["paywall"]), tuple(json.loads(r["paywall_evidence"])), bool(r["paywall_truncated"])
        )
        if r["paywall"]
        else None
    )
    return CheckRow(
        r["id"],
        r["citation_id"],
        r["checked_at"],
        Outcome(r["outcome"]),
        r["http_status"],
        r["final_url"],
        r["version_hash"],
        bool(r["new_version"]),
        r["error"],
        r["pass_id"],
        CheckVerdicts(Signal(r["signal"], Severity(r["severity"]), r["evidence"], r["moved_to"]), paywall),
        bool(r["offline"]),
        FetchedBy(r["fetched_by"]),
        r["browser_note"],
        tuple(Refusal(*item) for item in json.loads(r["refused"])),
    )


def _refusals_json(refused: tuple[Refusal, ...]) -> str:
    return json.dumps([[r.url[:2000], r.resource_type, r.reason[:500]] for r in refused], ensure_ascii=False)
