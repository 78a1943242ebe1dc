"""The pass: the only module that knows the order of the stages. One pass, in order:

1. read the citation list (a bad list stops here, before the store is touched) and sync the store;
   the chosen citations become the watched URLs they cite (`watchlist`): one per page, whatever
   the number of citations and articles citing it;
2. check each watched URL once, concurrently (`check.Checker`: fetch, extract and judge in worker
   processes, render in Chromium the pages that need it, probe, compare, record), at most
   `concurrency + 4 × workers` between fetch and store; the browser, started by the first page that
   needs it, is closed when the checks end;
3. record the pass as finished, and as offline when every check failed before any HTTP exchange;
4. fold each citation of a checked URL, in every article, into its health (`detect.health.fold`), its
   claim checked against the versions for itself; noting the changes of status worth telling
   (`notify.worth_telling`: not a new citation's first check finding it healthy);
5. archive (`archive.step`): look up, queue, submit and verify captures, unless offline or stopped;
6. alert on the changes of status (`notify`).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from archiver import aio
from archiver.archive.step import run_archive
from archiver.browser.session import PassBrowser
from archiver.cadence import due_citations
from archiver.check import Checker
from archiver.config import Settings
from archiver.fetch import Fetcher, Resolver
from archiver.memory import give_bodies_back
from archiver.models import (
    ArchiveSummary,
    CheckSummary,
    Citation,
    Clock,
    PassSummary,
    StatusChange,
    utcnow,
)
from archiver.models.rows import CitationRow
from archiver.notify import send, worth_telling
from archiver.probe import Prober
from archiver.refold import update_health
from archiver.sources import articles_of, read_sources, select
from archiver.store import Store
from archiver.watchlist import watch_list
from archiver.workers import WorkerPool

OnCheck = Callable[[CheckSummary], None]


def run_check(
    settings: Settings,
    only: Sequence[str] | None = None,
    *,
    resolver: Resolver | None = None,
    clock: Clock = utcnow,
    on_check: OnCheck | None = None,
    stop: threading.Event | None = None,
    article: str | None = None,
) -> PassSummary:
    """Read the citation list, then check the URLs the chosen citations (`only`, of `article`; all by
    default) cite, each once, and record everything."""
    citations = read_sources(settings.sources)  # a bad list stops here, before the store is touched
    chosen = select(citations, only, article)
    with Store.open(settings.data_dir, database_url=settings.database_url) as store:
        sync(store, citations, clock())
        urls = watched(store, chosen)
        del citations, chosen  # the pass needs the watched URLs only (10,000 parsed rows: 4 MiB)
        return _pass(settings, store, urls, resolver=resolver, clock=clock, on_check=on_check, stop=stop)


def sync(store: Store, citations: Sequence[Citation], now: datetime) -> None:
    """The store's articles and citations made to match the list."""
    store.sync_citations(citations, now, articles_of(citations))


def watched(store: Store, chosen: Sequence[Citation]) -> list[Citation]:
    """The watched URLs the chosen citations cite, each once (see `watchlist`); a citation an editor
    ignored watches nothing (its URL is still checked for another citation of it)."""
    ignored = store.ignored()
    listed = [c for c in store.citations() if (c.article, c.id) not in ignored]
    urls = {w.id: w for wid in dict.fromkeys(c.watched_id for c in listed) if (w := store.watched(wid))}
    return watch_list(chosen, listed, urls)


def run_due(
    settings: Settings,
    interval: timedelta,
    *,
    retry_base: timedelta,
    jitter: timedelta = timedelta(0),
    resolver: Resolver | None = None,
    clock: Clock = utcnow,
    on_check: OnCheck | None = None,
    stop: threading.Event | None = None,
) -> PassSummary | None:
    """One pass over the citations that are due (see `cadence`); None when none is.
    The citation list is read afresh, so added citations are checked and removed ones dropped."""
    citations = read_sources(settings.sources)
    now = clock()
    with Store.open(settings.data_dir, database_url=settings.database_url) as store:
        sync(store, citations, now)
        every = watched(store, citations)
        chosen = due_citations(every, store.schedule_records(), now, interval, retry_base=retry_base, jitter=jitter)
        del citations, every  # the pass needs the due URLs only (see `run_check`)
        if not chosen:
            return None
        return _pass(settings, store, chosen, resolver=resolver, clock=clock, on_check=on_check, stop=stop)


def run_archiving(
    settings: Settings,
    only: Sequence[str] | None = None,
    *,
    resolver: Resolver | None = None,
    clock: Clock = utcnow,
    article: str | None = None,
) -> ArchiveSummary:
    """`archiver archive`: read the citation list, then run the archiving step alone for the URLs
    the chosen citations cite."""
    citations = read_sources(settings.sources)
    chosen = select(citations, only, article)
    with Store.open(settings.data_dir, database_url=settings.database_url) as store:
        sync(store, citations, clock())
        return run_archive(settings, watched(store, chosen), store, clock=clock, resolver=resolver)


