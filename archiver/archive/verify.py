"""Is an archived copy the page we cite? A capture is replayed as archived and judged like a live page
(the same extraction and detectors, in the same bounded workers), then its text is compared with our
versions of the same moment. A wrong copy is worse than none: what fails is kept, with the reason,
and never offered."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from archiver.analysis import analyse
from archiver.archive.selection import baseline, version_in_force
from archiver.detect.text import resemblance
from archiver.models import Citation, FetchResult, Outcome, Severity
from archiver.models.rows import Capture, VersionRow
from archiver.store import Store
from archiver.workers import WorkerPool

MIN_WORDS = 50  # an archived page with less text is not the article
# An archived text shares at least this much (Jaccard similarity of word 3-shingles, the measure the
# drift detector uses) with our version of the same moment, or it is some other page. The same
# article with a paragraph added scores about 0.8; another article of the same site under 0.1.
MATCH_AT = 0.5


async def judge(
    store: Store, workers: WorkerPool, citation: Citation, capture: Capture, fetched: FetchResult
) -> tuple[str, str]:
    """(why the capture is not offered, "" when it is; what it was found to be). Raises
    ExtractionAborted when its text cannot be read in time: it is judged another time."""
    if fetched.outcome != Outcome.OK:
        return fetched.error or f"the archive answered HTTP {fetched.status}", ""
    analysis = await workers.run(analyse, fetched, [])
    words = analysis.extraction.words if analysis.extraction else 0
    if analysis.signal.severity != Severity.HEALTHY:
        return analysis.signal.evidence, ""
    if analysis.paywall and analysis.paywall.paywalled and analysis.paywall.truncated:
        return "archived behind a paywall: " + "; ".join(analysis.paywall.evidence), ""
    if words < MIN_WORDS:
        return f"only {words} words of text: not the article", ""
    text = analysis.extraction.text if analysis.extraction else ""
    versions = store.versions(citation.id)
    if not versions:
        return "cannot be compared: we never stored a version of this page to compare it with", ""
    score, against = compare_with_ours(store, citation, versions, capture, text, fetched.body)
    if score < MATCH_AT:
        return f"the archived text is not our {against} (resemblance {score:.0%})", ""
    return "", f"the article ({words} words; matches our {against}, {score:.0%})"


def compare_with_ours(
    store: Store, citation: Citation, versions: Sequence[VersionRow], capture: Capture, text: str, body: bytes
) -> tuple[float, str]:
    """The best resemblance between an archived text and the versions of ours it should hold: the one
    in force at the capture's date, the next one, and the cited one (at least one version is stored)."""
    raw = hashlib.sha256(body).hexdigest()
    for v in versions:
        if v.raw_hash == raw:
            return 1.0, f"version of {v.first_seen[:10]} byte for byte"
    checks = store.checks(citation.id)
    when = capture.when
    candidates: list[VersionRow] = []
    in_force = version_in_force(checks, versions, when)
    after = next((v for v in versions if v.seen > when), None)
    for candidate in (in_force, after, baseline(checks, versions, citation.cited)):
        if candidate is not None and candidate not in candidates:
            candidates.append(candidate)
    scored = [(resemblance(text, store.read_text(v)), v) for v in candidates]
    score, best = max(scored, key=lambda pair: pair[0])
    return score, f"version of {best.first_seen[:10]}"
