"""What the store keeps, read back as typed rows: no caller indexes an SQL column.

Two concepts are kept apart: the *citation* (an article's footnote: its id, claim and date,
`CitationRow`) and the *watched URL* (what is fetched, versioned, captured and queued for capture:
`WatchedRow`, and the rows that carry a `watched_id`). Every citation of one page, in whatever
article, watches one watched URL (see `archiver.watched`). No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from archiver.models.enums import Decision, OutboxState, Outcome, Severity
from archiver.models.records import Citation
from archiver.models.time import parse_stamp, parse_timestamp
from archiver.models.verdicts import CheckVerdicts, VersionDrift

CANONICAL_BASE = "https://web.archive.org"


@dataclass(frozen=True)
class CitationRow(Citation):
    """A citation as the store keeps it: as listed, and since when it has been (or was) listed."""

    added_at: str = ""
    removed_at: str | None = None  # set when the list dropped it; its history stays
    watched_id: str = ""  # the watched URL it cites


@dataclass(frozen=True)
class WatchedRow:
    """A watched URL: fetched once a pass whatever the number of citations of it, under `id`, at
    `url` (as its first citation wrote it); `canonical` (`urls.canonical`) is what makes two cited
    URLs the same page."""

    id: str
    url: str
    canonical: str
    added_at: str = ""
    removed_at: str | None = None  # no citation watches it any more; its history stays


@dataclass(frozen=True)
class CheckRow:
    """One check of a watched URL, as recorded."""

    id: int
    watched_id: str
    checked_at: str
    outcome: Outcome
    http_status: int | None
    final_url: str
    version_hash: str
    new_version: bool
    error: str
    pass_id: int | None = None
    verdicts: CheckVerdicts = CheckVerdicts()
    offline: bool = False  # its pass reached no host at all: it says nothing of this URL

    @property
    def at(self) -> datetime:
        return parse_stamp(self.checked_at)


class TimelinePoint(NamedTuple):
    """One mark of a check timeline: when, how it went, and whether its pass was offline. A named
    tuple: a report reads 90 of them per citation, a year of history for thousands of citations."""

    checked_at: str
    severity: Severity
    offline: bool


@dataclass(frozen=True)
class WarcPointer:
    """Where a version's exchange lies: file (relative to the data dir), offset of its final
    response record, length of the whole exchange (every record written for the version)."""

    file: str
    offset: int
    length: int


@dataclass(frozen=True)
class VersionRow:
    """A distinct content of a watched URL, identified by the hash of its text."""

    watched_id: str
    hash: str
    first_seen: str
    title: str
    author: str
    date: str
    language: str
    words: int
    chars: int
    text_path: str
    raw_path: str
    raw_bytes: int
    drift: VersionDrift = VersionDrift()  # against the baseline and the version before, when it was stored
    warc: WarcPointer | None = None

    @property
    def raw_hash(self) -> str:
        """SHA-256 of the body as served (the raw file is named by it)."""
        return self.raw_path.rsplit("/", 1)[-1].removesuffix(".gz")

    @property
    def seen(self) -> datetime:
        return parse_stamp(self.first_seen)


def capture_url(timestamp: str, original: str) -> str:
    """The canonical address of a Wayback capture, the one stored and shown (never fetched as such)."""
    return f"{CANONICAL_BASE}/web/{timestamp}/{original}"


@dataclass(frozen=True)
class Capture:
    """One archived copy, as the CDX API, a capture job or a Memento TimeMap names it."""

    timestamp: str  # YYYYMMDDhhmmss
    original: str
    status: int | None = 200
    digest: str = ""
    mimetype: str = ""
    archive: str = "wayback"
    replay: str = ""  # where it is replayed, when that is not the Wayback address of timestamp and URL

    @property
    def url(self) -> str:
        return self.replay or capture_url(self.timestamp, self.original)

    @property
    def when(self) -> datetime:
        return parse_timestamp(self.timestamp)


@dataclass(frozen=True)
class CaptureRow(Capture):
    """A capture of a watched URL as the store keeps it, with what verification found."""

    watched_id: str = ""
    source: str = ""  # how it was learned: cdx, memento, spn
    found_at: str = ""
    verified: bool | None = None  # None: not judged yet; False: judged and not offered
    verify_note: str = ""


@dataclass(frozen=True)
class OutboxRow:
    """A capture request of a watched URL's version, where it stands."""

    id: int
    watched_id: str
    url: str
    version_hash: str
    state: OutboxState = OutboxState.QUEUED
    job_id: str = ""
    attempts: int = 0
    next_try: str = ""
    reason: str = ""
    capture_url: str = ""
    capture_timestamp: str = ""
    created_at: str = ""
    updated_at: str = ""
    submitted_at: str = ""


@dataclass(frozen=True)
class ProbeRow:
    """A site's answer to a URL that cannot exist, as kept for `probe_days`."""

    site: str
    url: str
    status: int | None
    text: str
    probed_at: str


@dataclass(frozen=True)
class ReviewRow:
    """An editor's decision as kept: made on a citation of an article (`not_rot` holds for every
    citation of its watched URL: rot is the page's), on the content in force then; undone decisions
    stay, with who undid them and when."""

    id: int
    article: str
    citation_id: str
    watched_id: str
    decision: Decision
    at: str
    by: str
    note: str = ""
    version_hash: str = ""
    rot_kind: str = ""
    undone_at: str | None = None
    undone_by: str = ""
