"""A page's network: every request Chromium makes is intercepted and answered by our own guarded fetch.

Chromium itself reaches nothing (its resolver maps every name to "not found"): each request of the
page, its document, scripts, frames, fetches and beacons, arrives here through Playwright's `route`,
is sent by the HTTP fetcher's client (address guard after our resolver, timeouts, body cap after
decompression, no cookie jar) and handed back with `fulfill`, or refused with `abort`. Either way it
is recorded. WebSockets are never opened.

Redirects: Chromium follows a 3xx handed to it with `fulfill`, but sends the next request to its own
network stack, not back here (Playwright routes only the first request of a chain). So no 3xx is ever
handed over: a resource's redirects are followed here, each hop guarded, and the final answer is
fulfilled under the first URL; a navigation's 3xx is handed over as a tiny page that sends the frame
on (`location.replace`), so that the frame's next request, and its address, are the target's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from urllib.parse import urljoin

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Request, Route, WebSocketRoute

from archiver.browser.records import WIRE_HEADERS, SubRequest
from archiver.config import FetchSettings
from archiver.fetch import Fetcher
from archiver.models import FetchResult, Hop, Outcome
from archiver.models.records import header
from archiver.urls import host_of, is_http_url

# A news page makes 100-400 requests (ads included); past this many the page is cut off.
MAX_REQUESTS = 500
# All bodies handed to one page, as a multiple of the body cap of a single response.
PAGE_BYTES_FACTOR = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Chromium's words for what it loads; video and audio streams are never fetched for a snapshot.
_NOT_FETCHED = {"media": "audio and video are not fetched", "websocket": "WebSockets are never opened"}
# Request headers that belong to one connection, or that our client sets itself.
_NOT_FORWARDED = {"host", "connection", "content-length", "accept-encoding", "transfer-encoding", "keep-alive", "te"}
_NOT_FORWARDED |= {"upgrade", "proxy-authorization", "proxy-connection", "trailer"}
# What a redirect to another host does not carry along.
_PER_ORIGIN = {"cookie", "authorization"}
# How `abort` tells the page why (Playwright's error codes).
_ABORT_CODES = {
    Outcome.REFUSED_ADDRESS: "addressunreachable",
    Outcome.DNS_ERROR: "namenotresolved",
    Outcome.TIMEOUT: "timedout",
    Outcome.CONNECT_ERROR: "connectionfailed",
    Outcome.TLS_ERROR: "connectionfailed",
    Outcome.BAD_URL: "blockedbyclient",
    Outcome.TOO_LARGE: "blockedbyclient",
    Outcome.REDIRECT_LOOP: "blockedbyclient",
    Outcome.TOO_MANY_REDIRECTS: "blockedbyclient",
}


@dataclass(frozen=True)
class _Reply:
    """An answer to hand to the page, or why there is none."""

    outcome: Outcome
    status: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    error: str = ""
    redirects: tuple[Hop, ...] = ()

    @classmethod
    def of(cls, result: FetchResult) -> _Reply:
        return cls(result.outcome, result.status or 200, result.headers, result.body)


class PageNetwork:
    """The network of one page: answers Playwright's routes, records each request, keeps within a deadline.

    `document` is the HTTP fetch of the page; it answers the first navigation of the page itself, so
    the document is fetched once, by the HTTP fetcher, with all its rules."""

    def __init__(self, fetcher: Fetcher, settings: FetchSettings, document: FetchResult, deadline: float) -> None:
        self._fetcher = fetcher
        self._settings = settings
        self._document: FetchResult | None = document
        self._deadline = deadline  # time.monotonic()
        self._bytes = 0
        self._tasks: set[asyncio.Task[object]] = set()
        self._closed = False
        self.requests: list[SubRequest] = []
        self.navigations: list[SubRequest] = []  # requests of the page's own document, in order
        self.last_headers: tuple[tuple[str, str], ...] = document.headers
        self.redirects: list[Hop] = list(document.redirects)

    async def handle(self, route: Route) -> None:
        """Playwright's route handler: answer or refuse `route`, never leave it pending."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._handle(route)
        except PlaywrightError:
            pass  # the page or its context closed while we answered: nothing is waiting any more
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def refuse_websocket(self, ws: WebSocketRoute) -> None:
        """WebSockets are closed at once: a snapshot needs no live connection, and none is made."""
        self._record(SubRequest(ws.url, "GET", "websocket", False, Outcome.BAD_URL, reason=_NOT_FETCHED["websocket"]))
        with contextlib.suppress(PlaywrightError):
            await ws.close(code=1008, reason="not opened by the archiver")

    def close(self) -> None:
        """Stop answering: requests still in flight are cancelled, later ones refused."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()

    async def _handle(self, route: Route) -> None:
        request = route.request
        main = _is_main_navigation(request)
        if main and self._document is not None:
            document, self._document = self._document, None
            await self._answer(route, request, _Reply.of(document), main)
            return
        refusal = self._refusal(request)
        if refusal is not None:
            await self._refuse(route, request, _Reply(refusal[0], error=refusal[1]), main)
            return
        headers = {k: v for k, v in (await request.all_headers()).items() if k.lower() not in _NOT_FORWARDED}
        if request.is_navigation_request():
            reply = await self._send(request.method, request.url, headers, request.post_data_buffer)
        else:
            reply = await self._follow(request.method, request.url, headers, request.post_data_buffer)
        limit = PAGE_BYTES_FACTOR * self._settings.max_body_bytes
        if not reply.error and self._bytes + len(reply.body) > limit:
            reply = _Reply(Outcome.TOO_LARGE, error=f"the page's bodies pass {limit} bytes", redirects=reply.redirects)
        elif main and reply.status in REDIRECT_STATUSES and len(self.redirects) >= self._settings.max_redirects:
            reply = _Reply(Outcome.TOO_MANY_REDIRECTS, error=f"more than {self._settings.max_redirects} redirects")
        if reply.error:
            await self._refuse(route, request, reply, main)
        else:
            await self._answer(route, request, reply, main)

    def _refusal(self, request: Request) -> tuple[Outcome, str] | None:
        if self._closed:
            return Outcome.TIMEOUT, "the page was already captured"
        if not is_http_url(request.url):
            return Outcome.BAD_URL, f"not an http(s) URL: {request.url[:100]}"
        if request.resource_type in _NOT_FETCHED:
            return Outcome.BAD_URL, _NOT_FETCHED[request.resource_type]
        if len(self.requests) >= MAX_REQUESTS:
            return Outcome.TOO_LARGE, f"more than {MAX_REQUESTS} requests from one page"
        if self._deadline - time.monotonic() <= 0:
            return Outcome.TIMEOUT, f"past the page's {self._settings.total_timeout:g}s"
        return None

    async def _answer(self, route: Route, request: Request, reply: _Reply, main: bool) -> None:
        status, headers, body = reply.status, _fulfil_headers(reply.headers), reply.body
        location = header(reply.headers, "location")
        if status in REDIRECT_STATUSES and location:  # only a navigation gets here with a 3xx
            target = urljoin(request.url, location.strip())
            if main:
                self.redirects.append(Hop(request.url, status, target))
            status, headers, body = 200, {"content-type": "text/html; charset=utf-8"}, _trampoline(target)
        elif main:
            self.last_headers = reply.headers
        self._bytes += len(reply.body)
        sub = SubRequest(
            request.url,
            request.method,
            request.resource_type,
            True,
            reply.outcome,
            reply.status,
            size=len(reply.body),
            main_frame=main,
            redirects=reply.redirects,
        )
        self._record(sub)
        await route.fulfill(status=status, headers=headers, body=body)

    async def _refuse(self, route: Route, request: Request, reply: _Reply, main: bool) -> None:
        sub = SubRequest(
            request.url,
            request.method,
            request.resource_type,
            False,
            reply.outcome,
            reason=reply.error,
            main_frame=main,
            redirects=reply.redirects,
        )
        self._record(sub)
        await route.abort(_ABORT_CODES.get(reply.outcome, "failed"))

    def _record(self, sub: SubRequest) -> None:
        self.requests.append(sub)
        if sub.main_frame:
            self.navigations.append(sub)

    async def _follow(self, method: str, url: str, headers: dict[str, str], content: bytes | None) -> _Reply:
        """A resource's answer, its redirects followed here (each hop guarded) as a browser would."""
        hops: list[Hop] = []
        seen = {url}
        while True:
            reply = await self._send(method, url, headers, content)
            location = header(reply.headers, "location")
            if reply.error or reply.status not in REDIRECT_STATUSES or not location:
                return _Reply(reply.outcome, reply.status, reply.headers, reply.body, reply.error, tuple(hops))
            target = urljoin(url, location.strip())
            hops.append(Hop(url, reply.status, target))
            failure = (
                (Outcome.BAD_URL, f"redirected to a non-http(s) URL: {target[:100]}")
                if not is_http_url(target)
                else (Outcome.REDIRECT_LOOP, f"redirect loop back to {target[:200]}")
                if target in seen
                else (Outcome.TOO_MANY_REDIRECTS, f"more than {self._settings.max_redirects} redirects")
                if len(hops) > self._settings.max_redirects
                else None
            )
            if failure is not None:
                return _Reply(failure[0], error=failure[1], redirects=tuple(hops))
            if host_of(target) != host_of(url):
                headers = {k: v for k, v in headers.items() if k.lower() not in _PER_ORIGIN}
            if reply.status == 303 or (reply.status in (301, 302) and method == "POST"):
                method, content = "GET", None
            seen.add(target)
            url = target

    async def _send(self, method: str, url: str, headers: dict[str, str], content: bytes | None) -> _Reply:
        """One request and its answer through the HTTP fetcher: its guard, timeouts, body cap and table
        of failures, within what is left of the page's time."""
        left = self._deadline - time.monotonic()
        result = await self._fetcher.exchange(method, url, headers, content, timeout=left)
        if result.status is None:
            return _Reply(result.outcome, error=result.error)
        return _Reply(result.outcome, result.status, result.headers, result.body)


def _is_main_navigation(request: Request) -> bool:
    if not request.is_navigation_request():
        return False
    try:
        return request.frame.parent_frame is None
    except PlaywrightError:  # a service worker's request has no frame
        return False


def _fulfil_headers(headers: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """The answer's headers for Chromium: the body is handed over decoded and whole, so the headers that
    described its transfer go; repeated headers are joined (Set-Cookie by newlines, as Playwright wants)."""
    out: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        if key in WIRE_HEADERS:
            continue
        if key in out:
            out[key] += ("\n" if key == "set-cookie" else ", ") + value
        else:
            out[key] = value
    return out


def _trampoline(target: str) -> bytes:
    """A page that sends its frame to `target`: a navigation's redirect, so that the next request is routed."""
    literal = json.dumps(target).replace("</", "<\\/")
    return f"<!DOCTYPE html><script>location.replace({literal})</script>".encode()
