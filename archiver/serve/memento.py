"""The Memento endpoint of `archiver serve` (RFC 7089): a TimeMap of a watched URL's versions, a
TimeGate that redirects to the version in force at `Accept-Datetime`, and each version replayed as
stored with `Memento-Datetime` and `Link` headers, under a sandboxing Content-Security-Policy."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote

from archiver.archive.memento import format_http_date
from archiver.archive.selection import version_in_force
from archiver.models.rows import CitationRow, VersionRow
from archiver.models.time import parse_stamp, timestamp
from archiver.store import Store

REPLAY_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
Answer = tuple[int, dict[str, str], bytes]


def memento_stamp(version: VersionRow) -> str:
    return timestamp(when(version))


def when(version: VersionRow) -> datetime:
    """A memento's datetime: when the version was first seen, to the second."""
    return parse_stamp(version.first_seen).astimezone(UTC).replace(microsecond=0)


class Archive:
    """What the web application reads: the store, opened per request (SQLite connections are per thread)."""

    def __init__(self, data_dir: Path, base: str, article: str | None = None, database_url: str = "") -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.base = base.rstrip("/")
        self.article = article  # the report is this article's only

    def open(self) -> Store:
        return Store.open(self.data_dir, read_only=True, database_url=self.database_url)

    def links(self, url: str) -> str:
        return (
            f'<{url}>; rel="original", <{self.base}/timegate/{url}>; rel="timegate", '
            f'<{self.base}/timemap/link/{url}>; rel="timemap"; type="application/link-format"'
        )


def text(status: int, message: str) -> Answer:
    return status, {"Content-Type": "text/plain; charset=utf-8"}, (message + "\n").encode()


def _versions_of(store: Store, url: str) -> tuple[CitationRow, list[VersionRow]] | None:
    row = store.citation(url)
    if row is None or row.key == url:
        return None
    return row, store.versions(row.watched_id or row.id)


def timemap(archive: Archive, url: str) -> Answer:
    with archive.open() as store:
        found = _versions_of(store, url)
    if not found or not found[1]:
        return text(404, f"no mementos of {url}")
    row, versions = found
    original = row.url
    lines = [
        f'<{original}>; rel="original"',
        f'<{archive.base}/timegate/{original}>; rel="timegate"',
        f'<{archive.base}/timemap/link/{original}>; rel="self"; type="application/link-format"; '
        f'from="{format_http_date(when(versions[0]))}"; until="{format_http_date(when(versions[-1]))}"',
    ]
    for n, v in enumerate(versions):
        rel = "memento"
        if n == 0:
            rel = "first memento" if len(versions) > 1 else "first last memento"
        elif n == len(versions) - 1:
            rel = "last memento"
        lines.append(
            f'<{archive.base}/memento/{memento_stamp(v)}/{original}>; rel="{rel}"; '
            f'datetime="{format_http_date(when(v))}"'
        )
    return 200, {"Content-Type": "application/link-format"}, (",\n".join(lines) + "\n").encode()


def timegate(archive: Archive, url: str, wanted: str | None) -> Answer:
    try:
        at = parsedate_to_datetime(wanted).astimezone(UTC) if wanted else None
    except (TypeError, ValueError, OverflowError):
        shown = (wanted or "")[:60]
        return text(400, f"Accept-Datetime {shown!r} is not an RFC 1123 date within years 1 to 9999")
    with archive.open() as store:
        found = _versions_of(store, url)
        checks = store.checks(found[0].watched_id or found[0].id) if found else []
    if not found or not found[1]:
        return text(404, f"no mementos of {url}")
    row, versions = found
    # the version in force then; before our first check, the first memento (RFC 7089)
    chosen = version_in_force(checks, versions, at) or versions[0]
    location = f"{archive.base}/memento/{memento_stamp(chosen)}/{row.url}"
    headers = {
        "Location": location,
        "Vary": "accept-datetime",
        "Link": archive.links(row.url),
        "Content-Type": "text/plain; charset=utf-8",
    }
    return 302, headers, b""


def memento(archive: Archive, rest: str) -> Answer:
    stamp, _, url = rest.partition("/")
    url = unquote(url) if "%" in url.split("?")[0] else url
    if len(stamp) != 14 or not stamp.isdigit():
        return text(400, "a memento URL is /memento/{YYYYMMDDhhmmss}/{url}")
    with archive.open() as store:
        found = _versions_of(store, url)
        if not found:
            return text(404, f"no mementos of {url}")
        row, versions = found
        version = next((v for v in versions if memento_stamp(v) == stamp), None)
        if version is None:
            return text(404, f"no memento of {url} at {stamp}; see the TimeMap")
        stored = store.response(version)
    headers = {
        "Content-Type": stored.header("content-type") or "text/html",
        "Memento-Datetime": format_http_date(when(version)),
        "Link": archive.links(row.url) + f", <{archive.base}/memento/{stamp}/{row.url}>; "
        f'rel="memento"; datetime="{format_http_date(when(version))}"',
        "Content-Security-Policy": REPLAY_CSP,
    }
    return 200, headers, stored.body
