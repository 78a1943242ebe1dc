"""`archiver serve`: a small read-only web application over the store, and a Memento endpoint
(RFC 7089) so any Memento client can treat our store as one more web archive.

    /                          the HTML health report
    /citations/{id}            a citation's versions: dates, text, diffs, replay links
    /memento/{14 digits}/{url} a version replayed as stored, with Memento-Datetime and Link headers
    /timegate/{url}            redirects to the version in force at Accept-Datetime (default: newest)
    /timemap/link/{url}        every version in link format
    /api/report                the JSON report;  /api/citations/{id}: one citation

Replays are served with a sandboxing Content-Security-Policy: archived scripts never run in our
origin. Everything that came from a page is escaped in our own pages.
"""

from __future__ import annotations

import html
import json
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from archiver.archive.memento import format_http_date
from archiver.archive.selection import version_in_force
from archiver.detect.drift import unified_diff
from archiver.errors import ArchiverError
from archiver.models import utcnow
from archiver.models.rows import CaptureRow, CitationRow, VersionRow
from archiver.models.time import parse_stamp, timestamp
from archiver.report import build_entry, build_report, diff_html, render_html
from archiver.store import Store

log = logging.getLogger("archiver.serve")

REPLAY_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def memento_stamp(version: VersionRow) -> str:
    return timestamp(_when(version))


def _when(version: VersionRow) -> datetime:
    """A memento's datetime: when the version was first seen, to the second."""
    return parse_stamp(version.first_seen).astimezone(UTC).replace(microsecond=0)


class Archive:
    """What the web application reads: the store, opened per request (SQLite connections are per thread)."""

    def __init__(self, data_dir: Path, base: str, database_url: str = "") -> None:
        self.data_dir = data_dir
        self.base = base.rstrip("/")
        self.database_url = database_url

    def open(self) -> Store:
        return Store.open(self.data_dir, read_only=True, database_url=self.database_url)

    def links(self, url: str) -> str:
        return (
            f'<{url}>; rel="original", <{self.base}/timegate/{url}>; rel="timegate", '
            f'<{self.base}/timemap/link/{url}>; rel="timemap"; type="application/link-format"'
        )


