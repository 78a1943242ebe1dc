"""WARC 1.1 records of what was fetched, written with warcio, so any web-archive tool can read our
snapshots. A new version becomes a `request` and a `response` record; unchanged checks add nothing.

The body is stored as it was delivered after transfer and content decoding (that is what the
fetcher keeps, bounded); the response's `Content-Encoding` and `Transfer-Encoding` are then moved to
`X-Archive-Orig-*` headers and `Content-Length` set to the stored length, as web archives do, so a
replay is self-consistent.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver.models import FetchResult

_MOVED = {"content-encoding", "transfer-encoding", "content-length"}
REASONS = {200: "OK", 201: "Created", 203: "Non-Authoritative Information", 206: "Partial Content"}


@dataclass(frozen=True)
class WarcPointer:
    """Where a version's response record lies: file (relative to the data dir), offset, length."""

    file: str
    offset: int
    length: int


GZIP_LEVEL = 6  # warcio compresses at 9: twice the CPU for a file 1-2% smaller


class _Member(io.BytesIO):
    """Collects one record uncompressed, so it can be written as its own gzip member."""


def _write_member(out: BinaryIO, writer: WARCWriter, record: object) -> None:
    buffer = _Member()
    writer.out = buffer
    writer.write_record(record)
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)
    out.write(compressor.compress(buffer.getvalue()) + compressor.flush())


def write_exchange(out: BinaryIO, fetched: FetchResult, user_agent: str) -> tuple[int, int]:
    """Append a request and a response record, each its own gzip member; returns (offset, length)
    of the response record."""
    writer = WARCWriter(out, gzip=False, warc_version="WARC/1.1")
    date = _warc_date(fetched.started_at)
    target = fetched.final_url or fetched.url
    response_headers = [(k, v) for k, v in fetched.headers if k.lower() not in _MOVED]
    response_headers += [(f"X-Archive-Orig-{k}", v) for k, v in fetched.headers if k.lower() in _MOVED]
    response_headers.append(("Content-Length", str(len(fetched.body))))
    status = fetched.status or 200
    http = StatusAndHeaders(f"{status} {REASONS.get(status, 'OK')}", response_headers, protocol="HTTP/1.1")
    response = writer.create_warc_record(
        target, "response", payload=io.BytesIO(fetched.body), http_headers=http, warc_headers_dict={"WARC-Date": date}
    )
    parts = urlsplit(target)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request_headers = list(fetched.request_headers) or [("Host", parts.netloc), ("User-Agent", user_agent)]
    request = writer.create_warc_record(
        target,
        "request",
        payload=io.BytesIO(b""),
        http_headers=StatusAndHeaders(f"GET {path} HTTP/1.1", request_headers, is_http_request=True),
        warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")},
    )
    offset = out.tell()
    _write_member(out, writer, response)
    length = out.tell() - offset
    _write_member(out, writer, request)
    return offset, length


def read_response(path: Path, offset: int) -> tuple[str, list[tuple[str, str]], bytes, str]:
    """The response stored at `offset`: status line, headers, body, and its WARC-Date."""
    with path.open("rb") as stream:
        stream.seek(offset)
        for record in ArchiveIterator(stream):
            if record.rec_type == "response":
                return (
                    record.http_headers.statusline,
                    list(record.http_headers.headers),
                    record.content_stream().read(),
                    record.rec_headers.get_header("WARC-Date"),
                )
            break
    raise ValueError(f"no response record at offset {offset} of {path}")


def raw_response(path: Path, offset: int) -> bytes:
    """The stored HTTP response, status line and headers and body, as a replay would send it."""
    with path.open("rb") as stream:
        stream.seek(offset)
        for record in ArchiveIterator(stream):
            if record.rec_type == "response":
                return record.http_headers.to_bytes() + record.content_stream().read()
            break
    raise ValueError(f"no response record at offset {offset} of {path}")


def copy_records(sources: Iterator[tuple[Path, int]], out: BinaryIO) -> int:
    """Copy each response record (and the request record after it) into one WARC; returns how many."""
    writer = WARCWriter(out, gzip=True, warc_version="WARC/1.1")
    writer.write_record(
        writer.create_warcinfo_record(
            "citation-archiver-export.warc.gz", {"software": "citation-archiver", "format": "WARC File Format 1.1"}
        )
    )
    copied = 0
    for path, offset in sources:
        with path.open("rb") as stream:
            stream.seek(offset)
            for n, record in enumerate(ArchiveIterator(stream)):
                if n > 1 or (n == 1 and record.rec_type != "request"):
                    break
                writer.write_record(record)
                copied += record.rec_type == "response"
    return copied


def _warc_date(when: datetime) -> str:
    return (when.astimezone(UTC) if when.tzinfo else when).strftime("%Y-%m-%dT%H:%M:%SZ")
