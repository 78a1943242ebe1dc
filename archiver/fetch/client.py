"""The fetcher: an async httpx client for cited pages, bounded in time and size, through the guarded
transport. Redirects and one send are separate methods, as in httpx's own client: `fetch` follows
redirects one by one (each hop recorded, loops and chains past the cap named), `exchange` makes one
request with any method and follows nothing (what a rendered page's requests need). Both keep the
same limits and turn every failure into a FetchResult through the one table of `errors`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import datetime
from http.cookiejar import Cookie, CookieJar, DefaultCookiePolicy
from urllib.parse import urljoin
from urllib.request import Request

import httpx

from archiver.config import FetchSettings
from archiver.fetch.body import read_body
from archiver.fetch.errors import HANDLED, outcome_of
from archiver.fetch.guard import AddressGuard, Resolver, system_resolver
from archiver.fetch.transport import GuardedTransport
from archiver.models import Clock, FetchResult, Hop, Outcome, Validators, utcnow
from archiver.urls import is_http_url

ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
ACCEPT_LANGUAGE = "en;q=1.0, fr;q=0.9, *;q=0.5"
REDIRECTS = frozenset({301, 302, 303, 307, 308})


class _NoCookies(DefaultCookiePolicy):
    """The client's own jar keeps nothing: each fetch has a fresh one (no meter carried between checks)."""

    def set_ok(self, cookie: Cookie, request: Request) -> bool:
        return False


