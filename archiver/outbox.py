"""Archiving citations: look up existing captures, queue submissions, drain the queue, verify.

The queue lives in the store (the `outbox` table): queued, submitted (with its job id), done or
failed. Every state change is committed before the next request, so a crash, a restart or an
archive outage loses nothing: the next run picks up each row where it stood.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from archiver.analysis import analyse
from archiver.config import Settings
from archiver.detect.rot import Severity
from archiver.models import ArchiveSummary, Citation, FetchResult, Outcome
from archiver.store import Store
from archiver.wayback import Capture, Result, Submission, WaybackClient, backoff, closest

Clock = Callable[[], datetime]

LOOKUP_EVERY = timedelta(days=7)  # how long a CDX answer is trusted
MAX_ATTEMPTS = 12  # retryable refusals before a submission is given up
VERIFY_PER_CITATION = 3  # archived pages fetched at most, per citation and run
MIN_WORDS = 50  # an archived page with less text is not the article


def run_archive(
    settings: Settings, citations: Sequence[Citation], store: Store, *, clock: Clock | None = None
) -> ArchiveSummary:
    return asyncio.run(archive_citations(citations, settings, store, clock=clock))


async def archive_citations(
    citations: Sequence[Citation], settings: Settings, store: Store, *, clock: Clock | None = None
) -> ArchiveSummary:
    """Look up, queue, submit and verify captures of the given citations."""
    now = clock or (lambda: datetime.now(UTC))
    summary = ArchiveSummary()
    async with WaybackClient(settings) as wb:
        for citation in citations:
            await _look_up(wb, store, citation, now, summary)
            _queue_if_needed(settings, store, citation, now, summary)
        summary.quota = await wb.user_status()
        await drain(wb, store, settings, now, summary)
        for citation in citations:
            await _verify(wb, store, settings, citation, now, summary)
    return summary


async def _look_up(wb: WaybackClient, store: Store, citation: Citation, now: Clock, summary: ArchiveSummary) -> None:
    looked = store.looked_up_at(citation.id)
    if looked and datetime.fromisoformat(looked) > now() - LOOKUP_EVERY:
        return
    found = await wb.captures(citation.url)
    if found is None:  # the CDX API could not be asked: the availability API is a hint at least
        hint = await wb.available(citation.url, _cited(citation))
        found = [hint] if hint else []
        if not found:
            return
    summary.found += store.add_captures(citation.id, found, "cdx", now())


def _queue_if_needed(settings: Settings, store: Store, citation: Citation, now: Clock, summary: ArchiveSummary) -> None:
    """Queue the current version unless a capture of that content is recent or already queued."""
    current = store.current_version(citation.id)
    if current is None:
        return  # never seen live: nothing of ours worth a capture yet
    fresh_after = max(datetime.fromisoformat(current.first_seen), now() - timedelta(days=settings.capture_fresh_days))
    stamp = fresh_after.astimezone(UTC).strftime("%Y%m%d%H%M%S")
    if any(c["timestamp"] >= stamp and c["status"] in (200, None) for c in store.captures(citation.id)):
        return
    if store.enqueue_capture(citation.id, citation.url, current.hash, now()):
        summary.queued += 1
        summary.events.append(f"[{citation.id}] queued for capture")


async def drain(
    wb: WaybackClient, store: Store, settings: Settings, now: Clock, summary: ArchiveSummary, rounds: int = 0
) -> None:
    """Work through the due rows of the outbox; pending jobs are polled a few times, then left
    for a later run (never polled forever)."""
    for _ in range(rounds or settings.wayback_poll_rounds):
        due = store.due_submissions(now())
        if not due:
            return
        for row in due:
            if row["state"] == "submitted" and row["job_id"]:
                answer = await wb.status(row["job_id"])
            else:
                answer = await wb.submit(row["url"])
            _record(store, settings, row, answer, now, summary)
        if any(
            r["state"] == "submitted"
            for r in store.due_submissions(now() + timedelta(seconds=settings.wayback_poll_seconds))
        ):
            await asyncio.sleep(settings.wayback_poll_seconds)
    summary.pending = sum(1 for r in store.outbox() if r["state"] in ("queued", "submitted"))


def _record(
    store: Store, settings: Settings, row: dict[str, Any], answer: Submission, now: Clock, summary: ArchiveSummary
) -> None:
    t = now()
    cid = row["citation_id"]
    if answer.result == Result.JOB:
        store.update_submission(
            row["id"],
            t,
            state="submitted",
            job_id=answer.job_id,
            submitted_at=t.isoformat(),
            next_try=(t + timedelta(seconds=settings.wayback_poll_seconds)).isoformat(),
        )
    elif answer.result == Result.PENDING:
        started = datetime.fromisoformat(row["submitted_at"] or row["created_at"])
        if t - started > timedelta(hours=settings.job_max_age_hours):
            store.update_submission(
                row["id"],
                t,
                state="failed",
                reason=f"capture job {row['job_id']} still pending after {settings.job_max_age_hours:g} h",
            )
            summary.failed += 1
        else:
            store.update_submission(
                row["id"], t, next_try=(t + timedelta(seconds=settings.wayback_poll_seconds)).isoformat()
            )
    elif answer.result == Result.DONE:
        capture = Capture(answer.timestamp, row["url"])
        store.update_submission(
            row["id"], t, state="done", capture_timestamp=answer.timestamp, capture_url=capture.url, reason=""
        )
        store.add_captures(cid, [capture], "spn", t)
        summary.done += 1
        summary.events.append(f"[{cid}] captured: {capture.url}")
    elif answer.result == Result.RETRY:
        attempts = row["attempts"] + 1
        if attempts >= MAX_ATTEMPTS:
            store.update_submission(
                row["id"],
                t,
                state="failed",
                attempts=attempts,
                reason=f"gave up after {attempts} attempts: {answer.reason}",
            )
            summary.failed += 1
            return
        wait = max(answer.retry_after, backoff(attempts, settings.wayback_retry_seconds))
        store.update_submission(
            row["id"], t, attempts=attempts, reason=answer.reason, next_try=(t + timedelta(seconds=wait)).isoformat()
        )
        summary.retried += 1
    else:
        store.update_submission(row["id"], t, state="failed", attempts=row["attempts"] + 1, reason=answer.reason)
        summary.failed += 1
        summary.events.append(f"[{cid}] capture refused: {answer.reason}")


async def _verify(
    wb: WaybackClient, store: Store, settings: Settings, citation: Citation, now: Clock, summary: ArchiveSummary
) -> None:
    """Fetch the preferred captures until one is the article itself; mark what was learned."""
    rows = store.captures(citation.id)
    known = {r["timestamp"]: r for r in rows}
    ordered = closest(
        [Capture(r["timestamp"], r["original"], r["status"], r["digest"], r["mimetype"], r["archive"]) for r in rows],
        _cited(citation),
    )
    tries = 0
    for capture in ordered:
        state = known[capture.timestamp]["verified"]
        if state == 1:
            return
        if state == 0:
            continue
        if tries >= VERIFY_PER_CITATION:
            return
        tries += 1
        got = await wb.original(capture, settings.max_body_bytes)
        if got is None:
            continue  # could not fetch it now: judge it another time
        status, body, content_type = got
        fetched = FetchResult(
            capture.original,
            Outcome.OK if 200 <= status < 300 else Outcome.HTTP_ERROR,
            now(),
            capture.original,
            status,
            (("content-type", content_type),),
            body,
        )
        analysis = analyse(fetched, [])
        words = analysis.extraction.words if analysis.extraction else 0
        problem = ""
        if fetched.outcome != Outcome.OK:
            problem = f"the archive answered HTTP {status}"
        elif analysis.signal.severity != Severity.HEALTHY:
            problem = analysis.signal.evidence
        elif analysis.paywall and analysis.paywall.paywalled and analysis.paywall.truncated:
            problem = "archived behind a paywall: " + "; ".join(analysis.paywall.evidence)
        elif words < MIN_WORDS:
            problem = f"only {words} words of text: not the article"
        store.mark_capture(
            citation.id, capture.archive, capture.timestamp, not problem, problem or f"the article ({words} words)"
        )
        if problem:
            summary.rejected += 1
            summary.events.append(f"[{citation.id}] capture {capture.timestamp} not offered: {problem}")
        else:
            summary.verified += 1
            return


def _cited(citation: Citation) -> datetime | None:
    if not citation.cited_at:
        return None
    try:
        when = datetime.fromisoformat(citation.cited_at)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def best_capture(store: Store, citation: Citation) -> dict[str, Any] | None:
    """The capture to offer for a citation: verified, closest before the citation date, then after."""
    rows = [r for r in store.captures(citation.id) if r["verified"] == 1]
    if not rows:
        return None
    ordered = closest(
        [Capture(r["timestamp"], r["original"], r["status"], archive=r["archive"]) for r in rows], _cited(citation)
    )
    best = ordered[0]
    return next(r for r in rows if r["timestamp"] == best.timestamp and r["archive"] == best.archive)


def best_captures(store: Store) -> dict[str, dict[str, Any]]:
    """The capture to offer for every citation that has a verified one."""
    out = {}
    for row in store.citations(include_removed=True):
        best = best_capture(store, Citation(row["id"], row["url"], cited_at=row["cited_at"]))
        if best is not None:
            out[row["id"]] = best
    return out
