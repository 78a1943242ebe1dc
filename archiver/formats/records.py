"""The records every citation format shares: a parsed citation with where it is written, the archived
copy to write back, and what a write-back did. Pure: no I/O."""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from archiver.errors import SourceError
from archiver.models import Citation
from archiver.urls import canonical, host_of, is_http_url, mangled, same_page, tracking_params, why_unfetchable


class Format(StrEnum):
    """The formats an article or a bibliography arrives in."""

    TEXT = "text"
    MARKDOWN = "markdown"
    HTML = "html"
    BIBTEX = "bibtex"
    CSL_JSON = "csl-json"
    WIKITEXT = "wikitext"


class LinkStatus(StrEnum):
    """What an archived copy says of the original link, as Wikipedia's `url-status` spells it."""

    LIVE = "live"
    DEAD = "dead"
    USURPED = "usurped"  # the domain now serves something else: show only the archived copy


@dataclass(frozen=True)
class Limits:
    """Bounds on one input: beyond them a file is refused, named, before it is parsed whole."""

    max_bytes: int = 16 * 1024 * 1024  # 16 MiB: a 20,000-entry Zotero export is about 10 MiB
    max_citations: int = 20_000


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class ImportWarning:
    """Something a careful editor would catch; it never stops an import."""

    kind: str  # missing_reference, uncited_reference, mangled_url, duplicate_url, tracking_params,
    # url_too_long, unfetchable_url, claim_clipped
    message: str
    line: int = 0
    citation_id: str = ""
    suggestion: str = ""


@dataclass
class ImportResult:
    """The citations of an article as `archiver import` merges them, and the editor's warnings."""

    citations: list[Citation] = field(default_factory=list)
    warnings: list[ImportWarning] = field(default_factory=list)


SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[«\"“'‘(\[]?\s*[A-ZÀ-ÖØ-Þ0-9])")
# where the link a sentence carries stood in it, while its text is read (U+2060 does not occur in prose)
LINK_MARK = re.compile(r"\s?\u2060L(\d+)\u2060")


def split_sentences(paragraph: str) -> list[str]:
    return [s.strip() for s in SENTENCE_END.split(paragraph.strip()) if s.strip()]


def link_id(url: str) -> str:
    """A stable id for a citation that has no footnote number: from its canonical URL."""
    return "u-" + hashlib.sha1(canonical(url).encode("utf-8")).hexdigest()[:8]


def url_warnings(citations: list[Citation]) -> list[ImportWarning]:
    """Tracking parameters and duplicates: noted, never silently changed."""
    warnings = []
    first: dict[str, str] = {}
    for c in citations:
        problem, suggestion = mangled(c.url)
        if problem:
            warnings.append(
                ImportWarning(
                    "mangled_url",
                    f"[{c.id}] URL looks mangled ({problem}): {c.url!r}; did you mean {suggestion!r}? "
                    + ("(left out: fix it in the article)" if why_unfetchable(c.url) else "(kept as written)"),
                    c.line,
                    c.id,
                    suggestion,
                )
            )
        params = tracking_params(c.url)
        if params:
            warnings.append(
                ImportWarning(
                    "tracking_params",
                    f"[{c.id}] carries tracking parameter(s) {', '.join(params)}; "
                    f"kept as cited, canonical form {canonical(c.url)}",
                    c.line,
                    c.id,
                    canonical(c.url),
                )
            )
        key = canonical(suggestion or c.url)  # a mangled copy of a URL is still the same page
        if key in first:
            warnings.append(
                ImportWarning("duplicate_url", f"[{c.id}] cites the same page as [{first[key]}]", c.line, c.id)
            )
        else:
            first[key] = c.id
    return warnings


@dataclass(frozen=True)
class Span:
    """Where something is written: character offsets [start, end) in the text it was read from."""

    start: int
    end: int


@dataclass(frozen=True)
class KnownCapture:
    """An archived copy the file already names (a wikitext `archive-url`, a CSL `archive_location`, …)."""

    url: str
    date: str = ""  # ISO date as read, "" when the file gives none
    status: str = ""  # the file's own url-status, as written


@dataclass(frozen=True)
class ParsedCitation:
    """One citation as a format gives it: enough to import it, and where it sits for writing back."""

    id: str
    url: str
    title: str = ""
    cited_at: str = ""  # ISO date from urldate / accessed / access-date; "" when unknown
    claim: str = ""
    line: int = 0  # 1-based line of its first occurrence, for messages
    source: str = ""  # what it was read from: "cite web", "@online", "webpage", "footnote", "link", …
    spans: tuple[Span, ...] = ()  # every place in the text that writes it
    known_captures: tuple[KnownCapture, ...] = ()

    def as_citation(self) -> Citation:
        return Citation(self.id, self.url, self.claim, self.cited_at, line=self.line)


@dataclass(frozen=True)
class ParsedArticle:
    """Every citation of one file, in reading order, and what a careful editor should know about it."""

    format: Format
    citations: tuple[ParsedCitation, ...]
    warnings: tuple[ImportWarning, ...] = ()

    def as_import_result(self) -> ImportResult:
        """The shape `archiver import` merges into sources.csv."""
        return ImportResult([c.as_citation() for c in self.citations], list(self.warnings))

    def by_id(self) -> dict[str, ParsedCitation]:
        return {c.id: c for c in self.citations}


