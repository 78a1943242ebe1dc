"""Fetching cited pages with httpx: bounded in time and size, guarded against private addresses.

The address guard sits in the network backend, so it judges the address each connection really
goes to, after resolution, for the first request and every redirect alike.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import time
import zlib
from collections.abc import Awaitable, Callable
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any
from urllib.parse import urljoin

import certifi
import httpcore
import httpx

from archiver.config import Settings
from archiver.models import Clock, FetchResult, Hop, Outcome, Validators, utcnow
from archiver.urls import host_of, is_http_url

Resolver = Callable[[str, int], Awaitable[list[str]]]

ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
ACCEPT_LANGUAGE = "en;q=1.0, fr;q=0.9, *;q=0.5"


class DNSFailure(Exception):
    """The name does not resolve."""


class AddressRefused(Exception):
    """Every address the name resolves to is one the guard refuses."""


class _TooLarge(Exception):
    pass


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve with the operating system, like a browser would."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise DNSFailure(f"{host}: {exc.strerror or exc}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# Ranges that are not globally reachable, from IANA's special-purpose address registries, on top of
# what the ipaddress module knows (its tables vary between Python versions and miss some of these).
_NOT_PUBLIC = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",  # shared address space (carrier-grade NAT)
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",
        "192.88.99.0/24",  # the retired 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/8",  # unspecified, loopback, IPv4-compatible
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments (Teredo is judged by the address it embeds)
        "2001:db8::/32",
        "3fff::/20",  # documentation
        "5f00::/16",  # segment routing
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",  # site-local (deprecated, still routed inside some networks)
        "ff00::/8",
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the well-known NAT64 prefix: the last 32 bits are an IPv4 address
_TEREDO = ipaddress.ip_network("2001::/32")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries and may be routed to: IPv4-mapped, 6to4,
    NAT64 (well-known prefix) and Teredo (server and client)."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip in _NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip in _TEREDO and ip.teredo is not None:
        found.extend(ip.teredo)
    return found


class AddressGuard:
    """Refuses loopback, private, link-local, shared, multicast and reserved addresses unless allowed,
    and IPv6 addresses that embed one (IPv4-mapped, 6to4, NAT64, Teredo)."""

    def __init__(self, allow_all: bool = False, allow: tuple[Any, ...] = ()) -> None:
        self.allow_all = allow_all
        self.allow = allow

    @classmethod
    def from_settings(cls, settings: Settings) -> AddressGuard:
        return cls(settings.allow_all_private, settings.allow_networks)

    def permits(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%")[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if any(ip in net for net in self.allow):
            return True
        return self.allow_all or is_public(ip)


def is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Globally reachable, and so is every IPv4 address it embeds."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = embedded_ipv4(ip)
        if embedded:
            return all(is_public(v4) for v4 in embedded)
    if not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return False
    return not any(ip.version == net.version and ip in net for net in _NOT_PUBLIC)


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves names itself, checks every address, then connects to the address it checked."""

    def __init__(self, resolver: Resolver, guard: AddressGuard) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._resolver = resolver
        self._guard = guard

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> Any:
        try:
            addresses = [str(ipaddress.ip_address(host.strip("[]")))]
        except ValueError:
            addresses = await self._resolver(host, port)
            if not addresses:
                raise DNSFailure(f"{host}: no address") from None
        allowed = [a for a in addresses if self._guard.permits(a)]
        if not allowed:
            raise AddressRefused(f"{host} resolves to {addresses[0]}, a non-public address")
        error: Exception | None = None
        for address in allowed:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> Any:
        raise httpcore.ConnectError("unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, backend: httpcore.AsyncNetworkBackend, limits: httpx.Limits) -> None:
        super().__init__(limits=limits, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl.create_default_context(cafile=certifi.where()),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


class _NoCookies(DefaultCookiePolicy):
    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False


class _Inflater:
    """Decompresses a body chunk by chunk and never produces more than `limit` bytes."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self._raw_deflate = False
        enc = encoding.strip().lower()
        if enc in {"", "identity"}:
            self._d: Any = None
        elif enc in {"gzip", "x-gzip"}:
            self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif enc == "deflate":
            self._d = zlib.decompressobj()
        else:
            raise ValueError(f"unsupported content-encoding {encoding!r}")

    def feed(self, data: bytes) -> bytes:
        room = self.limit - self.size
        if self._d is None:
            out = data
        else:
            try:
                out = self._d.decompress(data, room + 1)
            except zlib.error:
                if self.size or self._raw_deflate or self._d.unused_data:
                    raise
                # some servers send raw deflate without the zlib header
                self._raw_deflate = True
                self._d = zlib.decompressobj(-zlib.MAX_WBITS)
                out = self._d.decompress(data, room + 1)
            if self._d.unconsumed_tail:
                raise _TooLarge
        self.size += len(out)
        if self.size > self.limit:
            raise _TooLarge
        return out


class Fetcher:
    """An async HTTP client for cited pages. Use as `async with Fetcher(settings) as f`."""

    def __init__(self, settings: Settings, resolver: Resolver | None = None, clock: Clock | None = None) -> None:
        self.settings = settings
        self._clock = clock or utcnow
        backend = _GuardedBackend(resolver or system_resolver, AddressGuard.from_settings(settings))
        limits = httpx.Limits(max_connections=settings.concurrency * 2, max_keepalive_connections=settings.concurrency)
        self._client = httpx.AsyncClient(
            transport=_GuardedTransport(backend, limits),
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
        self._hosts: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, url: str, validators: Validators | None = None) -> FetchResult:
        """Fetch `url`, following redirects; every failure becomes a FetchResult, never an exception."""
        started = self._clock()
        t0 = time.monotonic()
        hops: list[Hop] = []
        state: dict[str, Any] = {"url": url}

        def result(outcome: Outcome, error: str = "", **kw: Any) -> FetchResult:
            return FetchResult(
                url=url,
                outcome=outcome,
                started_at=started,
                final_url=kw.pop("final_url", state["url"]),
                redirects=tuple(hops),
                error=error,
                elapsed_ms=int((time.monotonic() - t0) * 1000),
                **kw,
            )

        async with self._overall:
            try:
                async with asyncio.timeout(self.settings.total_timeout):
                    return await self._follow(url, validators, hops, state, result)
            except TimeoutError:
                return result(Outcome.TIMEOUT, f"no complete response within {self.settings.total_timeout:g}s")
            except httpx.TimeoutException as exc:
                return result(Outcome.TIMEOUT, f"{type(exc).__name__}: {exc or 'timed out'}")
            except DNSFailure as exc:
                return result(Outcome.DNS_ERROR, f"DNS lookup failed: {exc}")
            except AddressRefused as exc:
                return result(Outcome.REFUSED_ADDRESS, f"refused: {exc}")
            except _TooLarge:
                return result(Outcome.TOO_LARGE, f"body larger than {self.settings.max_body_bytes} bytes")
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                return result(Outcome.BAD_URL, str(exc))
            except httpx.ConnectError as exc:
                if _is_tls(exc):
                    return result(Outcome.TLS_ERROR, f"TLS failed: {exc}")
                return result(Outcome.CONNECT_ERROR, f"connection failed: {exc or 'refused'}")
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                return result(*_classify_broken(exc))
            except (httpx.DecodingError, httpx.LocalProtocolError, zlib.error, ValueError) as exc:
                return result(Outcome.PROTOCOL_ERROR, f"{type(exc).__name__}: {exc}")

    async def _follow(
        self,
        url: str,
        validators: Validators | None,
        hops: list[Hop],
        state: dict[str, Any],
        result: Callable[..., FetchResult],
    ) -> FetchResult:
        current = url
        seen = {url}
        cookies = httpx.Cookies()  # a fresh jar per fetch: no meter carried between checks
        while True:
            state["url"] = current
            if not is_http_url(current):
                return result(Outcome.BAD_URL, f"not an http(s) URL: {current[:200]}")
            headers = {}
            if validators and not hops:
                if validators.etag:
                    headers["If-None-Match"] = validators.etag
                if validators.last_modified:
                    headers["If-Modified-Since"] = validators.last_modified
            request = self._client.build_request("GET", current, headers=headers, cookies=cookies)
            async with self._host_slot(current):
                response = await self._client.send(request, stream=True)
                try:
                    cookies.extract_cookies(response)
                    location = response.headers.get("location", "")
                    if response.status_code in (301, 302, 303, 307, 308) and location:
                        target = urljoin(current, location.strip())
                        hops.append(
                            Hop(current, response.status_code, target, _raw(response.headers), _raw(request.headers))
                        )
                        if target in seen:
                            return result(
                                Outcome.REDIRECT_LOOP,
                                f"redirect loop back to {target[:200]}",
                                final_url=target,
                                status=response.status_code,
                            )
                        if len(hops) > self.settings.max_redirects:
                            return result(
                                Outcome.TOO_MANY_REDIRECTS,
                                f"more than {self.settings.max_redirects} redirects",
                                final_url=target,
                                status=response.status_code,
                            )
                        seen.add(target)
                        current = target
                        continue
                    body = await self._read_body(response)
                finally:
                    await response.aclose()
            status = response.status_code
            outcome = (
                Outcome.NOT_MODIFIED if status == 304 else Outcome.OK if 200 <= status < 300 else Outcome.HTTP_ERROR
            )
            return result(
                outcome,
                "" if outcome != Outcome.HTTP_ERROR else f"HTTP {status}",
                status=status,
                body=body,
                headers=_raw(response.headers),
                request_headers=_raw(request.headers),
            )

    async def _read_body(self, response: httpx.Response) -> bytes:
        limit = self.settings.max_body_bytes
        declared = response.headers.get("content-length", "")
        encoding = response.headers.get("content-encoding", "")
        if declared.isdigit() and not encoding and int(declared) > limit:
            raise _TooLarge
        inflater = _Inflater(encoding, limit)
        chunks = [inflater.feed(chunk) async for chunk in response.aiter_raw()]
        return b"".join(chunks)

    def _host_slot(self, url: str) -> asyncio.Semaphore:
        host = host_of(url)
        if host not in self._hosts:
            self._hosts[host] = asyncio.Semaphore(self.settings.per_host)
        return self._hosts[host]


def _raw(headers: httpx.Headers) -> tuple[tuple[str, str], ...]:
    """Header names and values as they were on the wire (httpx's own view lower-cases names)."""
    return tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in headers.raw)


def _is_tls(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "SSL" in str(seen) or "certificate" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _classify_broken(exc: Exception) -> tuple[Outcome, str]:
    text = str(exc) or type(exc).__name__
    lowered = text.lower()
    if "too long" in lowered or "too large" in lowered or "buffer" in lowered:
        return Outcome.TOO_LARGE, f"headers too large: {text}"
    if isinstance(exc, httpx.ReadError) or "reset" in lowered or "peer closed" in lowered or "disconnected" in lowered:
        return Outcome.RESET, f"connection dropped: {text}"
    return Outcome.PROTOCOL_ERROR, f"broken HTTP: {text}"
