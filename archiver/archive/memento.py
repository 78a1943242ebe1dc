"""The Memento protocol (RFC 7089): link-format TimeMaps, TimeGates, and the archives their mementos
live in. A Memento aggregator (the Time Travel service of the Memento project) answers for every
public web archive at once; any single TimeGate or TimeMap, our own `archiver serve` included,
answers the same way for its own holdings.

This module is the protocol, pure: reading link format (RFC 8288) lives here once (the Wayback
Machine's answers to a capture request carry the same `Link` header and are read with the same
parser), and so do HTTP dates; `aggregator` asks the endpoints, `archiver serve` answers as one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

from archiver.models.time import timestamp

# Well-known archives by host, so a report names the archive rather than a machine.
ARCHIVE_NAMES = {
    "web.archive.org": "wayback",
    "wayback.archive.org": "wayback",
    "archive.today": "archive.today",
    "archive.ph": "archive.today",
    "archive.is": "archive.today",
    "archive.li": "archive.today",
    "archive.vn": "archive.today",
    "archive.fo": "archive.today",
    "archive.md": "archive.today",
    "arquivo.pt": "Arquivo.pt",
    "www.webarchive.org.uk": "UK Web Archive",
    "webarchive.org.uk": "UK Web Archive",
    "webarchive.loc.gov": "Library of Congress",
    "webarchive.nationalarchives.gov.uk": "UK Government Web Archive",
    "wayback.archive-it.org": "Archive-It",
    "perma.cc": "Perma.cc",
    "perma-archives.org": "Perma.cc",
    "webarchive.nla.gov.au": "Australian Web Archive",
    "swap.stanford.edu": "Stanford Web Archive",
    "wayback.vefsafn.is": "Icelandic Web Archive",
}
_TOKEN = re.compile(r"[^\s=;,\"]+")


@dataclass(frozen=True)
class Link:
    """One link of a link-format document or `Link` header: target, relations, other parameters."""

    url: str
    rels: tuple[str, ...] = ()
    params: tuple[tuple[str, str], ...] = ()

    def param(self, name: str) -> str:
        return next((v for k, v in self.params if k == name), "")

    @property
    def datetime(self) -> datetime | None:
        return http_date(self.param("datetime"))


def parse_links(text: str) -> list[Link]:
    """Every link in a link-format text (a `Link` header or a TimeMap), in one linear pass.
    Relations are split on spaces (`rel="first memento"` is both `first` and `memento`); commas and
    semicolons inside quotes or angle brackets are data. Malformed pieces are skipped, never fatal."""
    links: list[Link] = []
    i, n = 0, len(text)
    while i < n:
        start = text.find("<", i)
        if start < 0:
            break
        end = text.find(">", start + 1)
        if end < 0:
            break
        url = text[start + 1 : end].strip()
        i = end + 1
        rels: tuple[str, ...] = ()
        params: list[tuple[str, str]] = []
        while i < n:
            while i < n and text[i] in " \t\r\n":
                i += 1
            if i >= n or text[i] == ",":
                i += 1
                break
            if text[i] != ";":
                i = _skip_to_next_link(text, i)
                break
            i += 1
            while i < n and text[i] in " \t\r\n":
                i += 1
            match = _TOKEN.match(text, i)
            if not match:
                continue
            name = match.group(0).lower()
            i = match.end()
            value = ""
            while i < n and text[i] in " \t":
                i += 1
            if i < n and text[i] == "=":
                i += 1
                while i < n and text[i] in " \t":
                    i += 1
                if i < n and text[i] == '"':
                    close = text.find('"', i + 1)
                    close = n if close < 0 else close
                    value, i = text[i + 1 : close], close + 1
                else:
                    token = _TOKEN.match(text, i)
                    value = token.group(0) if token else ""
                    i = token.end() if token else i
            if name == "rel":
                rels = tuple(value.lower().split())
            else:
                params.append((name, value))
        if url:
            links.append(Link(url, rels, tuple(params)))
    return links


def _skip_to_next_link(text: str, i: int) -> int:
    """Past the next comma that is outside quotes: the rest of a malformed link is dropped."""
    quoted = False
    while i < len(text):
        if text[i] == '"':
            quoted = not quoted
        elif text[i] == "," and not quoted:
            return i + 1
        i += 1
    return i


def http_date(value: str) -> datetime | None:
    """An RFC 1123 date (`Sat, 02 Jan 2021 09:40:09 GMT`) as an aware datetime; None when unreadable."""
    if not value.strip():
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def format_http_date(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)


@dataclass(frozen=True)
class Memento:
    """An archived copy of a page, as a TimeMap or TimeGate names it."""

    url: str  # URI-M: where the archive replays it
    when: datetime
    archive: str

    @property
    def timestamp(self) -> str:
        return timestamp(self.when)


def archive_name(url: str) -> str:
    """The archive a memento lives in: a known name, else its host."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return ARCHIVE_NAMES.get(host) or parts.netloc.lower() or "unknown archive"


def mementos_in(links: Sequence[Link]) -> list[Memento]:
    """The links that are mementos (any relation including `memento`) with a readable datetime."""
    out: dict[str, Memento] = {}
    for link in links:
        when = link.datetime
        if "memento" in link.rels and when is not None and link.url.startswith(("http://", "https://")):
            out.setdefault(link.url, Memento(link.url, when, archive_name(link.url)))
    return list(out.values())
