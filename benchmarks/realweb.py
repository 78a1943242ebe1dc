"""A simulated web of real news pages: the 42 pages of the shared corpus served under N URLs by
several simulated hosts, each answer delayed by a fixed latency and unique.

Each simulated host is its own loopback address (host k answers on 127.0.0.(k+1), all on one port),
so a client that only takes IP literals (a peer tool that resolves names itself) reaches the same
hosts as one that resolves `hostK.bench` names through an injected resolver; nothing leaves
127.0.0.0/8.

Every answer differs from the last in its boilerplate, as a real page does: a request id and a
script nonce in the head, an empty ad container inside the article, an ad slot, a visible "page
generated" time and a block of teasers in a new order at the end of the body. None of that is
article text (`calibrate` checks it: the extracted text of two answers is the same). From
generation 1 on, a chosen set of URLs really changes: one paragraph of the article is edited (a
sentence appended to it), in the markup and wherever the page repeats its text (JSON-LD).

The server counts requests in flight per origin (scheme, host, port as the client addressed it in
its Host header) and keeps the maximum. A control listener on 127.0.0.1 answers `GET /stats`,
`POST /reset` (counters back to zero) and `POST /generation/G`.
"""

from __future__ import annotations

import asyncio
import csv
import json
import multiprocessing
import random
import re
import resource
import socket
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
MAX_REQUEST_HEAD = 64 * 1024  # bytes of request line and headers the server reads at most
STORY = re.compile(r"^/news/2025/story-(\d+)$")


class CorpusMissing(Exception):
    """The corpus folder (its labels and pages) is not where the benchmark looked."""


@dataclass(frozen=True)
class CorpusPage:
    file: str
    kind: str  # free_article, paywalled_article, not_found_page, homepage, other
    paywall: str  # yes, no, unknown
    status: int  # what the simulated site answers with it


@dataclass(frozen=True)
class Edit:
    """A real change to an article: `old` (a run of words of one paragraph, as bytes in the page's
    own encoding) becomes `new` everywhere the page carries it."""

    old: bytes
    new: bytes


def status_of(file: str, kind: str) -> int:
    """Not-found pages answer 404 and the bot block 403, as their sites did; everything else 200."""
    if kind == "not_found_page":
        return 404
    if file.startswith("other_forbidden"):
        return 403
    return 200


def load_corpus(folder: Path) -> list[CorpusPage]:
    """The labelled pages of the corpus, in file order; CorpusMissing names what is absent."""
    labels, pages = folder / "labels.csv", folder / "pages"
    if not labels.is_file() or not pages.is_dir():
        raise CorpusMissing(
            f"the real-page corpus is absent: expected {labels} and {pages}/ (the shared corpus of "
            f"labelled news pages, read at run time and never copied into the repository); "
            f"pass --corpus DIR to point at it"
        )
    with labels.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    found = [
        CorpusPage(r["file"], r["kind"], r["paywall"], status_of(r["file"], r["kind"]))
        for r in rows
        if (pages / r["file"]).is_file()
    ]
    if not found:
        raise CorpusMissing(f"no page of {labels} is under {pages}/")
    return sorted(found, key=lambda p: p.file)


def read_body(folder: Path, page: CorpusPage) -> bytes:
    return (folder / "pages" / page.file).read_bytes()


def page_of(n: int, pages: int) -> int:
    """The corpus page served under URL number n."""
    return n % pages