class Fetcher:
    """An async HTTP client for cited pages. Use as `async with Fetcher(settings) as f`. `transport`
    replaces the guarded one (as httpx's `transport=` does); `resolver` is the guard's resolver."""

    def __init__(
        self,
        settings: FetchSettings,
        resolver: Resolver | None = None,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self._clock = clock or utcnow
        # Idle connections are kept up to the pool's size. httpcore 1.0.9 closes an idle connection
        # whenever the pool holds more connections than the keep-alive limit, busy ones counted
        # (encode/httpcore#1000): with a lower limit, fetching more sites × per-host slots than that
        # opened new connections all along (1,990 for 2,000 URLs of the real-page benchmark's web).
        connections = settings.concurrency * 2
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        guard = AddressGuard(settings.allow_all_private, settings.allow_networks)
        self._client = httpx.AsyncClient(
            transport=transport or GuardedTransport(guard, resolver or system_resolver, limits),
            timeout=httpx.Timeout(
                connect=settings.connect_timeout,
                read=settings.read_timeout,
                write=settings.read_timeout,
                pool=settings.total_timeout,
            ),
            headers={
                "User-Agent": settings.user_agent,
                "Accept": ACCEPT,
                "Accept-Language": ACCEPT_LANGUAGE,
                "Accept-Encoding": "gzip, deflate",
            },
            cookies=CookieJar(policy=_NoCookies()),
            follow_redirects=False,
            trust_env=False,
        )
        self._overall = asyncio.Semaphore(settings.concurrency)
        self._origins: dict[tuple[str, str, int], asyncio.Semaphore] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, url: str, validators: Validators | None = None) -> FetchResult:
        """GET `url`, following redirects; every failure becomes a FetchResult, never an exception."""
        started, t0 = self._clock(), time.monotonic()
        hops: list[Hop] = []
        at = [url]  # where the fetch stands, for the result of a failure
        async with self._overall:
            try:
                async with asyncio.timeout(self.settings.total_timeout):
                    return await self._follow(url, validators, hops, at, started, t0)
            except HANDLED as exc:
                outcome, error = outcome_of(exc, self.settings)
                return _result(url, outcome, started, t0, hops, final_url=at[-1], error=error)

    async def exchange(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        timeout: float | None = None,
    ) -> FetchResult:
        """One request and its answer, following nothing: the same guard, timeouts, origin slot, body cap
        and table of failures as `fetch`, within `timeout` seconds (the fetch's total by default).
        Any answer below 400 (a 3xx included) is `ok`."""
        started, t0 = self._clock(), time.monotonic()
        limit = self.settings.total_timeout if timeout is None else max(0.0, timeout)
        try:
            async with asyncio.timeout(limit):
                request = self._client.build_request(method, url, headers=headers, content=content)
                response, body = await self._send(request, follow=False)
        except HANDLED as exc:
            outcome, error = outcome_of(exc, self.settings)
            if isinstance(exc, TimeoutError):
                error = f"no complete response within {limit:g}s"
            return _result(url, outcome, started, t0, [], final_url=url, error=error)
        status = response.status_code
        outcome = Outcome.OK if status < 400 else Outcome.HTTP_ERROR
        return _result(
            url,
            outcome,
            started,
            t0,
            [],
            final_url=url,
            status=status,
            headers=_raw(response.headers),
            body=body,
            error="" if outcome == Outcome.OK else f"HTTP {status}",
            request_headers=_raw(request.headers),
        )

    async def _follow(
        self, url: str, validators: Validators | None, hops: list[Hop], at: list[str], started: datetime, t0: float
    ) -> FetchResult:
        current = url
        seen = {url}
        cookies = httpx.Cookies()  # a fresh jar per fetch: no meter carried between checks
        while True:
            at.append(current)
            if not is_http_url(current):
                return _result(
                    url,
                    Outcome.BAD_URL,
                    started,
                    t0,
                    hops,
                    final_url=current,
                    error=f"not an http(s) URL: {current[:200]}",
                )
            headers = {}
            if validators and not hops:
                if validators.etag:
                    headers["If-None-Match"] = validators.etag
                if validators.last_modified:
                    headers["If-Modified-Since"] = validators.last_modified
            request = self._client.build_request("GET", current, headers=headers, cookies=cookies)
            response, body = await self._send(request, follow=True)
            cookies.extract_cookies(response)
            location = response.headers.get("location", "")
            if response.status_code in REDIRECTS and location:
                target = urljoin(current, location.strip())
                hops.append(Hop(current, response.status_code, target, _raw(response.headers), _raw(request.headers)))
                failure = (
                    (Outcome.REDIRECT_LOOP, f"redirect loop back to {target[:200]}")
                    if target in seen
                    else (Outcome.TOO_MANY_REDIRECTS, f"more than {self.settings.max_redirects} redirects")
                    if len(hops) > self.settings.max_redirects
                    else None
                )
                if failure is not None:
                    outcome, error = failure
                    return _result(
                        url, outcome, started, t0, hops, final_url=target, error=error, status=response.status_code
                    )
                seen.add(target)
                current = target
                continue
            status = response.status_code
            outcome = (
                Outcome.NOT_MODIFIED if status == 304 else Outcome.OK if 200 <= status < 300 else Outcome.HTTP_ERROR
            )
            return _result(
                url,
                outcome,
                started,
                t0,
                hops,
                final_url=current,
                status=status,
                body=body,
                error="" if outcome != Outcome.HTTP_ERROR else f"HTTP {status}",
                headers=_raw(response.headers),
                request_headers=_raw(request.headers),
            )

    async def _send(self, request: httpx.Request, follow: bool) -> tuple[httpx.Response, bytes]:
        """One request in its origin's slot; the body read within the cap, unless it is a redirect `fetch`
        follows."""
        async with self._origin_slot(request.url):
            response = await self._client.send(request, stream=True)
            try:
                to_follow = follow and response.status_code in REDIRECTS and response.headers.get("location")
                body = b"" if to_follow else await read_body(response, self.settings.max_body_bytes)
            finally:
                await response.aclose()
        return response, body

    def _origin_slot(self, url: httpx.URL) -> asyncio.Semaphore:
        """The per-host limit (`ARCHIVER_PER_HOST`) counts requests per origin: scheme, host and port,
        as a server sees them (RFC 6454); http://a.test and https://a.test:8443 are two origins."""
        key = origin_of(url)
        if key not in self._origins:
            self._origins[key] = asyncio.Semaphore(self.settings.per_host)
        return self._origins[key]


def origin_of(url: httpx.URL) -> tuple[str, str, int]:
    """Scheme, host and port of a URL, the scheme's default port filled in."""
    return url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80)


def _result(
    url: str,
    outcome: Outcome,
    started: datetime,
    t0: float,
    hops: list[Hop],
    *,
    final_url: str,
    error: str = "",
    status: int | None = None,
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
    request_headers: tuple[tuple[str, str], ...] = (),
) -> FetchResult:
    return FetchResult(
        url=url,
        outcome=outcome,
        started_at=started,
        final_url=final_url,
        status=status,
        headers=headers,
        body=body,
        redirects=tuple(hops),
        error=error,
        elapsed_ms=int((time.monotonic() - t0) * 1000),
        request_headers=request_headers,
    )


def _raw(headers: httpx.Headers) -> tuple[tuple[str, str], ...]:
    """Header names and values as they were on the wire (httpx's own view lower-cases names)."""
    return tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in headers.raw)