def _pass(
    settings: Settings,
    store: Store,
    chosen: Sequence[Citation],
    *,
    resolver: Resolver | None,
    clock: Clock,
    on_check: OnCheck | None,
    stop: threading.Event | None,
) -> PassSummary:
    give_bodies_back()  # the bodies of a pass go back to the system when freed (see `memory`)
    with WorkerPool(settings.extract_settings) as workers:
        summary = aio.run(
            check_citations(
                chosen, settings, store, workers, resolver=resolver, clock=clock, on_check=on_check, stop=stop
            )
        )
        if settings.wayback and not summary.offline and not (stop and stop.is_set()):
            archived = run_archive(settings, chosen, store, clock=clock, resolver=resolver, workers=workers)
            summary = replace(summary, archive=archived)
    if settings.notify:
        send(settings.notify, summary.changes)
    return summary


async def check_citations(
    citations: Sequence[Citation],
    settings: Settings,
    store: Store,
    workers: WorkerPool,
    *,
    resolver: Resolver | None = None,
    clock: Clock = utcnow,
    on_check: OnCheck | None = None,
    stop: threading.Event | None = None,
) -> PassSummary:
    """Steps 2 to 4: check concurrently, record the pass, fold each citation's health. `citations`
    are watched URLs (see `watched`); a store whose citations were synced one by one, each the only
    citation of its URL, may be given its citations themselves."""
    browser = PassBrowser.of(settings.browser_settings, resolver, clock)  # Chromium starts when a page needs it
    started = clock()
    pass_id = store.begin_pass(started, len(citations))
    summaries: list[CheckSummary] = []
    async with browser, Fetcher(settings.fetch_settings, resolver=resolver, clock=clock) as fetcher:
        prober = Prober(store, fetcher, workers, clock, timedelta(days=settings.probe_days))
        checker = Checker(store, fetcher, workers, prober, pass_id, settings.user_agent, browser)
        # at most this many citations between fetch and store at once: fetching runs ahead of
        # extraction, and each one waiting holds its body in memory. As many runners take the next
        # citation each: a task per citation (10,000 waiting tasks, 14-24 MiB) would grow with the list.
        slots = settings.concurrency + 4 * settings.extraction_workers
        queue = iter(citations)

        async def runner() -> None:
            for citation in queue:
                summaries.append(await checker.check(citation))
                if on_check:
                    on_check(summaries[-1])

        tasks = [asyncio.ensure_future(runner()) for _ in range(min(slots, len(citations)))]
        watcher = asyncio.ensure_future(_cancel_on(stop, tasks)) if stop is not None else None
        await asyncio.gather(*tasks, return_exceptions=True)
        if watcher is not None:
            watcher.cancel()
        for task in tasks:  # a failure of our own (a full disk, say) surfaces; a cancellation does not
            if not task.cancelled() and (error := task.exception()) is not None:
                raise error
    offline = bool(summaries) and all(s.outcome.before_http for s in summaries)
    finished = clock()
    store.finish_pass(pass_id, finished, offline)
    changes = [
        change
        for w in citations
        for c in (store.watching(w.id) or _listed(store, w))
        if (change := update_health(store, c, settings.rot_policy, finished)) and worth_telling(change)
    ]
    order = {c.id: i for i, c in enumerate(citations)}
    summaries.sort(key=lambda s: order[s.citation.id])
    return PassSummary(
        pass_id,
        started.isoformat(),
        finished.isoformat(),
        tuple(summaries),
        offline,
        tuple(changes),
        interrupted=len(summaries) < len(citations),
    )


def run_task(
    settings: Settings,
    store: Store,
    workers: WorkerPool,
    citation: Citation,
    pass_id: int,
    *,
    resolver: Resolver | None = None,
    clock: Clock = utcnow,
) -> tuple[CheckSummary, StatusChange | None]:
    """A worker's task (distributed mode): one citation of the dispatcher's pass `pass_id` checked by
    the same `Checker` as a local pass, then its health folded at once by the worker that checked it
    (the dispatcher folds again when the pass turns out offline). `store` names the task (`for_task`).
    Archiving follows apart (`archive_task`): it asks the archives, not the citation's host."""

    async def check() -> CheckSummary:
        browser = PassBrowser.of(settings.browser_settings, resolver, clock)  # started only if the page needs it
        async with browser, Fetcher(settings.fetch_settings, resolver=resolver, clock=clock) as fetcher:
            prober = Prober(store, fetcher, workers, clock, timedelta(days=settings.probe_days))
            checker = Checker(store, fetcher, workers, prober, pass_id, settings.user_agent, browser)
            return await checker.check(citation)

    summary = aio.run(check())
    change = update_health(store, citation, settings.rot_policy, clock())
    if settings.notify and change is not None:
        send(settings.notify, (change,))
    return summary, change


def archive_task(
    settings: Settings,
    store: Store,
    workers: WorkerPool,
    citation: Citation,
    checked: CheckSummary,
    *,
    resolver: Resolver | None = None,
    clock: Clock = utcnow,
) -> ArchiveSummary | None:
    """The archiving step for a worker's checked citation, as a local pass runs it: the outbox is
    shared, and each capture request is claimed by one worker."""
    if not settings.wayback or checked.outcome.before_http:
        return None
    return run_archive(settings, [citation], store, clock=clock, resolver=resolver, workers=workers)


async def _cancel_on(stop: threading.Event, tasks: Sequence[asyncio.Future[None]]) -> None:
    """Cancel the checks still running once `stop` is set: each ends at its next await, never
    in the middle of a store write (those are synchronous)."""
    while not stop.is_set():
        await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()


def _listed(store: Store, citation: Citation) -> list[CitationRow]:
    row = store.citation(citation.key)
    return [row] if row is not None else []
