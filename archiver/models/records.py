"""The records of fetching and extracting: a citation as listed, a fetch's result, a page's text. No I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from archiver.models.enums import FetchedBy, Outcome
from archiver.models.time import parse_date

LIST_ARTICLE = "sources"
"""The id of the citation list's own article: its rows with no `article` cell (every row of a list made
before articles existed, so that such a list is one article and keeps working unchanged)."""

Headers = tuple[tuple[str, str], ...]
"""Header names and values as they were on the wire, in order."""


def header(headers: Headers, name: str) -> str:
    """The first value of a header, whatever the case of its name ("" when absent)."""
    name = name.lower()
    return next((v for k, v in headers if k.lower() == name), "")


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
    article: str = LIST_ARTICLE  # the article citing it; its `id` is unique within that article

    @property
    def key(self) -> str:
        """How a citation is named across a publication: its id in the list's own article (as before
        articles existed), `ARTICLE:ID` in any other."""
        return citation_key(self.article, self.id)

    @property
    def cited(self) -> datetime | None:
        """The date it was cited, as a moment (midnight UTC of a bare date); None when unknown."""
        try:
            return parse_date(self.cited_at) if self.cited_at else None
        except ValueError:
            return None


def citation_key(article: str, citation_id: str) -> str:
    """See `Citation.key`: the one rule that names a citation across a publication."""
    return citation_id if article == LIST_ARTICLE else f"{article}:{citation_id}"


_LEADING_NUMBER = re.compile(r"\d+")


def footnote_order(citation: Citation) -> tuple[int, str]:
    """Citations in footnote order: by the number an id begins with (2 before 10; none counts as 0),
    then by the id."""
    number = _LEADING_NUMBER.match(citation.id)
    return (int(number.group()) if number else 0, citation.id)


@dataclass(frozen=True)
class Article:
    """One article of a publication: its id (from its file name or URL), its title, where it was read
    from (a file or a URL), the day it was published ("" when unknown) and its format."""

    id: str
    title: str = ""
    source: str = ""
    published: str = ""
    format: str = ""


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
        return header(self.headers, name)

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
