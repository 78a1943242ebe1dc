"""Working through the capture outbox: submit what is queued, poll what is submitted, record each
answer before the next request. A queued row is queued, submitted (with its job id), done or failed;
a crash, a restart or an archive outage loses nothing, and a job is polled by its id, never
submitted twice. Processes sharing one outbox (workers on a PostgreSQL store) each claim the rows
they work on, so no row is submitted or polled by two at once."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import replace
from datetime import datetime, timedelta

from archiver.archive.spn import Result, Submission, backoff
from archiver.archive.wayback import WaybackClient
from archiver.config import ArchiveSettings
from archiver.models import ArchiveSummary, Clock, OutboxState, Severity
from archiver.models.rows import Capture, OutboxRow
from archiver.models.time import parse_stamp
from archiver.store import Store

MAX_ATTEMPTS = 12  # retryable refusals before a submission is given up
UNKNOWN_ATTEMPTS = 3  # ... when the refusal's code is one the SPN2 documentation does not list
HOLD_FOR = timedelta(hours=1)  # a queued capture of a page that reads as dead waits this long
CLAIM_ROWS = 500  # rows claimed at once by one run
CLAIM_AT_MOST = 3600.0  # seconds a claim lasts when a run has no budget ...
CLAIM_MARGIN = 60.0  # ... and past the end of its budget, after which a dead claimer's rows are free


async def drain(
    wb: WaybackClient, store: Store, settings: ArchiveSettings, now: Clock, summary: ArchiveSummary, rounds: int = 0
) -> None:
    """Work through the due rows of the outbox; pending jobs are polled a few times, then left
    for a later run (never polled forever)."""
    poll = timedelta(seconds=settings.poll_seconds)
    claimer = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        for _ in range(rounds or settings.poll_rounds):
            # rows are claimed for this run alone until its budget ends (processes sharing the outbox
            # never submit one twice); each answer recorded lets go of its row
            until = now() + timedelta(seconds=min(wb.session.left(), CLAIM_AT_MOST) + CLAIM_MARGIN)
            due = store.claim_submissions(now(), claimer, until, CLAIM_ROWS)
            if not due:
                return
            for row in due:
                if row.state == OutboxState.SUBMITTED and row.job_id:
                    answer = await wb.status(row.job_id, _started(row))
                else:
                    reason = held(store, row.watched_id)
                    if reason:
                        t = now()
                        store.save_submission(replace(row, reason=reason, next_try=(t + HOLD_FOR).isoformat()), t)
                        continue
                    answer = await wb.submit(row.url, now())
                _record(store, settings, row, answer, now(), summary)
            if any(r.state == OutboxState.SUBMITTED for r in store.due_submissions(now() + poll)):
                await wb.session.sleep(settings.poll_seconds)
    finally:
        store.release_submissions(claimer)  # what the budget or an outage left unworked


def held(store: Store, watched_id: str) -> str:
    """Why a capture of the page must not be requested now ("" when it may): its latest check reads
    as rot, a refusal or a failure, and a capture would keep that instead of the article."""
    latest = store.latest_check(watched_id)
    if latest is None or latest.verdicts.signal.severity == Severity.HEALTHY:
        return ""
    signal = latest.verdicts.signal
    return f"not submitted: the page now reads as {signal.kind or signal.severity} ({signal.severity})"


def _record(
    store: Store, settings: ArchiveSettings, row: OutboxRow, answer: Submission, t: datetime, summary: ArchiveSummary
) -> None:
    """Keep what an answer says of a row, and count it."""
    wid = row.watched_id
    poll = t + timedelta(seconds=settings.poll_seconds)
    if answer.result == Result.JOB:
        new = replace(
            row,
            state=OutboxState.SUBMITTED,
            job_id=answer.job_id,
            submitted_at=t.isoformat(),
            next_try=poll.isoformat(),
        )
    elif answer.result == Result.PENDING:
        if t - _started(row) > timedelta(hours=settings.job_max_age_hours):
            reason = f"capture job {row.job_id} still pending after {settings.job_max_age_hours:g} h"
            new = replace(row, state=OutboxState.FAILED, reason=reason)
            summary.failed += 1
        else:
            new = replace(row, next_try=poll.isoformat())
    elif answer.result == Result.DONE:
        capture = Capture(answer.timestamp, answer.original or row.url)
        new = replace(
            row, state=OutboxState.DONE, capture_timestamp=answer.timestamp, capture_url=capture.url, reason=""
        )
        store.add_captures(wid, [capture], "spn", t)
        summary.done += 1
        summary.events.append(f"[{wid}] captured: {capture.url}")
    elif answer.result == Result.RETRY:
        if answer.timestamp:  # an earlier capture than ours: a capture all the same, verified like any
            store.add_captures(wid, [Capture(answer.timestamp, answer.original or row.url)], "spn", t)
        attempts = row.attempts + 1
        if attempts >= (UNKNOWN_ATTEMPTS if answer.unknown else MAX_ATTEMPTS):
            reason = f"gave up after {attempts} attempts: {answer.reason}"
            new = replace(row, state=OutboxState.FAILED, attempts=attempts, reason=reason)
            summary.failed += 1
        else:
            wait = max(answer.retry_after, backoff(attempts, settings.retry_seconds))
            new = replace(
                row, attempts=attempts, reason=answer.reason, next_try=(t + timedelta(seconds=wait)).isoformat()
            )
            summary.retried += 1
    else:
        new = replace(row, state=OutboxState.FAILED, attempts=row.attempts + 1, reason=answer.reason)
        summary.failed += 1
        summary.events.append(f"[{wid}] capture refused: {answer.reason}")
    store.save_submission(new, t)


def _started(row: OutboxRow) -> datetime:
    return parse_stamp(row.submitted_at or row.created_at)
