"""The address guard as an httpx transport: `GuardedTransport` owns an httpcore connection pool whose
network backend resolves names itself, asks the guard about every address, and connects only to an
address it allowed. So the guard judges the address each connection really goes to, after
resolution, for the first request and every redirect alike; and a client takes it as
`transport=`, like any httpx transport (a test can hand a `MockTransport` instead).

httpcore's exceptions are turned into httpx's by one table, as httpx's own transport does."""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import certifi
import httpcore
import httpx

from archiver.fetch.guard import AddressGuard, AddressRefused, DNSFailure, Resolver

# httpcore's exceptions and the httpx ones a transport raises for them, most specific first.
HTTPCORE_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextmanager
def httpx_errors(request: httpx.Request) -> Iterator[None]:
    """httpcore's exceptions as httpx's (the first row of `HTTPCORE_ERRORS` that matches)."""
    try:
        yield
    except Exception as exc:
        mapped = next((to for frm, to in HTTPCORE_ERRORS if isinstance(exc, frm)), None)
        if mapped is None:
            raise
        raise mapped(str(exc), request=request) from exc


class GuardedBackend(httpcore.AsyncNetworkBackend):
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
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = [str(ipaddress.ip_address(host.strip("[]")))]
        except ValueError:
            try:
                addresses = await self._resolver(host, port)
            except socket.gaierror as exc:  # a resolver that lets the operating system's error through
                raise DNSFailure(f"{host}: {exc.strerror or exc}") from None
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

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport over an httpcore pool whose every connection goes through the guard."""

    def __init__(self, guard: AddressGuard, resolver: Resolver, limits: httpx.Limits) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl.create_default_context(cafile=certifi.where()),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(resolver, guard),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        sent = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with httpx_errors(request):
            answer = await self._pool.handle_async_request(sent)
        assert isinstance(answer.stream, AsyncIterable)
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_Body(answer.stream, request),
            extensions=answer.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


class _Body(httpx.AsyncByteStream):
    """A response body read from the pool, its errors turned into httpx's."""

    def __init__(self, stream: AsyncIterable[bytes], request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with httpx_errors(self._request):
            async for chunk in self._stream:
                yield chunk

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            with httpx_errors(self._request):
                await close()
