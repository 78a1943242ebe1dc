"""The archiving step, in order, within its time budget (`ARCHIVER_ARCHIVE_BUDGET`):

1. look up the captures the Wayback Machine (CDX) and every Memento endpoint know of each citation,
   each answer trusted for a week; look-ups stop at half the budget so the rest gets its turn;
2. queue a capture of each current version that has none since it appeared (never of a page that now
   reads as dead or refused);
3. work through the outbox (`outbox.drain`): submit, poll, record;
4. verify the preferred captures of each citation (`verify.judge`) until one holds our text.

Every request has a deadline and a body cap; an archive found down is said once and left for the
next run, its work waiting in the outbox.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from archiver import aio
from archiver.archive.aggregator import look_up
from archiver.archive.outbox import drain, held
from archiver.archive.selection import closest
from archiver.archive.session import ArchiveSession, BudgetSpent, origin_of
from archiver.archive.spn import parse_replay_url
from archiver.archive.verify import judge
from archiver.archive.wayback import WaybackClient
from archiver.config import ArchiveSettings, Settings
from archiver.errors import ArchiveUnreachable
from archiver.fetch import Fetcher, Resolver
from archiver.models import ArchiveSummary, Citation, Clock, FetchResult, Hop, Outcome, utcnow
from archiver.models.rows import Capture, capture_url
from archiver.models.time import parse_stamp, timestamp
from archiver.store import Store
from archiver.workers import ExtractionAborted, WorkerPool

log = logging.getLogger("archiver.outbox")

LOOKUP_EVERY = timedelta(days=7)  # how long a CDX or TimeMap answer is trusted
VERIFY_PER_CITATION = 3  # archived pages fetched at most, per citation and run
MEMENTOS_KEPT = 50  # of one endpoint's answer, the closest to the citation date
LOOKUP_SHARE = 0.5  # of the budget, what look-ups leave to submissions and verification


def run_archive(
    settings: Settings,
    citations: Sequence[Citation],
    store: Store,
    *,
    clock: Clock = utcnow,
    resolver: Resolver | None = None,
    workers: WorkerPool | None = None,
) -> ArchiveSummary:
    """The archiving step for these citations (`archiver archive`, and the end of `check`)."""
    if workers is not None:
        return aio.run(archive_citations(citations, settings, store, workers, clock=clock, resolver=resolver))
    with WorkerPool(settings.extract_settings) as own:
        return aio.run(archive_citations(citations, settings, store, own, clock=clock, resolver=resolver))


async def archive_citations(
    citations: Sequence[Citation],
    settings: Settings,
    store: Store,
    workers: WorkerPool,
    *,
    clock: Clock = utcnow,
    resolver: Resolver | None = None,
) -> ArchiveSummary:
    """Look up, queue, submit and verify captures of the given citations, within the budget."""
    archive = settings.archive_settings
    summary = ArchiveSummary()
    async with (
        ArchiveSession(archive, budget=archive.budget) as session,
        Fetcher(archive.fetch, resolver=resolver, clock=clock) as fetcher,
    ):
        step = _Step(
            archive, store, session, WaybackClient(archive, session, clock=clock), fetcher, workers, clock, summary
        )
        try:
            await step.run(citations)
        except BudgetSpent:
            summary.budget_spent = True
            log.warning(
                "the archiving step used its %g s budget (ARCHIVER_ARCHIVE_BUDGET); what is left waits for the next run",
                archive.budget,
            )
        step.say_what_waits()
    summary.pending = _waiting(store)
    return summary


@dataclass
class _Step:
    settings: ArchiveSettings
    store: Store
    session: ArchiveSession
    wb: WaybackClient
    fetcher: Fetcher
    workers: WorkerPool
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
        waiting = _waiting(self.store)
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
            hint = await self.wb.available(citation.url, citation.cited)
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
        mementos = await look_up(self.session, endpoint, citation.url, citation.cited)
        if mementos is None:
            return
        captures = []
        for m in mementos:
            wayback = parse_replay_url(m.url) if m.archive == "wayback" else None
            if wayback:  # the same capture the CDX API lists: replayed on the configured base
                captures.append(Capture(wayback[0], wayback[1], None))
            else:
                captures.append(Capture(m.timestamp, citation.url, None, archive=m.archive, replay=m.url))
        kept = closest(captures, citation.cited or self.now())[:MEMENTOS_KEPT]
        self.summary.found += self.store.add_captures(citation.id, kept, "memento", self.now())
        self.store.mark_looked_up(citation.id, source, self.now())

    def queue_if_needed(self, citation: Citation) -> None:
        """Queue the current version unless a capture of that content is recent or already queued,
        or the page now reads as dead or refused (a soft 404, a redirect home, a parked domain, a
        bot wall): a capture of that would waste quota and make a useless copy."""
        current = self.store.current_version(citation.id)
        if current is None:
            return  # never seen live: nothing of ours worth a capture yet
        fresh_after = max(current.seen, self.now() - timedelta(days=self.settings.capture_fresh_days))
        stamp = timestamp(fresh_after)
        rows = self.store.captures(citation.id)
        if any(c.timestamp >= stamp and c.archive == "wayback" and c.verified is not False for c in rows):
            return
        if held(self.store, citation.id):
            return
        if self.store.enqueue_capture(citation.id, citation.url, current.hash, self.now()):
            self.summary.queued += 1
            self.summary.events.append(f"[{citation.id}] queued for capture")

    async def verify(self, citation: Citation) -> None:
        """Fetch the preferred captures until one holds our text; mark what was learned."""
        tries = 0
        for capture in closest(self.store.captures(citation.id), citation.cited):
            if capture.verified is True:
                return
            if capture.verified is False:
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
            try:
                problem, note = await judge(self.store, self.workers, citation, capture, fetched)
            except ExtractionAborted:
                continue  # its text could not be read in time: judge it another time
            self.store.mark_capture(citation.id, capture, not problem, problem or note, offered)
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
            replay = await self.wb.replay(capture, self.settings.fetch.max_body_bytes)
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


def _waiting(store: Store) -> int:
    return sum(1 for r in store.outbox() if r.state.pending)


def _fresh(looked: str, now: datetime) -> bool:
    return bool(looked) and parse_stamp(looked) > now - LOOKUP_EVERY
