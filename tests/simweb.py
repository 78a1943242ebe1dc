"""A simulated web for tests: a real HTTP server on 127.0.0.1 whose pages change between passes.

Virtual hosts are told apart by the Host header, so `http://news.test:PORT/a` and
`http://blog.test:PORT/a` are different pages on the same socket; the tests' resolver sends every
`*.test` name to 127.0.0.1, and nothing ever leaves loopback.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    etag: str = ""  # answer 304 to a matching If-None-Match


@dataclass
class Seen:
    host: str
    path: str
    headers: dict[str, str]
    method: str = "GET"
    body: bytes = b""
    at: float = field(default_factory=time.monotonic)
    answered: bool = False  # its answer is being written: no longer counted in flight


Handler = Callable[[Seen], Response]


class SimWeb:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[tuple[str, str], Response | Handler] = {}
        self.requests: list[Seen] = []
        self.fallback: Handler | None = None  # answers every unknown URL; default: a plain 404
        self.in_flight: dict[str, int] = {}
        self.max_in_flight: dict[str, int] = {}
        self.connections = 0  # TCP connections accepted
        self._lock = threading.Lock()
        web = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                self.do_GET()

            def do_GET(self) -> None:  # noqa: N802
                host = (self.headers.get("Host") or "").split(":")[0]
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(host, self.path, {k.lower(): v for k, v in self.headers.items()}, self.command, body)
                with web._lock:
                    web.requests.append(seen)
                    web.in_flight[host] = web.in_flight.get(host, 0) + 1
                    web.max_in_flight[host] = max(web.max_in_flight.get(host, 0), web.in_flight[host])
                try:
                    web._answer(self, seen)
                finally:
                    web._answered(seen)

        class _Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that hung up mid-answer (timeouts, caps) is part of the tests

            def get_request(self) -> tuple[socket.socket, Any]:
                # The listening socket does not block: a connection that was ready when selected and
                # is gone when accepted (a client giving up) must not hang serve_forever in accept(),
                # and with it close() for ever (seen once in CI).
                request, address = self.socket.accept()
                request.setblocking(True)
                with web._lock:
                    web.connections += 1
                return request, address

        self.server = _Server((host, 0), _Handler)
        self.server.socket.setblocking(False)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.host = host
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # building the web ------------------------------------------------------------------------

    def url(self, path: str, host: str = "") -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    def set(self, url_or_path: str, response: Response | Handler) -> str:
        parts = urlsplit(url_or_path if "://" in url_or_path else self.url(url_or_path))
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.routes[(parts.hostname or self.host, path)] = response
        return parts.geturl()

    def page(self, url_or_path: str, html: str | bytes, status: int = 200, **kw: object) -> str:
        body = html.encode("utf-8") if isinstance(html, str) else html
        headers = {"Content-Type": "text/html; charset=utf-8", **kw.pop("headers", {})}  # type: ignore[dict-item]
        return self.set(url_or_path, Response(status, body, headers, **kw))  # type: ignore[arg-type]

    def redirect(self, url_or_path: str, location: str, status: int = 301) -> str:
        return self.set(url_or_path, Response(status, b"", {"Location": location}))

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    # serving ---------------------------------------------------------------------------------

    def _answered(self, seen: Seen) -> None:
        """A request leaves the count of requests in flight when its answer is written, before the
        client reads it: the client may send its next request at once, before this thread runs again."""
        with self._lock:
            if not seen.answered:
                seen.answered = True
                self.in_flight[seen.host] -= 1

    def _answer(self, handler: BaseHTTPRequestHandler, seen: Seen) -> None:
        route = self.routes.get((seen.host, seen.path)) or self.routes.get((self.host, seen.path))
        if route is None and self.fallback is not None:
            response = self.fallback(seen)
        elif route is None:
            response = Response(404, b"<html><body><h1>404 Not Found</h1></body></html>", {"Content-Type": "text/html"})
        elif callable(route):
            response = route(seen)
        else:
            response = route
        if response.delay:
            time.sleep(response.delay)
        status, body, headers = response.status, response.body, dict(response.headers)
        if response.etag:
            headers["ETag"] = response.etag
            if seen.headers.get("if-none-match") == response.etag:
                status, body = 304, b""
        if headers.get("Content-Encoding") == "gzip" and not body.startswith(b"\x1f\x8b"):
            body = gzip.compress(body)
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        self._answered(seen)
        handler.end_headers()
        handler.wfile.write(body)


def article(title: str, *paragraphs: str, extra_head: str = "") -> str:
    """A small but realistic news article page, long enough for trafilatura to find its body."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | Daily Test</title>
<meta name="author" content="Jane Reporter"><meta property="og:type" content="article"><meta property="article:published_time" content="2025-04-28T09:00:00Z">
{extra_head}</head>
<body><header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/subscribe">Subscribe</a></nav></header>
<main><article><h1>{title}</h1><p class="byline">By Jane Reporter</p>
{body}
</article></main>
<footer><p>© Daily Test. All rights reserved.</p></footer></body></html>"""


LOREM = [
    "North Korean troops have been deployed to the Kursk region, according to officials in Seoul, "
    "who said about 15,000 soldiers had been sent since last autumn.",
    "The deployment marks the first time Pyongyang has sent ground forces to fight in a foreign war "
    "in decades, and analysts said it reflected a deepening military partnership with Moscow.",
    "Officials said the troops had suffered heavy losses, with hundreds killed and thousands wounded, "
    "as they were used in assaults against well defended Ukrainian positions.",
    "In exchange, Russia is believed to be providing Pyongyang with money, fuel and technology, "
    "which experts warn could help it advance its weapons programs.",
]


def bare_page(title: str, *paragraphs: str, extra_head: str = "") -> str:
    """A page that says nothing of itself: no og:type, no schema.org, no publication time (many CMS
    pages, forum threads and old sites look like this). Only these are probed for soft 404s."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | The Courier</title>{extra_head}</head>
<body><div id="top"><a href="/">The Courier</a> <a href="/node/1">About</a></div>
<div id="content"><h1>{title}</h1>
{body}
</div><div id="foot">The Courier, since 1901.</div></body></html>"""


def front_page(site: str, *teasers: str) -> str:
    """A site's home page: a list of teasers linking to other articles, og:type website."""
    items = "\n".join(f'<li><h2><a href="/news/story-{n}">{t}</a></h2><p>{t}.</p></li>' for n, t in enumerate(teasers))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{site}: news, sport and weather</title>
<meta property="og:type" content="website"></head>
<body><header><h1>{site}</h1><nav><a href="/">Home</a> <a href="/news">News</a></nav></header>
<main><p>Welcome to {site}, your source of local news, sport and weather, updated through the day.</p>
<ul>{items}</ul></main><footer>© {site}</footer></body></html>"""


TEASERS = [
    "Council approves new cycle lanes for the town centre after a long debate",
    "Local bakery wins national award for its sourdough bread and pastries",
    "Storm warning issued for the coast as high winds and heavy rain expected",
    "School governors appoint a new head teacher for the autumn term",
    "Football club signs striker from rival team in record transfer deal",
    "Library extends opening hours to evenings and Sundays from next month",
]
