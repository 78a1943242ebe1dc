"""The only module that knows the order of the stages: sources → fetch → extract → detect → store."""

from __future__ import annotations

import asyncio
import hashlib
import json
import multiprocessing
import os
import posixpath
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pebble import ProcessExpired, ProcessPool

from archiver.analysis import Analysis, analyse, boilerplate_of
from archiver.articles import MAX_ARTICLE_BYTES, ImportResult, parse_article
from archiver.cadence import Record, due, parse_duration
from archiver.config import Settings
from archiver.detect.claims import check_claim
from archiver.detect.drift import EDITS, Snapshot, compare, unified_diff
from archiver.detect.health import ClaimState, DriftState, PaywallState, assess_health, check_verdict
from archiver.detect.paywall import PaywallVerdict
from archiver.detect.rot import (
    Observation,
    ProbeAnswer,
    RotPolicy,
    Severity,
    Signal,
    classify,
    needs_second_probe,
    probe_verdict,
)
from archiver.errors import ConfigError, SourceError
from archiver.extract import extract
from archiver.fetch import Fetcher, Resolver
from archiver.models import (
    CheckSummary,
    CheckVerdicts,
    Citation,
    FetchResult,
    Outcome,
    PassSummary,
    StatusChange,
    VersionDrift,
    VersionRecord,
)
from archiver.notify import send
from archiver.outbox import best_captures, run_archive
from archiver.report import report_data
from archiver.sources import (
    MAX_CELL_CHARS,
    MAX_SOURCES_BYTES,
    merge_sources,
    parse_sources,
    read_bounded,
    read_sources,
)
from archiver.store import Store, content_hash
from archiver.urls import canonical
from archiver.workers import die_with_parent

Clock = Callable[[], datetime]
OnCheck = Callable[[CheckSummary], None]


def utcnow() -> datetime:
    return datetime.now(UTC)