@dataclass(frozen=True)
class ArchivedCopy:
    """A citation's best verified archived copy, and what it says of the original link."""

    capture_url: str
    captured_at: datetime
    original_url: str
    status: LinkStatus = LinkStatus.LIVE

    @property
    def day(self) -> str:
        """The capture's date, ISO (what Robust Links' data-versiondate and the report show)."""
        return self.captured_at.date().isoformat()


class LeftReason(StrEnum):
    NO_COPY = "no verified archived copy"
    ALREADY_ARCHIVED = "already names an archived copy"
    OTHER_URL = "the archived copy is of another URL"
    FIELDS_TAKEN = "the fields that would carry the copy already hold something else"
    NOT_WRITABLE = "this form of citation cannot carry an archived copy"


@dataclass(frozen=True)
class Left:
    """A citation a write-back left as it was, and why."""

    id: str
    url: str
    reason: LeftReason


@dataclass(frozen=True)
class Annotated:
    """An article with archived copies written back, and the citations left as they were."""

    text: str
    format: Format
    written: tuple[str, ...] = ()  # citation ids that got their archived copy
    left: tuple[Left, ...] = ()


@dataclass(frozen=True)
class Insertion:
    """Text to add at one offset of the original: the only kind of change a write-back makes,
    except a bare wikitext link turned into a template when asked."""

    at: int
    text: str
    end: int = -1  # when >= 0, the original [at, end) is replaced


def apply(text: str, insertions: Iterable[Insertion]) -> str:
    """The text with every insertion made; offsets refer to the original text."""
    out: list[str] = []
    cursor = 0
    for ins in sorted(insertions, key=lambda i: i.at):
        if ins.at < cursor:
            raise ValueError(f"overlapping write-back at offset {ins.at}")
        out.append(text[cursor : ins.at])
        out.append(ins.text)
        cursor = ins.end if ins.end >= 0 else ins.at
    out.append(text[cursor:])
    return "".join(out)


class Lines:
    """Line numbers of character offsets in one text, and back (a bisect, not a count per call)."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        """1-based line of a character offset."""
        return bisect.bisect_right(self.starts, offset)

    def start(self, line: int) -> int:
        """Offset of the first character of a 1-based line."""
        return self.starts[min(max(line, 1), len(self.starts)) - 1]


# --- ids ----------------------------------------------------------------------------------------------

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # what sources.csv accepts
_NOT_ID = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class IdAllocator:
    """Turns a format's own key (a BibTeX key, a CSL id, a ref name) into a citation id sources.csv
    accepts, unique within the file; the same key and URL always give the same id."""

    taken: dict[str, str] = field(default_factory=dict)  # id -> url

    def allocate(self, key: str, url: str) -> str:
        if is_http_url(key):  # a Zotero item URI: its last segment is the item's key
            key = key.rstrip("/").rsplit("/", 1)[-1]
        wanted = key if _ID.match(key) else _NOT_ID.sub("-", key).strip("-._")[:64].strip("-._")
        if not wanted or not _ID.match(wanted):
            wanted = link_id(url)
        candidate, n = wanted, 1
        while candidate in self.taken and self.taken[candidate] != url:
            n += 1
            candidate = f"{wanted[:60]}-{n}"
        self.taken[candidate] = url
        return candidate


def check_size(text: str, name: str, limits: Limits) -> None:
    """Refuse a text past the byte bound before any parser sees it."""
    size = len(text.encode("utf-8"))
    if size > limits.max_bytes:
        raise SourceError(name, [(None, f"{size:,} bytes, over the limit of {limits.max_bytes:,}")])


def check_count(count: int, name: str, limits: Limits) -> None:
    if count > limits.max_citations:
        raise SourceError(name, [(None, f"{count:,} citations, over the limit of {limits.max_citations:,}")])


def decide(citation: ParsedCitation, copies: Mapping[str, ArchivedCopy]) -> ArchivedCopy | Left:
    """Whether a citation gets its archived copy written back: the rule every format follows."""
    copy = copies.get(citation.id)
    if copy is None:
        return Left(citation.id, citation.url, LeftReason.NO_COPY)
    if not same_page(copy.original_url, citation.url):
        return Left(citation.id, citation.url, LeftReason.OTHER_URL)
    if citation.known_captures:
        return Left(citation.id, citation.url, LeftReason.ALREADY_ARCHIVED)
    return copy


def archive_name(capture_url: str) -> str:
    """The archive a capture lives in, as a bibliography names it."""
    host = host_of(capture_url).removeprefix("www.")
    if host in {"web.archive.org", "wayback.archive.org"}:
        return "Internet Archive"
    if host in {"archive.today", "archive.ph", "archive.is", "archive.li", "archive.md", "archive.vn"}:
        return "archive.today"
    return host


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def classify_cited_url(url: str) -> tuple[str, str]:
    """What an article's cited URL is to the archiver: ("", "") a URL it watches; ("skip", why) a
    citation of another scheme (ftp:, mailto:, doi:, …), which it cannot watch, never an error;
    ("error", why) text that `check` could not fetch (`urls.why_unfetchable`: not a URL, a space,
    a bad port…), which is a malformed file."""
    scheme = _SCHEME.match(url)
    if scheme and scheme.group(1).lower() not in {"http", "https"} and not any(ch.isspace() for ch in url):
        return "skip", f"{url!r} is a {scheme.group(1).lower()}: URL, which the archiver cannot watch; skipped"
    problem = why_unfetchable(url)
    return ("error", f"{url!r} {problem}") if problem else ("", "")
