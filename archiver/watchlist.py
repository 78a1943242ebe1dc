"""What a pass fetches: one watched URL per page, however many citations of however many articles
cite it. Pure: citations and watched URLs in, what to check out.

"The same URL" is the canonical form (`urls.canonical`: scheme and host in lower case, no default
port, no fragment, no tracking parameters): `?mod=`, `utm_*` or `#top` never make two watched pages.
Everything else (path, case of the path, the other parameters, `www.`) does, because sites serve
different pages there. A watched URL is fetched at the URL its first citation wrote, judged for rot,
paywalls and drift once, against the version in force at its earliest citation date (the first
version when a citation has no date: the oldest baseline any of them has); each citation keeps its own
claim, checked per article, and its own report diff (`report.build`), from its own date."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from archiver.cadence import parse_duration
from archiver.models import Citation
from archiver.models.rows import CitationRow, WatchedRow


def watch_list(
    chosen: Sequence[Citation], listed: Sequence[CitationRow], urls: Mapping[str, WatchedRow]
) -> list[Citation]:
    """One entry per watched URL the `chosen` citations cite, in their order: named by the watched
    URL's id, fetched at its URL, with the claim and `expect` phrases of its first listed citation
    (what each new version's claim check records), the earliest citation date of all its
    citations (none when one has none), and the shortest of their intervals."""
    rows = {(c.article, c.id): c for c in listed}
    by_watched: dict[str, list[CitationRow]] = {}
    for c in listed:
        by_watched.setdefault(c.watched_id, []).append(c)
    out: list[Citation] = []
    seen: set[str] = set()
    for wanted in chosen:
        row = rows.get((wanted.article, wanted.id))
        if row is None or row.watched_id in seen or row.watched_id not in urls:
            continue
        seen.add(row.watched_id)
        citing = by_watched[row.watched_id]
        first = citing[0]
        dated = sorted((x.cited, x.cited_at) for x in citing if x.cited is not None)
        earliest = dated[0][1] if dated and len(dated) == len(citing) else ""
        intervals = [x.interval for x in citing if x.interval]
        shortest = min(intervals, key=parse_duration) if intervals else ""
        out.append(Citation(row.watched_id, urls[row.watched_id].url, first.claim, earliest, first.expect, shortest))
    return out