def select(citations: Sequence[Citation], only: Sequence[str] | None) -> list[Citation]:
    """The citations named by `only` (all when empty); an unknown id is an error, not a silent skip."""
    if not only:
        return list(citations)
    known = {c.id for c in citations}
    unknown = [i for i in only if i not in known]
    if unknown:
        raise ConfigError(f"no citation with id {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    wanted = set(only)
    return [c for c in citations if c.id in wanted]


def run_check(
    settings: Settings,
    only: Sequence[str] | None = None,
    *,
    resolver: Resolver | None = None,
    clock: Clock = utcnow,
    on_check: OnCheck | None = None,
    stop: threading.Event | None = None,
) -> PassSummary:
    """Read the citation list, then check the chosen citations once and record everything."""
    citations = read_sources(settings.sources)  # a bad list stops here, before the store is touched
    chosen = select(citations, only)
    with Store.open(settings.data_dir) as store:
        store.sync_citations(citations, clock())
        return _pass(settings, store, chosen, resolver=resolver, clock=clock, on_check=on_check, stop=stop)


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
    with Store.open(settings.data_dir) as store:
        store.sync_citations(citations, now)
        records = store.schedule_records()
        chosen = []
        for c in citations:
            last, failures = records.get(c.id, (None, 0))
            record = Record(datetime.fromisoformat(last) if last else None, failures)
            own = parse_duration(c.interval) if c.interval else interval
            if due(c.id, record, own, now, retry_base=min(retry_base, own) if own else retry_base, jitter=jitter):
                chosen.append(c)
        if not chosen:
            return None
        return _pass(settings, store, chosen, resolver=resolver, clock=clock, on_check=on_check, stop=stop)


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
    summary = asyncio.run(
        check_citations(chosen, settings, store, resolver=resolver, clock=clock, on_check=on_check, stop=stop)
    )
    if settings.wayback and not summary.offline and not (stop and stop.is_set()):
        summary = replace(summary, archive=run_archive(settings, chosen, store, resolver=resolver))
    if settings.notify:
        send(settings.notify, summary.changes)
    return summary


def import_article(article: Path, target: Path) -> tuple[ImportResult, str, list[str]]:
    """Read an article's citations and merge them into the citation list at `target` (not written)."""
    data = read_bounded(article, MAX_ARTICLE_BYTES)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError(article, [(None, "not UTF-8; save the article as UTF-8")]) from None
    result = parse_article(text, article.name)
    if not result.citations:
        raise SourceError(
            article,
            [
                (
                    None,
                    "no citation found (no [n] markers with a reference list, "
                    "no footnotes, no links in the article body)",
                )
            ],
        )
    existing = read_bounded(target, MAX_SOURCES_BYTES) if target.exists() else None
    if existing is not None:
        parse_sources(existing, target)  # refuse to merge into a list we cannot read: name its bad lines
    canonicals = {
        c.url: form for c in result.citations if (form := canonical(c.url)) != c.url and len(form) <= MAX_CELL_CHARS
    }
    merged, notes = merge_sources(existing, result.citations, canonicals)
    return result, merged, notes


class ExtractionAborted(Exception):
    """An extraction ran past its deadline, or its worker died: the worker was replaced."""

    def __init__(self, outcome: Outcome, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome


class _Workers:
    """Runs analysis in worker processes (pebble): each call has a deadline, a worker that overruns
    it is killed and replaced, and every worker dies with this process (see `archiver.workers`).
    Always processes, even for one worker: a thread cannot be stopped."""

    def __init__(self, workers: int, deadline: float) -> None:
        self.workers = workers
        self.deadline = deadline
        self._pool: ProcessPool | None = None

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self._pool is None:
            # spawn: workers never inherit the event loop's threads or open sockets, and they are
            # our own children, so their CPU time and memory show in getrusage (the benchmark reads it)
            self._pool = ProcessPool(
                self.workers,
                initializer=die_with_parent,
                initargs=(os.getpid(),),
                context=multiprocessing.get_context("spawn"),
            )
        future = self._pool.schedule(fn, args=args, timeout=self.deadline)
        try:
            return await asyncio.wrap_future(future)
        except TimeoutError:
            raise ExtractionAborted(
                Outcome.EXTRACT_TIMEOUT,
                f"extraction ran past {self.deadline:g}s (ARCHIVER_EXTRACT_TIMEOUT); its worker was replaced",
            ) from None
        except ProcessExpired as exc:
            raise ExtractionAborted(
                Outcome.EXTRACT_FAILED, f"the extraction worker died (exit status {exc.exitcode}); it was replaced"
            ) from None

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.stop()  # type: ignore[no-untyped-call]  # every task is done or abandoned by now: nothing to wait for
            self._pool.join(timeout=10)


# --- one pass ---------------------------------------------------------------------------------------


async def check_citations(
    citations: Sequence[Citation],
    settings: Settings,
    store: Store,
    *,
    resolver: Resolver | None = None,
    clock: Clock = utcnow,
    on_check: OnCheck | None = None,
    stop: threading.Event | None = None,
) -> PassSummary:
    """One pass: fetch concurrently, analyse on every core, store each check as it completes,
    then fold the new evidence into each citation's health."""
    started = clock()
    pass_id = store.begin_pass(started, len(citations))
    workers = _Workers(settings.extraction_workers, settings.extract_timeout)
    summaries: list[CheckSummary] = []
    try:
        async with Fetcher(settings, resolver=resolver, clock=clock) as fetcher:
            prober = _Prober(settings, store, fetcher, workers, clock)

            # at most this many citations between fetch and store at once: fetching runs ahead of
            # extraction, and each one waiting holds its body in memory
            in_progress = asyncio.Semaphore(settings.concurrency + 4 * settings.extraction_workers)

            async def one(citation: Citation) -> None:
                async with in_progress:
                    summaries.append(await _check_one(citation, store, fetcher, workers, prober, pass_id))
                if on_check:
                    on_check(summaries[-1])

            tasks = [asyncio.ensure_future(one(c)) for c in citations]
            watcher = asyncio.ensure_future(_cancel_on(stop, tasks)) if stop is not None else None
            await asyncio.gather(*tasks, return_exceptions=True)
            if watcher is not None:
                watcher.cancel()
            for task in tasks:  # a failure of our own (a full disk, say) surfaces; a cancellation does not
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
    finally:
        workers.shutdown()
    offline = bool(summaries) and all(s.outcome.before_http for s in summaries)
    finished = clock()
    store.finish_pass(pass_id, finished, offline)
    policy = RotPolicy(settings.rot_failures, timedelta(days=settings.rot_days))
    changes = [change for c in citations if (change := update_health(store, c, policy, finished))]
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


async def _cancel_on(stop: threading.Event, tasks: Sequence[asyncio.Future[None]]) -> None:
    """Cancel the checks still running once `stop` is set: each ends at its next await, never
    in the middle of a store write (those are synchronous)."""
    while not stop.is_set():
        await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()


async def _check_one(
    citation: Citation, store: Store, fetcher: Fetcher, workers: _Workers, prober: _Prober, pass_id: int
) -> CheckSummary:
    fetched = await fetcher.fetch(citation.url, store.validators(citation.id))
    t0 = time.monotonic()
    current = store.current_version(citation.id)
    if (
        fetched.outcome == Outcome.OK
        and current is not None
        and fetched.body
        and hashlib.sha256(fetched.body).hexdigest() == current.raw_hash
    ):
        # the very bytes of the version we hold: same text, same verdicts; nothing to extract
        previous = _previous_verdicts(store, citation.id)
        stored = store.record_check(
            citation, fetched, None, fetched.started_at, pass_id, 0, previous, unchanged=current
        )
        previous = previous or CheckVerdicts()
        return CheckSummary(
            citation,
            fetched.outcome,
            fetched.status,
            fetched.final_url,
            False,
            current.hash,
            current.title,
            "",
            fetched.elapsed_ms,
            check_verdict(_signal_of(previous), previous.paywall),
        )
    earlier = [v.words for v in store.versions(citation.id)]
    try:
        analysis: Analysis = await workers.run(analyse, fetched, earlier)
    except ExtractionAborted as exc:
        if fetched.outcome == Outcome.OK:
            return _record_unread(citation, store, fetched, exc, pass_id, int((time.monotonic() - t0) * 1000))
        # an error page too slow to read is judged by its status alone: a 404 stays a 404
        signal = classify(
            fetched.outcome, fetched.status, fetched.url, fetched.final_url, fetched.redirects, error=fetched.error
        )
        analysis = Analysis(None, signal, None, False)
    signal = analysis.signal
    if analysis.needs_probe and analysis.extraction:
        # only a page with no article markup and no paywall is probed; it turns into a soft 404 only
        # when the site serves its text for any URL, the id-like segment replaced too (see rot)
        text, where = analysis.extraction.text, fetched.final_url or citation.url
        first = await prober.answer(where, level=1)
        second = await prober.answer(where, level=2) if needs_second_probe(text, first) else None
        signal = probe_verdict(text, first, second) or signal
    extract_ms = int((time.monotonic() - t0) * 1000)
    verdicts = _verdicts(signal, analysis.paywall)
    drift = files = None
    if fetched.outcome == Outcome.NOT_MODIFIED:
        verdicts = _previous_verdicts(store, citation.id) or verdicts
    elif analysis.extraction is not None:
        version_hash = content_hash(analysis.extraction, fetched.body)
        if version_hash and not store.has_version(citation.id, version_hash):
            drift = await _new_version_drift(store, citation, analysis, workers)
            # fsync-ed file writes wait on the disk in a thread, not on the event loop
            files = await asyncio.to_thread(
                store.write_snapshot,
                fetched.body,
                analysis.extraction.text,
                analysis.body_gz,
                fetched,
                fetcher.settings.user_agent,
            )
    stored = store.record_check(
        citation, fetched, analysis.extraction, fetched.started_at, pass_id, extract_ms, verdicts, drift, files
    )
    return CheckSummary(
        citation,
        fetched.outcome,
        fetched.status,
        fetched.final_url,
        stored.check.new_version,
        stored.check.version_hash,
        analysis.extraction.title if analysis.extraction else "",
        fetched.error or (signal.evidence if signal.severity != Severity.HEALTHY else ""),
        fetched.elapsed_ms,
        check_verdict(_signal_of(verdicts), verdicts.paywall, drift.drift_class if drift else ""),
    )


def _record_unread(
    citation: Citation, store: Store, fetched: FetchResult, aborted: ExtractionAborted, pass_id: int, extract_ms: int
) -> CheckSummary:
    """The page answered but its text could not be read in time: recorded, with no version, and it is
    not rot (the site served the page; we could not read it). The next check tries again."""
    unread = replace(fetched, outcome=aborted.outcome, error=str(aborted))
    verdicts = CheckVerdicts(str(aborted.outcome), str(Severity.HEALTHY), f"HTTP {fetched.status}, but {aborted}")
    store.record_check(citation, unread, None, fetched.started_at, pass_id, extract_ms, verdicts)
    return CheckSummary(
        citation, unread.outcome, fetched.status, fetched.final_url, False, "", "", unread.error, fetched.elapsed_ms
    )


def _verdicts(signal: Signal, paywall: PaywallVerdict | None) -> CheckVerdicts:
    return CheckVerdicts(
        signal.kind,
        str(signal.severity),
        signal.evidence,
        signal.moved_to,
        str(paywall.kind) if paywall else "",
        paywall.evidence if paywall else (),
        bool(paywall and paywall.truncated),
    )


def _signal_of(verdicts: CheckVerdicts) -> Signal:
    return Signal(verdicts.signal, Severity(verdicts.severity), verdicts.evidence, verdicts.moved_to)


def _previous_verdicts(store: Store, citation_id: str) -> CheckVerdicts | None:
    """A 304 says the page is what it was: the verdicts of the last check that saw it still hold."""
    for row in reversed(store.history(citation_id)):
        if row["outcome"] == "ok" and row["version_hash"]:
            return CheckVerdicts(
                row["signal"],
                row["severity"],
                row["evidence"],
                row["moved_to"],
                row["paywall"],
                tuple(json.loads(row["paywall_evidence"])),
                bool(row["paywall_truncated"]),
            )
    return None


class _Prober:
    """A site's answer to a URL that cannot exist, fetched once per site level and kept for `probe_days`."""

    def __init__(self, settings: Settings, store: Store, fetcher: Fetcher, workers: _Workers, clock: Clock) -> None:
        self.settings, self.store, self.fetcher, self.workers, self.clock = settings, store, fetcher, workers, clock
        self._locks: dict[str, asyncio.Lock] = {}

    async def answer(self, url: str, level: int = 1) -> ProbeAnswer | None:
        """The answer for a URL whose last `level` path segments are random (see `probe_target`)."""
        site, probe_url, whole_path = probe_target(url, secrets.token_hex(8), level)
        async with self._locks.setdefault(site, asyncio.Lock()):
            cached = self.store.probe(site)
            fresh = cached and datetime.fromisoformat(cached["probed_at"]) > self.clock() - timedelta(
                days=self.settings.probe_days
            )
            if cached and fresh:
                return ProbeAnswer(cached["url"], cached["status"], cached["text"], whole_path)
            fetched = await self.fetcher.fetch(probe_url)
            if fetched.outcome == Outcome.OK:
                try:
                    text = (
                        await self.workers.run(extract, fetched.body, fetched.final_url, fetched.header("content-type"))
                    ).text
                except ExtractionAborted:
                    return None  # an unreadable answer is no answer
            elif fetched.outcome == Outcome.HTTP_ERROR:
                text = ""
            else:
                return None  # the probe itself failed: no answer to keep
            self.store.save_probe(site, probe_url, fetched.status, text, self.clock())
            return ProbeAnswer(probe_url, fetched.status, text, whole_path)


PROBE_SEGMENT = "archiver-probe-"


def probe_target(url: str, token: str, level: int = 1) -> tuple[str, str, bool]:
    """A URL that cannot exist: the cited one with its last `level` path segments replaced by random
    ones (the leaf's extension kept). Returns the cache key of that site level, the URL, and whether
    every segment of the path was replaced (then no id-like segment is left to route on)."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    level = max(1, min(level, len(segments)))
    kept = segments[: len(segments) - level]
    leaf = segments[-1] if segments else ""
    extension = posixpath.splitext(leaf)[1] if not parts.path.endswith("/") else ""
    suffix = extension if len(extension) <= 5 else ""
    random = [f"{PROBE_SEGMENT}{token}"] * (level - 1) + [f"{PROBE_SEGMENT}{token}{suffix}"]
    path = "/" + "/".join([*kept, *random]) + ("/" if parts.path.endswith("/") and segments else "")
    key = "/".join(["", *kept, *["*"] * (level - 1)]) or "/"
    site = urlunsplit((parts.scheme, parts.netloc, key, "", ""))
    return site, urlunsplit((parts.scheme, parts.netloc, path, "", "")), not kept


# --- versions and health ----------------------------------------------------------------------------


def baseline_of(versions: Sequence[VersionRecord], cited_at: str) -> VersionRecord | None:
    """The first version, or the one in force nearest the date the citation was made."""
    if not versions:
        return None
    if not cited_at:
        return versions[0]
    before = [v for v in versions if v.first_seen[:10] <= cited_at[:10]]
    return before[-1] if before else versions[0]


def version_drift(
    store: Store, citation: Citation, new: Snapshot, stored: dict[str, Snapshot] | None = None
) -> VersionDrift:
    """Compare a new version with the baseline and the previous version; check the claim in it.
    `stored` holds the snapshots of stored versions by hash, when the caller has them already."""
    claim = check_claim(citation.claim, new.text, citation.expect)
    baseline = baseline_of(store.versions(citation.id), citation.cited_at)
    if baseline is None:
        return VersionDrift(claim_facts=claim.facts, claim_found=claim.found, claim_missing=claim.missing)
    stored = stored or {}
    against_baseline = compare(stored.get(baseline.hash) or _snapshot(store, baseline), new)
    previous = store.current_version(citation.id) or baseline
    against_previous = (
        against_baseline
        if previous == baseline
        else compare(stored.get(previous.hash) or _snapshot(store, previous), new)
    )
    return VersionDrift(
        baseline.hash,
        str(against_baseline.drift_class),
        against_baseline.score,
        against_baseline.changes,
        str(against_previous.drift_class),
        against_previous.score,
        claim.facts,
        claim.found,
        claim.missing,
    )


async def _new_version_drift(store: Store, citation: Citation, analysis: Analysis, workers: _Workers) -> VersionDrift:
    """`version_drift` for a version a check just found, knowing which lines of each page compared
    are teasers and link lists (a stored page is re-read from its raw body, in a worker)."""
    assert analysis.extraction is not None
    e = analysis.extraction
    stored: dict[str, Snapshot] = {}
    for version in (baseline_of(store.versions(citation.id), citation.cited_at), store.current_version(citation.id)):
        if version is None or version.hash in stored:
            continue
        snapshot = _snapshot(store, version)
        try:
            body = store.read_raw(version) if version.raw_path and snapshot.text else b""
        except (OSError, EOFError):  # a damaged raw file (`verify` names it): judge on the text alone
            body = b""
        links = await workers.run(boilerplate_of, body, "", snapshot.text) if body else frozenset[str]()
        stored[version.hash] = replace(snapshot, boilerplate=links)
    return version_drift(store, citation, Snapshot(e.text, e.title, e.author, e.date, analysis.boilerplate), stored)


def _snapshot(store: Store, version: VersionRecord) -> Snapshot:
    text = store.read_text(version) if version.text_path else ""
    return Snapshot(text, version.title, version.author, version.date)


def update_health(store: Store, citation: Citation, policy: RotPolicy, now: datetime) -> StatusChange | None:
    """Fold a citation's whole record into its health and keep it; returns the change of status, if any."""
    history = store.history(citation.id)
    observations = [
        Observation(
            datetime.fromisoformat(r["checked_at"]),
            Signal(r["signal"], Severity(r["severity"]), r["evidence"], r["moved_to"]),
            bool(r["offline"]),
        )
        for r in history
    ]
    latest = history[-1] if history else {}
    paywall = _paywall_state(history)
    drift = claim = None
    current = store.current_version(citation.id)
    if current is not None:
        versions = store.versions(citation.id)
        recorded = store.version_drift(citation.id, current.hash) or VersionDrift()
        baseline = store.version_drift(citation.id, recorded.baseline_hash) if recorded.baseline_hash else None
        drift = DriftState(
            recorded.drift_class,
            recorded.score,
            current.first_seen,
            recorded.changes,
            recorded.baseline_hash,
            len(versions),
        )
        baseline_found = baseline.claim_found if baseline else recorded.claim_found
        lost = tuple(f for f in baseline_found if f in recorded.claim_missing)
        claim = ClaimState(
            citation.claim,
            recorded.claim_facts,
            recorded.claim_found,
            recorded.claim_missing,
            lost,
            current.first_seen if lost else "",
        )
    health = assess_health(
        citation.id,
        citation.url,
        observations,
        checked_at=latest.get("checked_at", ""),
        http_status=latest.get("http_status"),
        final_url=latest.get("final_url", ""),
        paywall=paywall,
        drift=drift,
        claim=claim,
        policy=policy,
    )
    report = health.to_json()
    # what the report shows beside the verdicts, kept here so a report reads one row per citation
    report["title"] = current.title if current else ""
    report["versions"] = drift.versions if drift else 0
    report["snapshot"] = current.text_path if current else None
    return store.save_health(citation.id, citation.url, report, now)


def _paywall_state(history: list[dict[str, Any]]) -> PaywallState | None:
    judged = [r for r in history if r["paywall"]]
    if not judged:
        return None
    kind = judged[-1]["paywall"]
    since = judged[-1]["checked_at"]
    for row in reversed(judged):
        if row["paywall"] != kind:
            break
        since = row["checked_at"]
    return PaywallState(
        kind, since, tuple(json.loads(judged[-1]["paywall_evidence"])), bool(judged[-1]["paywall_truncated"])
    )


# --- the report -------------------------------------------------------------------------------------------

TIMELINE_CHECKS = 90  # marks in a citation's timeline


def gather_report(store: Store, now: datetime) -> dict[str, Any]:
    """Everything the report formats show, read from the store: the JSON contract plus, per citation,
    its number of versions, newest local snapshot, check timeline and the diff of its latest drift.
    One health row and one short indexed timeline query per citation: flat as history grows."""
    data = report_data(store.citations(), store.all_health(), now, best_captures(store))
    first_seen = store.first_seen_dates()
    for entry in data["citations"]:
        cid = entry["id"]
        entry["first_seen"] = first_seen.get(cid)
        entry.setdefault("title", "")
        entry.setdefault("versions", 0)
        snapshot = entry.get("snapshot")
        entry["snapshot"] = str(store.data_dir / snapshot) if snapshot else None
        entry["timeline"] = [[r["checked_at"], _mark(r)] for r in store.timeline(cid, TIMELINE_CHECKS)]
        entry["diff"] = None
        drift = entry.get("drift") or {}
        if drift.get("kind") in EDITS:
            current = store.current_version(cid)
            recorded = store.version_drift(cid, current.hash) if current else None
            baseline = next((v for v in store.versions(cid) if recorded and v.hash == recorded.baseline_hash), None)
            if current is not None and baseline is not None:
                entry["diff"] = unified_diff(_snapshot(store, baseline).text, _snapshot(store, current).text)
    return data


def _mark(row: dict[str, Any]) -> str:
    """One word for one check in a timeline."""
    if row["offline"]:
        return "offline"
    return {"healthy": "ok", "blocked": "blocked", "transient": "failing", "permanent": "rotten"}.get(
        row["severity"], "failing"
    )
