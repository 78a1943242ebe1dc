"""Archiving citations: look up existing captures (the Wayback Machine, every Memento archive), queue
submissions, drain the queue, and verify a capture before it is offered.

The queue lives in the store (the `outbox` table): queued, submitted (with its job id), done or
failed. Every state change is committed before the next request, so a crash, a restart or an
archive outage loses nothing: the next run picks up each row where it stood.

The step is bounded: every request has a deadline and a body cap, the whole step a time budget
(`ARCHIVER_ARCHIVE_BUDGET`), and an archive found down is said once and left for the next run.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from archiver.analysis import analyse
from archiver.archives import ArchiveSession, BudgetSpent, origin_of
from archiver.config import Settings
from archiver.detect.rot import Severity
from archiver.detect.text import resemblance
from archiver.errors import ArchiveUnreachable
from archiver.fetch import Fetcher, Resolver
from archiver.lookup import version_in_force
from archiver.memento import look_up
from archiver.models import ArchiveSummary, Citation, FetchResult, Hop, Outcome, VersionRecord
from archiver.store import Store
from archiver.wayback import (
    Capture,
    Result,
    Submission,
    WaybackClient,
    backoff,
    capture_from_row,
    capture_url,
    closest,
    parse_replay_url,
    wayback_timestamp,
)

Clock = Callable[[], datetime]
log = logging.getLogger("archiver.outbox")

LOOKUP_EVERY = timedelta(days=7)  # how long a CDX or TimeMap answer is trusted
MAX_ATTEMPTS = 12  # retryable refusals before a submission is given up
UNKNOWN_ATTEMPTS = 3  # ... when the refusal's code is one the SPN2 documentation does not list
VERIFY_PER_CITATION = 3  # archived pages fetched at most, per citation and run
MIN_WORDS = 50  # an archived page with less text is not the article
MEMENTOS_KEPT = 50  # of one endpoint's answer, the closest to the citation date
LOOKUP_SHARE = 0.5  # of the budget, what look-ups leave to submissions and verification
HOLD_FOR = timedelta(hours=1)  # a queued capture of a page that reads as dead waits this long
# An archived text shares at least this much (Jaccard similarity of word 3-shingles, the measure the
# drift detector uses) with our version of the same moment, or it is some other page. The same
# article with a paragraph added scores about 0.8; another article of the same site under 0.1.
MATCH_AT = 0.5


def run_archive(
    settings: Settings,
    citations: Sequence[Citation],
    store: Store,
    *,
    clock: Clock | None = None,
    resolver: Resolver | None = None,
) -> ArchiveSummary:
    return asyncio.run(archive_citations(citations, settings, store, clock=clock, resolver=resolver))


async def archive_citations(
    citations: Sequence[Citation],
    settings: Settings,
    store: Store,
    *,
    clock: Clock | None = None,
    resolver: Resolver | None = None,
) -> ArchiveSummary:
    """Look up, queue, submit and verify captures of the given citations, within the budget."""
    now = clock or (lambda: datetime.now(UTC))
    summary = ArchiveSummary()
    async with (
        ArchiveSession(settings, budget=settings.archive_budget) as session,
        Fetcher(settings, resolver=resolver, clock=now) as fetcher,
    ):
        step = _Step(settings, store, session, WaybackClient(settings, session), fetcher, now, summary)
        try:
            await step.run(citations)
        except BudgetSpent:
            summary.budget_spent = True
            log.warning(
                "the archiving step used its %g s budget (ARCHIVER_ARCHIVE_BUDGET); what is left waits for the next run",
                settings.archive_budget,
            )
        step.say_what_waits()
    summary.pending = sum(1 for r in store.outbox() if r["state"] in ("queued", "submitted"))
    return summary


@dataclass
class _Step:
    settings: Settings
    store: Store
    session: ArchiveSession
    wb: WaybackClient
    fetcher: Fetcher
    now: Clock
    summary: ArchiveSummary

    async def run(self, citations: Sequence[Citation]) -> None:
        # look-ups stop at half the budget, so submissions and verification get their turn in every
        # run of a long list; the look-ups not made are made first in the next run
        stop_at = self.session.left() * LOOKUP_SHARE
        try:
            try:
                for citation in citations:
                    if self.session.left() < stop_at:
                        break
                    await self.look_up(citation)
            except ArchiveUnreachable as exc:
                self.down(exc)
            for endpoint in self.settings.memento_endpoints:
                try:
                    for citation in citations:
                        if self.session.left() < stop_at:
                            break
                        await self.look_up_mementos(endpoint, citation)
                except ArchiveUnreachable as exc:
                    self.down(exc)
        finally:  # local work: the outbox says what is owed even when the budget ran out in the look-ups
            for citation in citations:
                self.queue_if_needed(citation)
        try:
            self.summary.quota = await self.wb.user_status()
            await drain(self.wb, self.store, self.settings, self.now, self.summary)
        except ArchiveUnreachable as exc:
            self.down(exc)
        for citation in citations:
            await self.verify(citation)

    def down(self, exc: ArchiveUnreachable) -> None:
        """Note an archive found down (said once, at the end of the step)."""
        if not any(said.startswith(exc.origin + " ") for said in self.summary.unreachable):
            self.summary.unreachable.append(f"{exc.origin} ({exc.reason})")

    def say_what_waits(self) -> None:
        waiting = sum(1 for r in self.store.outbox() if r["state"] in ("queued", "submitted"))
        for said in self.summary.unreachable:
            origin, reason = said.split(" ", 1)
            left = f"; {waiting} submission(s) left for the next run" if origin == origin_of(self.wb.base) else ""
            # said once: on stderr for `check` and cron, in the daemon's log
            log.warning("%s is unreachable %s: not asked again in this run%s", origin, reason, left)

    async def look_up(self, citation: Citation) -> None:
        """The Wayback Machine's captures of a citation (CDX, else the availability API's hint)."""
        if _fresh(self.store.looked_up_at(citation.id, "cdx"), self.now()):
            return
        found = await self.wb.captures(citation.url)
        if found is None:  # the CDX API could not be asked: the availability API is a hint at least
            hint = await self.wb.available(citation.url, _cited(citation))
            if hint is None:
                return
            found = [hint]
        self.summary.found += self.store.add_captures(citation.id, found, "cdx", self.now())
        self.store.mark_looked_up(citation.id, "cdx", self.now())

    async def look_up_mementos(self, endpoint: str, citation: Citation) -> None:
        """Captures in every archive a Memento endpoint (an aggregator, a TimeMap, a TimeGate) knows."""
        source = f"memento {endpoint}"
        if _fresh(self.store.looked_up_at(citation.id, source), self.now()):
            return
        mementos = await look_up(self.session, endpoint, citation.url, _cited(citation))
        if mementos is None:
            return
        captures = []
        for m in mementos:
            wayback = parse_replay_url(m.url) if m.archive == "wayback" else None
            if wayback:  # the same capture the CDX API lists: replayed on the configured base
                captures.append(Capture(wayback[0], wayback[1], None))
            else:
                captures.append(Capture(m.timestamp, citation.url, None, archive=m.archive, replay=m.url))
        kept = closest(captures, _cited(citation) or self.now())[:MEMENTOS_KEPT]
        self.summary.found += self.store.add_captures(citation.id, kept, "memento", self.now())
        self.store.mark_looked_up(citation.id, source, self.now())

    def queue_if_needed(self, citation: Citation) -> None:
        """Queue the current version unless a capture of that content is recent or already queued,
        or the page now reads as dead or refused (a soft 404, a redirect home, a parked domain, a
        bot wall): a capture of that would waste quota and make a useless copy."""
        current = self.store.current_version(citation.id)
        if current is None:
            return  # never seen live: nothing of ours worth a capture yet
        fresh_after = max(
            datetime.fromisoformat(current.first_seen), self.now() - timedelta(days=self.settings.capture_fresh_days)
        )
        stamp = wayback_timestamp(fresh_after)
        rows = self.store.captures(citation.id)
        if any(c["timestamp"] >= stamp and c["archive"] == "wayback" and c["verified"] != 0 for c in rows):
            return
        held = _held(self.store, citation.id)
        if held:
            return
        if self.store.enqueue_capture(citation.id, citation.url, current.hash, self.now()):
            self.summary.queued += 1
            self.summary.events.append(f"[{citation.id}] queued for capture")

    async def verify(self, citation: Citation) -> None:
        """Fetch the preferred captures until one holds our text; mark what was learned."""
        rows = {(r["archive"], r["timestamp"]): r for r in self.store.captures(citation.id)}
        ordered = closest([capture_from_row(r) for r in rows.values()], _cited(citation))
        tries = 0
        for capture in ordered:
            state = rows[(capture.archive, capture.timestamp)]["verified"]
            if state == 1:
                return
            if state == 0:
                continue
            if tries >= VERIFY_PER_CITATION:
                return
            if capture.archive == "wayback" and origin_of(self.wb.base) in self.session.down:
                continue
            tries += 1
            try:
                got = await self.replay(capture)
            except ArchiveUnreachable as exc:
                self.down(exc)
                continue
            if got is None:
                continue  # could not fetch it now: judge it another time
            fetched, offered = got
            problem, note = judge(self.store, citation, capture, fetched)
            self.store.mark_capture(
                citation.id, capture.archive, capture.timestamp, not problem, problem or note, offered
            )
            if problem:
                self.summary.rejected += 1
                self.summary.events.append(
                    f"[{citation.id}] {capture.archive} capture {capture.timestamp} not offered: {problem}"
                )
            else:
                self.summary.verified += 1
                return

    async def replay(self, capture: Capture) -> tuple[FetchResult, str] | None:
        """The capture as its archive replays it, as a fetch the detectors can judge, and the address
        to offer; None when it could not be had now."""
        if capture.archive == "wayback":
            replay = await self.wb.replay(capture, self.settings.max_body_bytes)
            if replay.problem and not replay.status:
                return None
            outcome = Outcome.OK if 200 <= replay.status < 300 and not replay.problem else Outcome.HTTP_ERROR
            fetched = FetchResult(
                capture.original,
                outcome,
                self.now(),
                replay.original,
                replay.status,
                (("content-type", replay.content_type),),
                replay.body,
                tuple(Hop(u, s, to) for u, s, to in replay.hops),
                replay.problem,
            )
            return fetched, capture_url(replay.timestamp, replay.original)
        left = self.session.left()
        if left <= 0:
            raise BudgetSpent
        try:
            async with asyncio.timeout(left):
                fetched = await self.fetcher.fetch(capture.url)
        except TimeoutError:
            raise BudgetSpent from None
        if fetched.outcome not in (Outcome.OK, Outcome.HTTP_ERROR):
            return None
        return fetched, capture.url


def judge(store: Store, citation: Citation, capture: Capture, fetched: FetchResult) -> tuple[str, str]:
    """(why the capture is not offered, "" when it is; what it was found to be)."""
    analysis = analyse(fetched, [])
    words = analysis.extraction.words if analysis.extraction else 0
    if fetched.outcome != Outcome.OK:
        return fetched.error or f"the archive answered HTTP {fetched.status}", ""
    if analysis.signal.severity != Severity.HEALTHY:
        return analysis.signal.evidence, ""
    if analysis.paywall and analysis.paywall.paywalled and analysis.paywall.truncated:
        return "archived behind a paywall: " + "; ".join(analysis.paywall.evidence), ""
    if words < MIN_WORDS:
        return f"only {words} words of text: not the article", ""
    text = analysis.extraction.text if analysis.extraction else ""
    if not store.versions(citation.id):
        return "cannot be compared: we never stored a version of this page to compare it with", ""
    score, against = compare_with_ours(store, citation, capture.when, text, fetched.body)
    if score < MATCH_AT:
        return f"the archived text is not our {against} (resemblance {score:.0%})", ""
    return "", f"the article ({words} words; matches our {against}, {score:.0%})"


def compare_with_ours(store: Store, citation: Citation, when: datetime, text: str, body: bytes) -> tuple[float, str]:
    """The best resemblance between an archived text and the versions of ours it should hold: the one
    in force at the capture's date, the next one, and the cited one (at least one version is stored)."""
    versions = store.versions(citation.id)
    raw = hashlib.sha256(body).hexdigest()
    for v in versions:
        if v.raw_hash == raw:
            return 1.0, f"version of {v.first_seen[:10]} byte for byte"
    candidates: list[VersionRecord] = []
    in_force = version_in_force(store, citation.id, when)
    after = next((v for v in versions if datetime.fromisoformat(v.first_seen) > when), None)
    cited = _cited(citation)
    cited_version = version_in_force(store, citation.id, cited) if cited else None
    for candidate in (in_force, after, cited_version or versions[0]):
        if candidate is not None and candidate not in candidates:
            candidates.append(candidate)
    scored = [(resemblance(text, store.read_text(v)) if v.text_path else 0.0, v) for v in candidates]
    score, best = max(scored, key=lambda pair: pair[0])
    return score, f"version of {best.first_seen[:10]}"


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
                submitted = datetime.fromisoformat(row["submitted_at"] or row["created_at"])
                answer = await wb.status(row["job_id"], submitted)
            else:
                held = _held(store, row["citation_id"])
                if held:
                    t = now()
                    store.update_submission(row["id"], t, reason=held, next_try=(t + HOLD_FOR).isoformat())
                    continue
                answer = await wb.submit(row["url"], now())
            _record(store, settings, row, answer, now, summary)
        if any(
            r["state"] == "submitted"
            for r in store.due_submissions(now() + timedelta(seconds=settings.wayback_poll_seconds))
        ):
            await wb.session.sleep(settings.wayback_poll_seconds)


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
        capture = Capture(answer.timestamp, answer.original or row["url"])
        store.update_submission(
            row["id"], t, state="done", capture_timestamp=answer.timestamp, capture_url=capture.url, reason=""
        )
        store.add_captures(cid, [capture], "spn", t)
        summary.done += 1
        summary.events.append(f"[{cid}] captured: {capture.url}")
    elif answer.result == Result.RETRY:
        if answer.timestamp:  # an earlier capture than ours: a capture all the same, verified like any
            store.add_captures(cid, [Capture(answer.timestamp, answer.original or row["url"])], "spn", t)
        attempts = row["attempts"] + 1
        limit = UNKNOWN_ATTEMPTS if answer.unknown else MAX_ATTEMPTS
        if attempts >= limit:
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


def _held(store: Store, citation_id: str) -> str:
    """Why a capture of the page must not be requested now ("" when it may): its latest check reads
    as rot, a refusal or a failure, and a capture would keep that instead of the article."""
    verdict = store.latest_verdict(citation_id)
    if verdict is None or verdict[1] == Severity.HEALTHY:
        return ""
    signal, severity = verdict
    return f"not submitted: the page now reads as {signal or severity} ({severity})"


def _fresh(looked: str, now: datetime) -> bool:
    return bool(looked) and datetime.fromisoformat(looked) > now - LOOKUP_EVERY


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
    best = closest([capture_from_row(r) for r in rows], _cited(citation))[0]
    return next(r for r in rows if r["timestamp"] == best.timestamp and r["archive"] == best.archive)


def best_captures(store: Store) -> dict[str, dict[str, Any]]:
    """The capture to offer for every citation that has a verified one."""
    out = {}
    for row in store.citations(include_removed=True):
        best = best_capture(store, Citation(row["id"], row["url"], cited_at=row["cited_at"]))
        if best is not None:
            out[row["id"]] = best
    return out
