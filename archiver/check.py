"""One check of one citation, in order:

1. fetch its URL, conditional on the validators of the last response that gave content;
2. the very bytes of the version held: recorded as that version, with its verdicts, nothing extracted;
3. extract and judge in a worker (rot, paywall; see `analysis`), which is told what the citation
   holds: a page whose main-text region is unchanged is the current version without a full
   extraction, and only content not held yet is compressed for the store; a page whose extraction
   overruns its deadline is recorded as such, which is not rot;
3b. the browser branch: a page that needs a browser (`ARCHIVER_BROWSER`: a JavaScript shell or a
   challenge in `auto`, every page in `always`) is rendered in Chromium and its DOM goes through the
   same step 3; a rendering that fails leaves the HTTP answer, with what went wrong recorded;
4. a page that says nothing of itself is put to the soft-404 probe;
5. new content: compared with the baseline and the version before it (drift, claim), its files and
   its screenshot (the rendering's, or a rendering of the stored answer) written (in a thread: fsync
   waits on the disk, not on the event loop);
6. the check, and the version when there is one, recorded in one commit.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass, field, replace

from archiver.analysis import Analysis, Held, analyse, boilerplate_of, shell_facts_of
from archiver.archive.selection import baseline
from archiver.browser.need import ShellFacts
from archiver.browser.records import Rendering
from archiver.browser.session import PassBrowser, trace
from archiver.detect.claims import check_claim
from archiver.detect.drift import Snapshot, compare
from archiver.detect.health import check_verdict
from archiver.detect.rot import classify
from archiver.fetch import Fetcher
from archiver.models import (
    BrowserMode,
    BrowserTrace,
    CheckSummary,
    CheckVerdicts,
    Citation,
    Extraction,
    FetchResult,
    Outcome,
    Severity,
    Signal,
    VersionDrift,
)
from archiver.models.rows import VersionRow
from archiver.probe import Prober
from archiver.store import Store, content_hash
from archiver.workers import ExtractionAborted, WorkerPool


@dataclass(frozen=True)
class Checker:
    """What every check of a pass shares."""

    store: Store
    fetcher: Fetcher
    workers: WorkerPool
    prober: Prober
    pass_id: int
    user_agent: str
    browser: PassBrowser = field(default_factory=lambda: PassBrowser(BrowserMode.NEVER, False))

    async def check(self, citation: Citation) -> CheckSummary:
        store = self.store
        fetched = await self.fetcher.fetch(citation.url, store.validators(citation.id))
        t0 = time.monotonic()
        current = store.current_version(citation.id)
        if fetched.outcome == Outcome.OK and current is not None and _same_bytes(fetched, current):
            return self._unchanged(citation, fetched, current)
        versions = store.versions(citation.id)
        held = self._held(versions, current if fetched.outcome == Outcome.OK else None)
        try:
            analysis: Analysis = await self.workers.run(
                analyse, fetched, [v.words for v in versions], held, self.user_agent
            )
        except ExtractionAborted as exc:
            if fetched.outcome == Outcome.OK:
                return self._unread(citation, fetched, exc, _ms(t0))
            # an error page too slow to read is judged by its status alone: a 404 stays a 404
            signal = classify(
                fetched.outcome, fetched.status, fetched.url, fetched.final_url, fetched.redirects, error=fetched.error
            )
            analysis = Analysis(None, signal, None, False)
        fetched, analysis, rendering, browsed = await self._browse(citation, fetched, analysis)
        signal = analysis.signal
        if analysis.needs_probe and analysis.extraction:
            # only a page with no article markup and no paywall is probed (see rot)
            probed = await self.prober.verdict(fetched.final_url or citation.url, analysis.extraction.text)
            signal = probed or signal
        extract_ms = _ms(t0)
        verdicts = CheckVerdicts(signal, analysis.paywall)
        drift = files = None
        region = ""
        if fetched.outcome == Outcome.NOT_MODIFIED:
            verdicts = self._held_verdicts(citation.id) or verdicts
        elif analysis.extraction is not None:
            version_hash = content_hash(analysis.extraction, fetched.body)
            seen = next((v for v in versions if v.hash == version_hash), None)
            region = analysis.region if seen is None or analysis.region != seen.region else ""
            if version_hash and seen is None:
                drift = await self._drift(citation, analysis)
                if browsed is None and self.browser.wants_screenshot(fetched):
                    rendering = await self.browser.render(fetched)
                    browsed = trace("a screenshot of the new version", rendering)
                shot = rendering.screenshot if rendering is not None else None
                files = await asyncio.to_thread(
                    store.write_snapshot,
                    fetched.body,
                    analysis.extraction.text,
                    fetched,
                    self.user_agent,
                    analysis.packed,
                    shot.png if shot is not None else None,
                )
        stored = store.record_check(
            citation,
            fetched,
            analysis.extraction,
            fetched.started_at,
            self.pass_id,
            extract_ms,
            verdicts,
            drift,
            files,
            region=region,
            browser=browsed,
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
            check_verdict(verdicts, drift.drift_class if drift else None),
        )

    async def _browse(
        self, citation: Citation, fetched: FetchResult, analysis: Analysis
    ) -> tuple[FetchResult, Analysis, Rendering | None, BrowserTrace | None]:
        """The browser branch: render a page that needs it and judge its DOM with the same `analyse`.
        Returns what the check goes on with, the rendering (for its screenshot) and what to record."""
        browser = self.browser
        if not browser.worth_a_look(fetched, analysis.extraction):
            return fetched, analysis, None, None
        try:
            facts = (
                ShellFacts() if browser.mode == BrowserMode.ALWAYS else await self.workers.run(shell_facts_of, fetched)
            )
        except ExtractionAborted:  # markup too slow to read is no shell worth a browser
            return fetched, analysis, None, None
        need = browser.need(fetched, analysis.extraction, facts)
        if not need.browser:
            return fetched, analysis, None, None
        rendering = await browser.render(fetched)
        if not rendering.rendered:
            return fetched, analysis, None, trace(need.reason, rendering)
        rendered = rendering.to_fetch_result()
        try:
            seen: Analysis = await self.workers.run(
                analyse, rendered, [v.words for v in self.store.versions(citation.id)], None, self.user_agent
            )
        except ExtractionAborted as exc:
            return fetched, analysis, None, trace(need.reason, rendering, f"the rendered page was not read: {exc}")
        return rendered, seen, rendering, trace(need.reason, rendering)

    def _unchanged(self, citation: Citation, fetched: FetchResult, current: VersionRow) -> CheckSummary:
        """The very bytes of the version we hold: same text, same verdicts; nothing to extract."""
        held = self._held_verdicts(citation.id)
        self.store.record_check(citation, fetched, None, fetched.started_at, self.pass_id, 0, held, unchanged=current)
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
            check_verdict(held or CheckVerdicts()),
        )

    def _unread(
        self, citation: Citation, fetched: FetchResult, aborted: ExtractionAborted, extract_ms: int
    ) -> CheckSummary:
        """The page answered but its text could not be read in time: recorded, with no version, and it is
        not rot (the site served the page; we could not read it). The next check tries again."""
        unread = replace(fetched, outcome=aborted.outcome, error=str(aborted))
        verdicts = CheckVerdicts(
            Signal(str(aborted.outcome), Severity.HEALTHY, f"HTTP {fetched.status}, but {aborted}")
        )
        self.store.record_check(citation, unread, None, fetched.started_at, self.pass_id, extract_ms, verdicts)
        return CheckSummary(
            citation, unread.outcome, fetched.status, fetched.final_url, False, "", "", unread.error, fetched.elapsed_ms
        )

    def _held(self, versions: list[VersionRow], current: VersionRow | None) -> Held:
        """What the worker is told the citation holds: its versions' hashes, and the current version's
        text and region when a page may be found to hold it (see `region`)."""
        hashes = frozenset(v.hash for v in versions)
        if current is None or not current.region:
            return Held(hashes)
        try:
            text = self.store.read_text(current)
        except OSError:  # a missing text file (`verify` names it): extract in full
            return Held(hashes)
        extraction = Extraction(text, current.title, current.author, current.date, current.language, extracted=True)
        return Held(hashes, extraction, current.region)

    def _held_verdicts(self, watched_id: str) -> CheckVerdicts | None:
        """A 304 or the same bytes say the page is what it was: the verdicts of the last check that saw
        it still hold."""
        seen = [c for c in self.store.checks(watched_id) if c.outcome == Outcome.OK and c.version_hash]
        return seen[-1].verdicts if seen else None

    async def _drift(self, citation: Citation, analysis: Analysis) -> VersionDrift:
        """How new content compares with the baseline and the version before it, and what it says of the
        claim; which lines of each page are teasers and link lists is read from their markup (a stored
        page is re-read from its raw body, in a worker)."""
        assert analysis.extraction is not None
        e = analysis.extraction
        new = Snapshot(e.text, e.title, e.author, e.date, analysis.boilerplate)
        claim = check_claim(citation.claim, new.text, citation.expect)
        store = self.store
        versions = store.versions(citation.id)
        base = baseline(store.checks(citation.id), versions, citation.cited)
        if base is None:
            return VersionDrift(claim_facts=claim.facts, claim_found=claim.found, claim_missing=claim.missing)
        previous = store.current_version(citation.id) or base
        against_base = compare(await self._snapshot(base), new)
        against_previous = against_base if previous == base else compare(await self._snapshot(previous), new)
        return VersionDrift(
            base.hash,
            against_base.drift_class,
            against_base.score,
            against_base.changes,
            against_previous.drift_class,
            against_previous.score,
            claim.facts,
            claim.found,
            claim.missing,
        )

    async def _snapshot(self, version: VersionRow) -> Snapshot:
        text = self.store.read_text(version)
        try:
            body = self.store.read_raw(version) if text else b""
        except (OSError, EOFError, ValueError):  # a damaged raw copy (`verify` names it): judge on the text alone
            body = b""
        links = await self.workers.run(boilerplate_of, body, "", text) if body else frozenset[str]()
        return Snapshot(text, version.title, version.author, version.date, links)


def _same_bytes(fetched: FetchResult, current: VersionRow) -> bool:
    return bool(fetched.body) and hashlib.sha256(fetched.body).hexdigest() == current.raw_hash


def _ms(t0: float) -> int:
    return int((time.monotonic() - t0) * 1000)