def content_type_of(body: bytes) -> str:
    """Declare UTF-8 in the header when the page is UTF-8, as most sites do; else let the page say."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "text/html"
    return "text/html; charset=utf-8"


# --- the boilerplate that varies on every answer -----------------------------------------------------

_HEAD_OPEN = re.compile(rb"<head\b[^>]*>", re.I)
_HTML_OPEN = re.compile(rb"<html\b[^>]*>", re.I)
_BODY_CLOSE = re.compile(rb"</body\s*>", re.I)
_P_OPEN = re.compile(rb"<p[\s>]", re.I)
TEASERS = [
    "Markets rally as central banks signal a pause",
    "The quiet town that became a tech hub",
    "Five things to know before the summit",
    "Opinion: the case for slower cities",
    "Live: storm warnings across the coast",
    "Review: a debut novel that lingers",
    "How a small vineyard weathered the drought",
    "Sport: late goal decides the derby",
]


@dataclass(frozen=True)
class Template:
    """A page cut where the varying boilerplate goes: after the head opens, inside the article
    (before the paragraph that a real edit touches, when there is one) and before the body closes."""

    parts: tuple[bytes, ...]

    @classmethod
    def of(cls, body: bytes, edit: Edit | None) -> Template:
        head = _HEAD_OPEN.search(body) or _HTML_OPEN.search(body)
        at_head = head.end() if head else 0
        closes = list(_BODY_CLOSE.finditer(body))
        at_tail = closes[-1].start() if closes else len(body)
        at_inline = at_tail
        if edit is not None:
            where = body.find(edit.old)
            starts = [m.start() for m in _P_OPEN.finditer(body, at_head, max(at_head, where))]
            if where >= 0 and starts:
                at_inline = starts[-1]
        cuts = sorted({at_head, at_inline, at_tail})
        return cls(tuple(body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)))

    def render(self, rng: random.Random, now: float, visible: bool = True) -> bytes:
        """The page with fresh boilerplate; `visible=False` varies only markup no reader sees (for a
        page so bare that any visible addition would be all its text)."""
        nonce = f"{rng.getrandbits(64):016x}"
        stamp = time.strftime("%H:%M:%S", time.gmtime(now))
        head = (
            f'<meta name="request-id" content="{nonce}"><script nonce="{nonce}">'
            f'window.__rid="{nonce}";window.__ts={int(now * 1000)};</script>'
        ).encode()
        inline = f'<div class="ad-container" id="ad-{nonce[:8]}" data-ts="{int(now)}"></div>'.encode()
        order = rng.sample(TEASERS, len(TEASERS))
        teasers = "".join(f'<li><a href="/promo/{rng.randrange(10**6)}">{t}</a></li>' for t in order)
        tail = (
            (
                f'<div class="ad-slot" id="slot-{nonce[8:]}"><a href="/ads/{nonce[:6]}">Sponsored</a></div>'
                f'<aside class="more-stories"><ul>{teasers}</ul></aside>'
                f'<div class="page-generated">Page generated at {stamp} GMT</div>'
            )
            if visible
            else f'<div class="ad-slot" id="slot-{nonce[8:]}" data-ts="{int(now)}"></div>'
        ).encode()
        pieces = [head, inline, tail] if len(self.parts) == 4 else [head, tail]
        out = [self.parts[0]]
        for piece, part in zip(pieces, self.parts[1:], strict=False):
            out += [piece, part]
        return b"".join(out)


# --- the server ----------------------------------------------------------------------------------------


@dataclass
class Counters:
    """What the server saw: requests in flight per origin and their maximum, answers by status."""

    in_flight: Counter[str] = field(default_factory=Counter)
    max_in_flight: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    total_in_flight: int = 0
    max_total_in_flight: int = 0
    bytes_sent: int = 0

    def begin(self, origin: str) -> None:
        self.in_flight[origin] += 1
        self.requests[origin] += 1
        self.max_in_flight[origin] = max(self.max_in_flight[origin], self.in_flight[origin])
        self.total_in_flight += 1
        self.max_total_in_flight = max(self.max_total_in_flight, self.total_in_flight)

    def end(self, origin: str) -> None:
        self.in_flight[origin] -= 1
        self.total_in_flight -= 1

    def snapshot(self) -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "requests": sum(self.requests.values()),
            "requests_per_origin": dict(self.requests),
            "max_in_flight_per_origin": dict(self.max_in_flight),
            "max_in_flight_any_origin": max(self.max_in_flight.values(), default=0),
            "max_in_flight_total": self.max_total_in_flight,
            "statuses": {str(k): v for k, v in self.statuses.items()},
            "bytes_sent": self.bytes_sent,
            "server_cpu_s": usage.ru_utime + usage.ru_stime,
        }

    def reset(self) -> None:
        """Counts back to zero; requests still in flight stay counted (they end later)."""
        self.max_in_flight = Counter({o: n for o, n in self.in_flight.items() if n})
        self.requests, self.statuses = Counter(), Counter()
        self.max_total_in_flight, self.bytes_sent = self.total_in_flight, 0


@dataclass(frozen=True)
class WebSpec:
    """Everything the server process needs, small enough to pickle: it reads the pages itself."""

    corpus: Path
    urls: int
    hosts: int
    latency: float
    edits: dict[str, Edit]  # by corpus file
    quiet: frozenset[str]  # corpus files served with invisible boilerplate only (see `Template.render`)
    changed: frozenset[int]  # URL numbers whose article really changes from generation 1 on
    seed: int = 1


class _Server:
    def __init__(self, spec: WebSpec) -> None:
        self.spec = spec
        self.pages = load_corpus(spec.corpus)
        self.templates: list[Template] = []
        self.edited: dict[int, Template] = {}
        self.content_types: list[str] = []
        for i, page in enumerate(self.pages):
            body = read_body(spec.corpus, page)
            edit = spec.edits.get(page.file)
            self.templates.append(Template.of(body, edit))
            self.content_types.append(content_type_of(body))
            if edit is not None:
                self.edited[i] = Template.of(body.replace(edit.old, edit.new), Edit(edit.new, edit.new))
        self.generation = 0
        self.counters = Counters()
        self.rng = random.Random(spec.seed)

    def answer(self, path: str) -> tuple[int, str, bytes]:
        match = STORY.match(path)
        n = int(match.group(1)) if match else -1
        if not 0 <= n < self.spec.urls:
            return 404, "text/html; charset=utf-8", b"<html><body><h1>Not found</h1></body></html>"
        i = page_of(n, len(self.pages))
        template = self.templates[i]
        if self.generation >= 1 and n in self.spec.changed and i in self.edited:
            template = self.edited[i]
        visible = self.pages[i].file not in self.spec.quiet
        return self.pages[i].status, self.content_types[i], template.render(self.rng, time.time(), visible)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        local = writer.get_extra_info("sockname")
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
                headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
                if target.startswith("http://"):  # absolute form, as sent to a proxy
                    target = "/" + target.split("/", 3)[-1] if target.count("/") >= 3 else "/"
                origin = "http://" + (headers.get("host") or f"{local[0]}:{local[1]}").lower()
                self.counters.begin(origin)
                try:
                    await asyncio.sleep(self.spec.latency)
                    status, content_type, body = self.answer(target.split("?", 1)[0])
                    reason = {200: "OK", 403: "Forbidden", 404: "Not Found"}.get(status, "OK")
                    writer.write(
                        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n".encode()
                        + (body if method != "HEAD" else b"")
                    )
                    await writer.drain()
                    self.counters.statuses[status] += 1
                    self.counters.bytes_sent += len(body)
                finally:
                    self.counters.end(origin)
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    async def control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, path = head.decode("latin-1").split(" ", 2)[:2]
            payload: dict[str, Any] = {"generation": self.generation}
            if method == "POST" and path == "/reset":
                self.counters.reset()
            elif method == "POST" and path.startswith("/generation/"):
                self.generation = int(path.rsplit("/", 1)[-1])
                payload["generation"] = self.generation
            payload.update(self.counters.snapshot())
            body = json.dumps(payload).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()


def host_address(k: int) -> str:
    """The loopback address of simulated host k (0-based): 127.0.0.1, 127.0.0.2, ..."""
    return f"127.0.0.{k + 1}"


async def _listen(server: _Server, hosts: int) -> tuple[list[asyncio.Server], int]:
    """One listener per host address, all on the same port (retried when another process holds it)."""
    for _attempt in range(20):
        first = await asyncio.start_server(server.handle, host_address(0), 0, backlog=1024, limit=MAX_REQUEST_HEAD)
        port = first.sockets[0].getsockname()[1]
        listeners = [first]
        try:
            for k in range(1, hosts):
                listeners.append(
                    await asyncio.start_server(
                        server.handle, host_address(k), port, backlog=1024, limit=MAX_REQUEST_HEAD
                    )
                )
            return listeners, port
        except OSError:
            for listener in listeners:
                listener.close()
    raise OSError("could not find one free port on every simulated host's loopback address")


async def _serve(spec: WebSpec, ports: Any, ready: Any) -> None:
    server = _Server(spec)
    listeners, port = await _listen(server, spec.hosts)
    control = await asyncio.start_server(server.control, "127.0.0.1", 0)
    ports[0], ports[1] = port, control.sockets[0].getsockname()[1]
    ready.set()
    await asyncio.gather(*(listener.serve_forever() for listener in [*listeners, control]))


def _run(spec: WebSpec, ports: Any, ready: Any) -> None:
    asyncio.run(_serve(spec, ports, ready))


class RealWeb:
    """The server in its own process (so its CPU is its own); `url(n)` names URL number n."""

    def __init__(self, spec: WebSpec, start_timeout: float = 120) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.spec = spec
        ports = ctx.Array("i", 2)
        ready = ctx.Event()
        self.process = ctx.Process(target=_run, args=(spec, ports, ready), daemon=True)
        self.process.start()
        if not ready.wait(start_timeout):
            self.close()
            raise RuntimeError(f"the simulated web did not start within {start_timeout:g}s")
        self.port, self.control_port = ports[0], ports[1]

    def host_name(self, n: int) -> str:
        return f"host{n % self.spec.hosts}.bench"

    def url(self, n: int) -> str:
        """URL n by host name (resolve `hostK.bench` with `resolver`)."""
        return f"http://{self.host_name(n)}:{self.port}/news/2025/story-{n}"

    def ip_url(self, n: int) -> str:
        """URL n by IP literal, for a client that resolves names itself."""
        return f"http://{host_address(n % self.spec.hosts)}:{self.port}/news/2025/story-{n}"

    def _control(self, method: str, path: str) -> dict[str, Any]:
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=30) as s:
            s.sendall(f"{method} {path} HTTP/1.1\r\nHost: control\r\nContent-Length: 0\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        return dict(json.loads(data.split(b"\r\n\r\n", 1)[1]))

    def stats(self) -> dict[str, Any]:
        return self._control("GET", "/stats")

    def reset(self) -> dict[str, Any]:
        """The counters so far, then zeroed."""
        before = self.stats()
        self._control("POST", "/reset")
        return before

    def set_generation(self, generation: int) -> None:
        self._control("POST", f"/generation/{generation}")

    def close(self) -> None:
        self.process.terminate()
        self.process.join(5)


def bench_resolver(hosts: int) -> Any:
    """A resolver for the service: `hostK.bench` is 127.0.0.(K+1); any other name fails here, so
    nothing is ever looked up outside the machine."""
    from archiver.fetch.guard import DNSFailure  # the service's own error for a name that does not resolve

    async def resolve(host: str, port: int) -> list[str]:
        match = re.fullmatch(r"host(\d+)\.bench", host)
        if match and int(match.group(1)) < hosts:
            return [host_address(int(match.group(1)))]
        raise DNSFailure(f"{host}: not a benchmark host")

    return resolve
