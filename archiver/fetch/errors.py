"""What went wrong with a fetch, as an outcome: one table from the exceptions of httpx, of the guard
and of the body cap to the recorded outcome and its message (httpx maps httpcore's exceptions
likewise, in `map_httpcore_exceptions`). Every fetch and every single exchange use it; an exception
the table does not name is a bug of ours, and is raised."""

from __future__ import annotations

import ssl
import zlib
from collections.abc import Callable

import httpx

from archiver.config import FetchSettings
from archiver.fetch.body import TooLarge, UnsupportedEncoding
from archiver.fetch.guard import AddressRefused, DNSFailure
from archiver.models import Outcome

Classify = Callable[[BaseException, FetchSettings], tuple[Outcome, str]]


def _connect(exc: BaseException, settings: FetchSettings) -> tuple[Outcome, str]:
    if _is_tls(exc):
        return Outcome.TLS_ERROR, f"TLS failed: {exc}"
    return Outcome.CONNECT_ERROR, f"connection failed: {exc or 'refused'}"


def _broken(exc: BaseException, settings: FetchSettings) -> tuple[Outcome, str]:
    """A server that spoke broken HTTP, dropped the connection, or sent headers past h11's limit."""
    text = str(exc) or type(exc).__name__
    lowered = text.lower()
    if "too long" in lowered or "too large" in lowered or "buffer" in lowered:
        return Outcome.TOO_LARGE, f"headers too large: {text}"
    if isinstance(exc, httpx.ReadError) or "reset" in lowered or "peer closed" in lowered or "disconnected" in lowered:
        return Outcome.RESET, f"connection dropped: {text}"
    return Outcome.PROTOCOL_ERROR, f"broken HTTP: {text}"


# (exceptions, how to say what happened), the first row that matches wins.
TABLE: tuple[tuple[tuple[type[BaseException], ...], Classify], ...] = (
    ((TimeoutError,), lambda e, s: (Outcome.TIMEOUT, f"no complete response within {s.total_timeout:g}s")),
    ((httpx.TimeoutException,), lambda e, s: (Outcome.TIMEOUT, f"{type(e).__name__}: {e or 'timed out'}")),
    ((DNSFailure,), lambda e, s: (Outcome.DNS_ERROR, f"DNS lookup failed: {e}")),
    ((AddressRefused,), lambda e, s: (Outcome.REFUSED_ADDRESS, f"refused: {e}")),
    ((TooLarge,), lambda e, s: (Outcome.TOO_LARGE, f"body larger than {s.max_body_bytes} bytes")),
    ((httpx.InvalidURL, httpx.UnsupportedProtocol), lambda e, s: (Outcome.BAD_URL, str(e))),
    ((httpx.ConnectError,), _connect),
    ((httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.CloseError), _broken),
    (
        (httpx.DecodingError, httpx.TransportError, zlib.error, UnsupportedEncoding),
        lambda e, s: (Outcome.PROTOCOL_ERROR, f"{type(e).__name__}: {e}"),
    ),
)
HANDLED: tuple[type[BaseException], ...] = tuple(t for types, _ in TABLE for t in types)


def outcome_of(exc: BaseException, settings: FetchSettings) -> tuple[Outcome, str]:
    """The outcome of a fetch that raised `exc` (one of `HANDLED`), and what to record as its error."""
    for types, classify in TABLE:
        if isinstance(exc, types):
            return classify(exc, settings)
    raise exc


def _is_tls(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "SSL" in str(seen) or "certificate" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
