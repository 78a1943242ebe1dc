"""Frozen records shared by every stage. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class Citation:
    """A URL an article cites: its footnote id, the claim citing it, when it was cited."""

    id: str
    url: str
    claim: str = ""
    cited_at: str = ""  # ISO date, as written in sources.csv; empty when unknown
    expect: tuple[str, ...] = ()  # phrases the source must keep
    interval: str = ""  # per-citation check interval, e.g. "6h"
    line: int = 0  # line in sources.csv, for messages
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


class Outcome(StrEnum):
    """What one fetch came to, before any verdict is drawn from it."""

    OK = "ok"  # a 2xx response with a body
    NOT_MODIFIED = "not_modified"  # 304 to a conditional request
    HTTP_ERROR = "http_error"  # a 4xx or 5xx status
    DNS_ERROR = "dns_error"
    CONNECT_ERROR = "connect_error"  # refused, unreachable
    RESET = "reset"  # connection dropped mid-exchange
    TLS_ERROR = "tls_error"
    TIMEOUT = "timeout"
    REDIRECT_LOOP = "redirect_loop"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    TOO_LARGE = "too_large"  # body (after decompression) or headers over the cap
    REFUSED_ADDRESS = "refused_address"  # the address guard refused the resolved address
    BAD_URL = "bad_url"  # unsupported scheme or unparseable URL
    PROTOCOL_ERROR = "protocol_error"  # the server spoke broken HTTP
    EXTRACT_TIMEOUT = "extract_timeout"  # the page came, its text took too long to extract: not rot
    EXTRACT_FAILED = "extract_failed"  # the page came, the extraction worker died on it: not rot

    @property
    def before_http(self) -> bool:
        """The failure happened before any HTTP exchange: what a machine without network sees."""
        return self in {Outcome.DNS_ERROR, Outcome.CONNECT_ERROR}


class FetchedBy(StrEnum):
    """Which fetcher produced a FetchResult."""

    HTTP = "http"  # archiver.fetch: the page as served
    BROWSER = "browser"  # archiver.browser: the page's DOM after its scripts ran


class BrowserMode(StrEnum):
    """When the headless browser fetches a page (ARCHIVER_BROWSER)."""

    NEVER = "never"
    AUTO = "auto"  # only pages whose HTML is a JavaScript shell or a challenge a browser passes
    ALWAYS = "always"

    @classmethod
    def _missing_(cls, value: object) -> BrowserMode:
        text = str(value).strip().lower()
        for mode in cls:
            if mode.value == text:
                return mode
        raise ValueError("must be never, auto or always")


@dataclass(frozen=True)
class Hop:
    """One response in a redirect chain."""

    url: str
    status: int
    location: str = ""
    # what was sent and received, for the WARC records of the chain; not part of a hop's identity
    headers: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    request_headers: tuple[tuple[str, str], ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Validators:
    """What makes the next request conditional."""

    etag: str = ""
    last_modified: str = ""


@dataclass(frozen=True)
class FetchResult:
    """Everything one fetch learned, success or failure."""

    url: str
    outcome: Outcome
    started_at: datetime
    final_url: str = ""
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    redirects: tuple[Hop, ...] = ()  # every 3xx hop, in order
    error: str = ""
    elapsed_ms: int = 0
    request_headers: tuple[tuple[str, str], ...] = ()  # what the last request sent, for WARC
    fetched_by: FetchedBy = FetchedBy.HTTP

    def header(self, name: str) -> str:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), "")

    @property
    def content_type(self) -> str:
        return self.header("content-type").split(";")[0].strip().lower()

    @property
    def validators(self) -> Validators:
        return Validators(self.header("etag"), self.header("last-modified"))


@dataclass(frozen=True)
class Extraction:
    """The main text and metadata of a page; empty fields rather than None."""

    text: str = ""
    title: str = ""
    author: str = ""
    date: str = ""
    language: str = ""
    description: str = ""
    sitename: str = ""
    canonical_url: str = ""
    extracted: bool = False  # False when the body held no extractable text
    note: str = ""  # why extraction failed or fell back

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True)
class CheckRecord:
    """What the store kept of one check."""

    id: int
    citation_id: str
    checked_at: str
    outcome: Outcome
    http_status: int | None
    final_url: str
    version_hash: str
    new_version: bool
    error: str
    pass_id: int | None = None


@dataclass(frozen=True)
class VersionRecord:
    """A distinct content of a citation, identified by the hash of its text."""

    citation_id: str
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

    @property
    def raw_hash(self) -> str:
        """SHA-256 of the body as served (the raw file is named by it)."""
        return self.raw_path.rsplit("/", 1)[-1].removesuffix(".gz")


@dataclass(frozen=True)
class CheckSummary:
    """One line of a pass's summary: the citation, its outcome, and whether the content changed."""

    citation: Citation
    outcome: Outcome
    http_status: int | None
    final_url: str
    new_version: bool
    version_hash: str
    title: str
    error: str
    elapsed_ms: int
    verdict: str = ""  # what the detectors found, in words: "ok", "rotten: soft 404", "paywalled: hard"...


@dataclass
class ArchiveSummary:
    """What one archiving run did: captures found, submissions made, captures verified."""

    found: int = 0  # captures learned from the CDX API and Memento endpoints
    queued: int = 0
    done: int = 0
    retried: int = 0
    failed: int = 0
    pending: int = 0
    verified: int = 0
    rejected: int = 0
    quota: dict[str, Any] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)  # archives found down in this run, with why
    budget_spent: bool = False  # the step stopped at ARCHIVER_ARCHIVE_BUDGET; the rest waits


@dataclass(frozen=True)
class PassSummary:
    """The result of one `check` pass."""

    pass_id: int
    started_at: str
    finished_at: str
    checks: tuple[CheckSummary, ...]
    offline: bool
    changes: tuple[StatusChange, ...] = ()
    archive: ArchiveSummary | None = None
    interrupted: bool = False  # stopped (SIGTERM) before every citation was checked

    @property
    def new_versions(self) -> int:
        return sum(c.new_version for c in self.checks)


@dataclass(frozen=True)
class CheckVerdicts:
    """What the detectors said of one check, as the store keeps it."""

    signal: str = ""  # kind of failure; "" when healthy
    severity: str = "healthy"  # healthy, transient, permanent, blocked
    evidence: str = ""
    moved_to: str = ""
    paywall: str = ""  # hard, metered, registration, none; "" when there was no page to judge
    paywall_evidence: tuple[str, ...] = ()
    paywall_truncated: bool = False  # the paywall cut the text: drift is not judged on it


@dataclass(frozen=True)
class VersionDrift:
    """How a new version compares with the baseline and the previous version, and what it says of the claim."""

    baseline_hash: str = ""
    drift_class: str = "unchanged"
    score: float = 1.0
    changes: tuple[str, ...] = ()
    previous_class: str = "unchanged"
    previous_score: float = 1.0
    claim_facts: tuple[str, ...] = ()
    claim_found: tuple[str, ...] = ()
    claim_missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class StatusChange:
    """A citation's health status moved: what alerts are made of."""

    citation_id: str
    url: str
    at: str
    old: str
    new: str
    evidence: str
