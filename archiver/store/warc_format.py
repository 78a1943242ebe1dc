"""WARC 1.1 records of what was fetched, written with warcio, so any web-archive tool can read our
snapshots. A new version becomes an *exchange*: the final `response` and its `request`, then a
`response` and a `request` for every redirect that led to it (the 3xx answers too, so a replay tool
asked for the cited URL finds it and follows the chain). Each record is its own gzip member; each
file begins with a `warcinfo` record that names it. Unchanged checks add nothing.

The body is stored as it was delivered after transfer and content decoding (that is what the
fetcher keeps, bounded); the response's `Content-Encoding` and `Transfer-Encoding` are then moved to
`X-Archive-Orig-*` headers and `Content-Length` set to the stored length, as web archives do, so a
replay is self-consistent.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import BinaryIO, TypeVar
from urllib.parse import urlsplit

from isal import isal_zlib
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver.models import FetchResult

T = TypeVar("T")

_MOVED = {"content-encoding", "transfer-encoding", "content-length"}
SOFTWARE = "citation-archiver"


# Each record is a gzip member made by ISA-L (python-isal), the compressor the WARC is the only copy
# of a body in: on the shared corpus of real news pages (293 KB a page) level 2 takes 0.4 ms a page
# for 21% of the size, where zlib takes 4.7 ms at level 6 for 18% (warcio's own level 9: 7.4 ms).
# Any gzip reader (warcio, zlib, pywb) reads the members.
GZIP_LEVEL = 2


@dataclass(frozen=True)
class PackedExchange:
    """An exchange's records, compressed, ready to append to a WARC file (see `pack_exchange`):
    `offset` of the final response within `data`, `length` of the whole exchange."""

    data: bytes
    offset: int
    length: int


def _write_member(out: BinaryIO, writer: WARCWriter, record: object) -> None:
    buffer = io.BytesIO()
    writer.out = buffer
    writer.write_record(record)
    compressor = isal_zlib.compressobj(GZIP_LEVEL, isal_zlib.DEFLATED, isal_zlib.MAX_WBITS + 16)
    out.write(compressor.compress(buffer.getbuffer()) + compressor.flush())


def write_warcinfo(out: BinaryIO, filename: str, description: str = "") -> None:
    """The record a WARC file begins with: what wrote it and the file's own name."""
    writer = WARCWriter(out, gzip=False, warc_version="WARC/1.1")
    info = {"software": SOFTWARE, "format": "WARC File Format 1.1", "description": description}
    _write_member(out, writer, writer.create_warcinfo_record(filename, info))


def write_exchange(out: BinaryIO, fetched: FetchResult, user_agent: str) -> tuple[int, int]:
    """Append the final response, its request, then each redirect's response and request, each its
    own gzip member; returns (offset of the final response, length of the whole exchange)."""
    writer = WARCWriter(out, gzip=False, warc_version="WARC/1.1")
    date = _warc_date(fetched.started_at)
    target = fetched.final_url or fetched.url
    offset = out.tell()
    records = _pair(
        writer, target, fetched.status or 200, fetched.headers, fetched.body, fetched.request_headers, date, user_agent
    )
    for hop in fetched.redirects:
        headers = hop.headers or (("Location", hop.location),)
        records += _pair(writer, hop.url, hop.status, headers, b"", hop.request_headers, date, user_agent)
    for record in records:
        _write_member(out, writer, record)
    return offset, out.tell() - offset


def pack_exchange(fetched: FetchResult, user_agent: str) -> PackedExchange:
    """`write_exchange` into memory: the one compression of a new version's body, done where there is
    CPU to spare (an extraction worker), appended to the WARC file as it is."""
    buffer = io.BytesIO()
    offset, length = write_exchange(buffer, fetched, user_agent)
    return PackedExchange(buffer.getvalue(), offset, length)


def _pair(
    writer: WARCWriter,
    target: str,
    status: int,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    request_headers: Sequence[tuple[str, str]],
    date: str,
    user_agent: str,
) -> list[object]:
    response_headers = [(k, v) for k, v in headers if k.lower() not in _MOVED]
    response_headers += [(f"X-Archive-Orig-{k}", v) for k, v in headers if k.lower() in _MOVED]
    response_headers.append(("Content-Length", str(len(body))))
    http = StatusAndHeaders(f"{status} {_reason(status)}", response_headers, protocol="HTTP/1.1")
    response = writer.create_warc_record(
        target,
        "response",
        payload=io.BytesIO(body),
        length=len(body),  # known: warcio then reads the body where it is, without spooling a copy
        http_headers=http,
        warc_headers_dict={"WARC-Date": date},
    )
    parts = urlsplit(target)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    sent = list(request_headers) or [("Host", parts.netloc), ("User-Agent", user_agent)]
    request = writer.create_warc_record(
        target,
        "request",
        payload=io.BytesIO(b""),
        http_headers=StatusAndHeaders(f"GET {path} HTTP/1.1", sent, is_http_request=True),
        warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")},
    )
    return [response, request]


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "OK" if 200 <= status < 300 else "Unknown"