def make_handler(archive: Archive) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "citation-archiver"

        def log_message(self, fmt: str, *args: Any) -> None:
            log.info("%s %s", self.address_string(), fmt % args)

        def do_HEAD(self) -> None:  # noqa: N802
            self._dispatch(head=True)

        def do_GET(self) -> None:  # noqa: N802
            self._dispatch(head=False)

        def _dispatch(self, head: bool) -> None:
            path = self.path
            routes: list[tuple[str, Callable[[str], tuple[int, dict[str, str], bytes]]]] = [
                ("/timegate/", self.timegate),
                ("/timemap/link/", self.timemap),
                ("/memento/", self.memento),
                ("/api/citations/", self.api_citation),
                ("/citations/", self.citation_page),
            ]
            try:
                if path in ("/", "/index.html"):
                    status, headers, body = self.home()
                elif path == "/api/report":
                    status, headers, body = self.api_report()
                else:
                    route = next(((p, h) for p, h in routes if path.startswith(p)), None)
                    if route is None:
                        status, headers, body = _text(404, "not found")
                    else:
                        prefix, handler = route
                        rest = path[len(prefix) :]
                        # a memento path keeps the original URL as it was written, escapes included
                        status, headers, body = handler(rest if prefix == "/memento/" else unquote(rest))
            except (ValueError, OverflowError) as exc:
                status, headers, body = _text(400, str(exc))
            except ArchiverError as exc:  # the store cannot be read: say so, never an empty reply
                log.error("%s: %s", path[:200], exc)
                status, headers, body = _text(503, f"the store cannot be read: {exc}")
            except Exception:  # the HTTP boundary: a bug answers 500 and is logged, it never drops the connection
                log.exception("%s failed", path[:200])
                status, headers, body = _text(500, "internal error (logged by the server)")
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if not head:
                self.wfile.write(body)

        # pages ---------------------------------------------------------------------------------------

        def home(self) -> tuple[int, dict[str, str], bytes]:
            with archive.open() as store:
                page = render_html(build_report(store, utcnow()), local_files=False)  # paths are not for browsers
            return 200, {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": PAGE_CSP}, page.encode()

        def citation_page(self, cid: str) -> tuple[int, dict[str, str], bytes]:
            e = html.escape
            with archive.open() as store:
                row = store.citation(cid)
                if row is None or row.id != cid:
                    return _text(404, f"no citation {cid}")
                versions = store.versions(cid)
                texts = [store.read_text(v) for v in versions]
            parts = [
                f"<h1>[{e(cid)}] {e(row.url)}</h1><p><em>{e(row.claim)}</em></p>",
                f'<p><a href="/timemap/link/{e(row.url)}">TimeMap</a> · <a href="/">report</a></p>',
            ]
            for n, (v, text) in enumerate(reversed(list(zip(versions, texts, strict=True)))):
                index = len(versions) - 1 - n
                replay = f"/memento/{memento_stamp(v)}/{row.url}"
                parts.append(
                    f"<h2>{e(v.first_seen[:19])} · {e(v.title)}</h2><p>{v.words} words · "
                    f'hash {e(v.hash[:12])} · <a href="{e(replay)}">replay as archived</a></p>'
                )
                if index > 0:
                    parts.append(f'<div class="diff">{diff_html(unified_diff(texts[index - 1], text))}</div>')
                parts.append(f"<details><summary>text</summary><pre>{e(text)}</pre></details>")
            body = (
                '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Citation '
                f"{e(cid)}</title><style>body{{font:15px system-ui;max-width:60rem;margin:2rem auto}}"
                "pre,.diff{white-space:pre-wrap;background:#fafafa;padding:.5rem}del{background:#fee;display:block;"
                "text-decoration:none}ins{background:#efe;display:block;text-decoration:none}</style></head><body>"
                + "".join(parts)
                + "</body></html>"
            )
            return 200, {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": PAGE_CSP}, body.encode()

        def api_report(self) -> tuple[int, dict[str, str], bytes]:
            with archive.open() as store:
                report = build_report(store, utcnow())
            return _json(report.to_json())

        def api_citation(self, cid: str) -> tuple[int, dict[str, str], bytes]:
            with archive.open() as store:
                row = store.citation(cid)
                if row is None or row.id != cid or row.removed_at is not None:
                    return _text(404, f"no citation {cid}")
                entry = build_entry(store, row).to_json()
                entry["versions_list"] = [
                    {
                        "hash": v.hash,
                        "first_seen": v.first_seen,
                        "title": v.title,
                        "words": v.words,
                        "memento": f"{archive.base}/memento/{memento_stamp(v)}/{row.url}",
                    }
                    for v in store.versions(cid)
                ]
                entry["captures"] = [_capture_json(c) for c in store.captures(cid)]
            return _json(entry)

        # Memento -------------------------------------------------------------------------------------

        def _versions_of(self, store: Store, url: str) -> tuple[CitationRow, list[VersionRow]] | None:
            row = store.citation(url)
            if row is None or row.id == url:
                return None
            return row, store.versions(row.id)

        def timemap(self, url: str) -> tuple[int, dict[str, str], bytes]:
            with archive.open() as store:
                found = self._versions_of(store, url)
            if not found or not found[1]:
                return _text(404, f"no mementos of {url}")
            row, versions = found
            original = row.url
            lines = [
                f'<{original}>; rel="original"',
                f'<{archive.base}/timegate/{original}>; rel="timegate"',
                f'<{archive.base}/timemap/link/{original}>; rel="self"; type="application/link-format"; '
                f'from="{format_http_date(_when(versions[0]))}"; until="{format_http_date(_when(versions[-1]))}"',
            ]
            for n, v in enumerate(versions):
                rel = "memento"
                if n == 0:
                    rel = "first memento" if len(versions) > 1 else "first last memento"
                elif n == len(versions) - 1:
                    rel = "last memento"
                lines.append(
                    f'<{archive.base}/memento/{memento_stamp(v)}/{original}>; rel="{rel}"; '
                    f'datetime="{format_http_date(_when(v))}"'
                )
            return 200, {"Content-Type": "application/link-format"}, (",\n".join(lines) + "\n").encode()

        def timegate(self, url: str) -> tuple[int, dict[str, str], bytes]:
            wanted = self.headers.get("Accept-Datetime")
            try:
                when = parsedate_to_datetime(wanted).astimezone(UTC) if wanted else None
            except (TypeError, ValueError, OverflowError):
                shown = (wanted or "")[:60]
                return _text(400, f"Accept-Datetime {shown!r} is not an RFC 1123 date within years 1 to 9999")
            with archive.open() as store:
                found = self._versions_of(store, url)
                checks = store.checks(found[0].id) if found else []
            if not found or not found[1]:
                return _text(404, f"no mementos of {url}")
            row, versions = found
            # the version in force then; before our first check, the first memento (RFC 7089)
            chosen = version_in_force(checks, versions, when) or versions[0]
            location = f"{archive.base}/memento/{memento_stamp(chosen)}/{row.url}"
            return (
                302,
                {
                    "Location": location,
                    "Vary": "accept-datetime",
                    "Link": archive.links(row.url),
                    "Content-Type": "text/plain; charset=utf-8",
                },
                b"",
            )

        def memento(self, rest: str) -> tuple[int, dict[str, str], bytes]:
            stamp, _, url = rest.partition("/")
            url = unquote(url) if "%" in url.split("?")[0] else url
            if len(stamp) != 14 or not stamp.isdigit():
                return _text(400, "a memento URL is /memento/{YYYYMMDDhhmmss}/{url}")
            with archive.open() as store:
                found = self._versions_of(store, url)
                if not found:
                    return _text(404, f"no mementos of {url}")
                row, versions = found
                version = next((v for v in versions if memento_stamp(v) == stamp), None)
                if version is None:
                    return _text(404, f"no memento of {url} at {stamp}; see the TimeMap")
                stored = store.response(version)
            return (
                200,
                {
                    "Content-Type": stored.header("content-type") or "text/html",
                    "Memento-Datetime": format_http_date(_when(version)),
                    "Link": archive.links(row.url) + f", <{archive.base}/memento/{stamp}/{row.url}>; "
                    f'rel="memento"; datetime="{format_http_date(_when(version))}"',
                    "Content-Security-Policy": REPLAY_CSP,
                },
                stored.body,
            )

    return Handler


def _capture_json(c: CaptureRow) -> dict[str, object]:
    """A known capture as the API shows it (the names of its stored columns)."""
    fields = {k: v for k, v in asdict(c).items() if k not in ("watched_id", "replay")}
    verified = None if c.verified is None else int(c.verified)
    return {"citation_id": c.watched_id, **fields, "url": c.url, "verified": verified}


def _text(status: int, message: str) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "text/plain; charset=utf-8"}, (message + "\n").encode()


def _json(data: Any) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "application/json"}, json.dumps(data, ensure_ascii=False, indent=2).encode()


