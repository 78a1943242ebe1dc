"""What one browser rendering learned: typed, frozen, convertible to the HTTP fetcher's FetchResult. No I/O."""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from datetime import datetime

from archiver.models import FetchedBy, FetchResult, Hop, Outcome

# Headers that describe the bytes on the wire, not the rendered DOM we hand on.
WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive"})
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# What a browser renders: HTML, or a body that does not say what it is.
PAGE_TYPES = frozenset({"", "text/html", "application/xhtml+xml"})


@dataclass(frozen=True)
class SubRequest:
    """One request the page made (its document included) and what became of it."""

    url: str
    method: str
    resource_type: str  # Chromium's word: document, script, stylesheet, image, fetch, xhr, websocket, ...
    allowed: bool  # fetched by us and handed to the page
    outcome: Outcome  # the HTTP fetcher's vocabulary: ok, http_error, refused_address, dns_error, ...
    status: int | None = None
    reason: str = ""  # why it was refused or failed; "" when allowed
    size: int = 0  # bytes of body handed to the page
    main_frame: bool = False  # a navigation of the page itself (not a frame's)
    redirects: tuple[Hop, ...] = ()  # hops followed for it, each one guarded


@dataclass(frozen=True)
class Screenshot:
    """A PNG of the rendered page, full width, cut at the height cap."""

    png: bytes
    width: int
    height: int
    page_height: int  # the page's full height in CSS pixels; more than `height` when it was cut

    @property
    def cut(self) -> bool:
        return self.page_height > self.height

    @classmethod
    def from_png(cls, png: bytes, page_height: int) -> Screenshot:
        """Read the size from the PNG header; a ValueError if `png` is not a PNG."""
        if len(png) < 24 or not png.startswith(_PNG_SIGNATURE) or png[12:16] != b"IHDR":
            raise ValueError("not a PNG image")
        width, height = struct.unpack(">II", png[16:24])
        return cls(png, width, height, max(page_height, height))


@dataclass(frozen=True)
class Rendering:
    """A page as headless Chromium showed it: the DOM after its scripts ran, every request it made,
    and a screenshot. `document` is the HTTP fetch of the page that was rendered."""

    url: str
    outcome: Outcome
    started_at: datetime
    document: FetchResult
    rendered: bool = False  # a DOM was captured; when False, `error` says why and `document` is the result
    final_url: str = ""
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    html: str = ""  # the serialised DOM; "" when not rendered
    redirects: tuple[Hop, ...] = ()
    requests: tuple[SubRequest, ...] = ()
    screenshot: Screenshot | None = None
    error: str = ""
    notes: tuple[str, ...] = ()  # what was cut short without failing the render (load not finished, ...)
    elapsed_ms: int = 0

    @property
    def refused(self) -> tuple[SubRequest, ...]:
        return tuple(r for r in self.requests if not r.allowed)

    def to_fetch_result(self) -> FetchResult:
        """The rendering as the pipeline's FetchResult: the DOM as a UTF-8 body, marked as the browser's.
        A page the browser never ran is the HTTP fetcher's result, unchanged."""
        if not self.rendered:
            return self.document
        headers = tuple((k, v) for k, v in self.headers if k.lower() not in WIRE_HEADERS | {"content-type"})
        if self.html:
            headers += (("Content-Type", "text/html; charset=utf-8"),)
        return replace(
            self.document,
            outcome=self.outcome,
            final_url=self.final_url,
            status=self.status,
            headers=headers,
            body=self.html.encode("utf-8"),
            redirects=self.redirects,
            error=self.error,
            elapsed_ms=self.elapsed_ms,
            fetched_by=FetchedBy.BROWSER,
        )