def read_response(path: Path, offset: int) -> tuple[str, list[tuple[str, str]], bytes, str]:
    """The response stored at `offset`: status line, headers, body, and its WARC-Date. Raises OSError,
    or ValueError when the record is damaged or not there."""
    return _response_at(
        path,
        offset,
        lambda record: (
            record.http_headers.statusline,
            list(record.http_headers.headers),
            record.content_stream().read(),
            record.rec_headers.get_header("WARC-Date"),
        ),
    )


def raw_response(path: Path, offset: int) -> bytes:
    """The stored HTTP response, status line and headers and body, as a replay would send it. Raises
    OSError, or ValueError when the record is damaged or not there."""

    def read(record: ArcWarcRecord) -> bytes:
        head: bytes = record.http_headers.to_bytes()
        body: bytes = record.content_stream().read()
        return head + body

    return _response_at(path, offset, read)


def _response_at(path: Path, offset: int, read: Callable[[ArcWarcRecord], T]) -> T:
    """`read` of the response record at `offset`; every way a damaged record fails is a ValueError."""
    try:
        with path.open("rb") as stream:
            stream.seek(offset)
            for record in ArchiveIterator(stream):
                if record.rec_type == "response":
                    if record.http_headers is None:  # damaged bytes can still inflate to a record without them
                        raise ArchiveLoadFailed("its HTTP status line and headers are missing")
                    return read(record)
                break
    except (EOFError, zlib.error, ArchiveLoadFailed) as exc:
        raise ValueError(f"the WARC record at offset {offset} of {path} cannot be read: {exc}") from None
    raise ValueError(f"no response record at offset {offset} of {path}")


def check_exchange(path: Path, offset: int, length: int) -> str:
    """Read every record of an exchange, checking its digests and that it ends where the store
    says: "" when all is well, else what is wrong."""
    try:
        with path.open("rb") as stream:
            if stream.seek(0, 2) < offset + length:
                return f"the file ends before the record does ({offset + length} bytes expected)"
            stream.seek(offset)
            iterator = ArchiveIterator(stream, check_digests=True)
            end = offset
            for count, record in enumerate(iterator):
                if end >= offset + length:
                    break
                record.content_stream().read()
                checker = record.digest_checker
                if checker is not None and checker.passed is False:
                    return f"a {record.rec_type} record fails its digest ({'; '.join(checker.problems)[:200]})"
                if count == 0 and record.rec_type != "response":
                    return f"the record at offset {offset} is a {record.rec_type}, not a response"
                if count == 0 and record.http_headers is None:
                    return "its HTTP status line and headers are missing"
                end = iterator.get_record_offset() + iterator.get_record_length()
    except (OSError, EOFError, zlib.error, ArchiveLoadFailed, ValueError) as exc:
        return f"cannot be read ({type(exc).__name__}: {exc})"
    if end != offset + length:
        return f"the exchange ends at {end}, not at {offset + length} as the store says"
    return ""


def exchange_length(path: Path, offset: int) -> int:
    """How long the exchange starting at `offset` is: the response and the records that belong to
    it (its request, then a redirect's response and request each), up to the next exchange."""
    with path.open("rb") as stream:
        stream.seek(offset)
        iterator = ArchiveIterator(stream)
        end = offset
        for n, record in enumerate(iterator):
            record.content_stream().read()
            if n > 0 and record.rec_type == "response" and not _is_redirect(record):
                break
            if n > 0 and record.rec_type not in ("response", "request"):
                break
            end = iterator.get_record_offset() + iterator.get_record_length()
    return end - offset


def _is_redirect(record: object) -> bool:
    statusline = getattr(getattr(record, "http_headers", None), "statusline", "") or ""
    return statusline[:1] == "3"


def first_record_end(path: Path) -> int:
    """Where the file's leading warcinfo record ends (0 when it does not begin with one)."""
    with path.open("rb") as stream:
        iterator = ArchiveIterator(stream)
        for record in iterator:
            if record.rec_type != "warcinfo":
                return 0
            record.content_stream().read()
            end: int = iterator.get_record_offset() + iterator.get_record_length()
            return end
    return 0


def copy_records(sources: Iterable[tuple[Path, int, int]], out: BinaryIO, filename: str) -> int:
    """One WARC of the given exchanges, after a warcinfo naming `filename`; returns how many."""
    write_warcinfo(out, filename, "an export of citation-archiver versions")
    writer = WARCWriter(out, gzip=True, warc_version="WARC/1.1")
    copied = 0
    for path, offset, length in sources:
        with path.open("rb") as stream:
            stream.seek(offset)
            iterator = ArchiveIterator(stream)
            for record in iterator:
                if iterator.get_record_offset() >= offset + length:
                    break
                writer.write_record(record)
            copied += 1
    return copied


def _warc_date(when: datetime) -> str:
    return (when.astimezone(UTC) if when.tzinfo else when).strftime("%Y-%m-%dT%H:%M:%SZ")
