"""Requests to web archives, bounded whatever the archive does: each has a total deadline
(`ARCHIVER_WAYBACK_TIMEOUT`) and a body cap, the archiving step as a whole has a time budget
(`ARCHIVER_ARCHIVE_BUDGET`), and an archive that is down (connection refused, unknown name,
repeated timeouts) is detected once and not asked again in the same run.

Only configured endpoints are asked through here (the Wayback Machine, Memento TimeGates and
TimeMaps); archived pages of other archives are fetched like any page, through the address guard.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from archiver.config import ArchiveSettings
from archiver.errors import ArchiveUnreachable

API_MAX_BYTES = 4 * 1024 * 1024  # an API answer (JSON, CDX lines, a TimeMap) is cut here
TIMEOUTS_BEFORE_DOWN = 3  # consecutive timeouts from one archive before it counts as down


class BudgetSpent(Exception):
    """The archiving step's time budget is used up: what is left waits for the next run."""


@dataclass(frozen=True)
class Answer:
    """What an archive said: status 0 and an error when there was no complete HTTP answer."""

    url: str
    status: int
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    body: bytes = b""
    error: str = ""
    complete: bool = True  # False when the body was cut at the cap

    def header(self, name: str) -> str:
        return str(self.headers.get(name, ""))

    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.complete else None
        except ValueError:
            return None


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class ArchiveSession:
    """One run's connection to the archives. Use as `async with ArchiveSession(settings) as s`."""

    def __init__(
        self,
        settings: ArchiveSettings,
        budget: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.deadline = time.monotonic() + budget if budget else None
        self.down: dict[str, str] = {}  # origin -> why it is considered down for this run
        self._timeouts: dict[str, int] = {}
        limit = settings.timeout
        self._client = httpx.AsyncClient(
            headers={"User-Agent": settings.user_agent, "Accept": "application/json"},
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(limit, connect=min(settings.fetch.connect_timeout, limit)),
            transport=transport,
        )

    async def __aenter__(self) -> ArchiveSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    def left(self) -> float:
        """Seconds left in the budget (infinite without one)."""
        return float("inf") if self.deadline is None else self.deadline - time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Wait, but never past the budget."""
        if seconds >= self.left():
            raise BudgetSpent
        await asyncio.sleep(seconds)

    async def request(
        self, method: str, url: str, *, cap: int = API_MAX_BYTES, headers: Mapping[str, str] | None = None, **kw: Any
    ) -> Answer:
        """One request, its body read up to `cap` bytes, within `ARCHIVER_WAYBACK_TIMEOUT` seconds in
        all. Raises ArchiveUnreachable when the archive is down, BudgetSpent when the budget is."""
        origin = origin_of(url)
        if origin in self.down:
            raise ArchiveUnreachable(origin, self.down[origin])
        limit = min(self.settings.timeout, self.left())
        if limit <= 0:
            raise BudgetSpent
        try:
            async with asyncio.timeout(limit), self._client.stream(method, url, headers=headers, **kw) as response:
                body = bytearray()
                complete = True
                async for chunk in response.aiter_bytes():
                    body.extend(chunk)
                    if len(body) > cap:
                        del body[cap:]
                        complete = False
                        break
        except (TimeoutError, httpx.TimeoutException):
            if self.left() <= 0:
                raise BudgetSpent from None
            return self._timed_out(origin, url, limit)
        except httpx.ConnectError as exc:
            self.down[origin] = str(exc) or type(exc).__name__
            raise ArchiveUnreachable(origin, self.down[origin]) from None
        except (httpx.HTTPError, ValueError) as exc:
            return Answer(url, 0, error=f"{type(exc).__name__}: {exc}")
        self._timeouts[origin] = 0
        return Answer(
            url,
            response.status_code,
            response.headers,
            bytes(body),
            "" if complete else f"answer larger than {cap} bytes",
            complete,
        )

    def _timed_out(self, origin: str, url: str, limit: float) -> Answer:
        self._timeouts[origin] = self._timeouts.get(origin, 0) + 1
        if self._timeouts[origin] >= TIMEOUTS_BEFORE_DOWN:
            self.down[origin] = f"{self._timeouts[origin]} requests in a row got no complete answer within {limit:g}s"
            raise ArchiveUnreachable(origin, self.down[origin])
        return Answer(url, 0, error=f"no complete answer within {limit:g}s")