MAX_CONNECTIONS = 32  # requests served at once; more wait for nobody: they get a 503 at once
IDLE_TIMEOUT = 10.0  # seconds a connection may send nothing before it is closed


class _BoundedServer(ThreadingHTTPServer):
    """One thread per connection, but at most `max_connections` of them; a connection past the
    bound is answered 503 from the accepting thread and closed, so 500 half-sent requests never
    make 500 threads. Idle connections are closed after the handler's `timeout`."""

    daemon_threads = True
    request_queue_size = 128  # the kernel's accept queue: a burst waits there instead of retrying SYNs

    def __init__(self, address: tuple[str, int], max_connections: int) -> None:
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, BaseHTTPRequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            _busy(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.warning("connection from %s ended with an error", client_address[0] if client_address else "?")


def _busy(sock: socket.socket) -> None:
    """Answer 503 without waiting: a client that does not read loses the answer, not our time."""
    try:
        sock.setblocking(False)
        sock.send(
            b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: text/plain\r\n"
            b"Content-Length: 22\r\nConnection: close\r\n\r\ntoo many connections\r\n"
        )
    except OSError:
        pass


def make_server(
    data_dir: Path,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    max_connections: int = MAX_CONNECTIONS,
    idle_timeout: float = IDLE_TIMEOUT,
    database_url: str = "",
) -> ThreadingHTTPServer:
    server = _BoundedServer((host, port), max_connections)
    bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    handler = make_handler(Archive(data_dir, f"http://{shown}:{bound_port}", database_url))
    handler.timeout = idle_timeout  # StreamRequestHandler puts it on the socket: every read waits this long at most
    server.RequestHandlerClass = handler
    return server
