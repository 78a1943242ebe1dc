"""A fast simulated web for the benchmark: an asyncio HTTP/1.1 server in its own process, serving N
realistic article pages (100–200 KiB of HTML) under 40 virtual hosts, each answer delayed by a fixed
latency. Pages are generated deterministically from their number; a "generation" counter changes
the text of a chosen subset between passes."""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import socket

WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "it",
    "was",
    "on",
    "with",
    "as",
    "by",
    "be",
    "are",
    "this",
    "from",
    "at",
    "have",
    "not",
    "government",
    "minister",
    "troops",
    "border",
    "region",
    "officials",
    "said",
    "report",
    "security",
    "council",
    "sanctions",
    "economy",
    "war",
    "agreement",
    "talks",
    "president",
    "army",
    "missile",
    "deployment",
    "analysts",
    "according",
    "spokesman",
    "statement",
    "week",
    "country",
    "military",
    "forces",
    "capital",
    "international",
    "pressure",
    "support",
    "defence",
    "weapons",
    "nuclear",
]


def page_html(n: int, generation: int = 0) -> bytes:
    """Article n: nav, scripts, JSON-LD, 900–1,600 words of body, footer; 100–200 KiB in all."""
    rng = random.Random(n)
    target = rng.randint(100, 200) * 1024
    words = [WORDS[rng.randrange(len(WORDS))] for _ in range(rng.randint(900, 1600))]
    paragraphs = [" ".join(words[i : i + 60]).capitalize() + "." for i in range(0, len(words), 60)]
    if generation:
        paragraphs.insert(2, f"Update {generation}: officials revised the figures for article {n} this week.")
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    nav = "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(60))
    related = "".join(
        f'<li><a href="/story/{rng.randrange(10**6)}">Related story {i}: {" ".join(rng.choices(WORDS, k=8))}</a></li>'
        for i in range(40)
    )
    head = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Story {n} | Bench Daily</title>'
        f'<meta property="og:type" content="article"><meta name="author" content="Reporter {n % 97}">'
        f'<meta property="article:published_time" content="2025-0{1 + n % 9}-1{n % 9}T08:00:00Z">'
        '<script type="application/ld+json">{"@type":"NewsArticle","isAccessibleForFree":true}</script>'
        "<style>" + "body{font-family:serif}" * 40 + "</style></head>"
    )
    html = (
        f"{head}<body><header><nav><ul>{nav}</ul></nav></header><main><article><h1>Story {n}</h1>"
        f'<p class="byline">By Reporter {n % 97}</p>{body}</article>'
        f"<aside><ul>{related}</ul></aside></main><footer><p>© Bench Daily</p></footer>"
    )
    # the rest of a real page's weight: half markup (ad slots, teasers), half scripts (app state)
    padding = max(0, target - len(html) - 40)
    slot = (
        '<div class="ad-slot" data-slot="{i}"><div class="teaser"><a href="/promo/{i}"><span class="kicker">'
        'Sponsored</span><span class="headline">Offer number {i} for readers</span></a></div></div>'
    )
    markup, i = [], 0
    while sum(map(len, markup)) < padding // 2:
        markup.append(slot.format(i=i))
        i += 1
    script = "<script>window.__STATE__=" + '"' + ("x" * max(0, padding // 2)) + '"' + "</script>"
    return (html + "".join(markup) + script + "</body></html>").encode()


async def _serve(port_out, latency: float, generation, changed: set[int], ready, pages: int) -> None:
    cache = {n: page_html(n) for n in range(pages)}  # generated before the clock starts

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                path = request.split(b" ", 2)[1].decode()
                await asyncio.sleep(latency)
                try:
                    n = int(path.rsplit("/", 1)[-1])
                    body = page_html(n, generation.value) if n in changed and generation.value else cache[n]
                    status = b"200 OK"
                except ValueError:
                    body, status = b"<h1>Not found</h1>", b"404 Not Found"
                writer.write(
                    b"HTTP/1.1 " + status + b"\r\nContent-Type: text/html; charset=utf-8\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    port_out.value = server.sockets[0].getsockname()[1]
    ready.set()
    async with server:
        await server.serve_forever()


def _run(port_out, latency, generation, changed, ready, pages) -> None:
    asyncio.run(_serve(port_out, latency, generation, changed, ready, pages))


class BenchWeb:
    def __init__(self, pages: int, latency: float, changed_share: float = 0.05) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.generation = ctx.Value("i", 0)
        self._port = ctx.Value("i", 0)
        self.changed = set(random.Random(42).sample(range(pages), int(pages * changed_share)))
        ready = ctx.Event()
        self.process = ctx.Process(
            target=_run, args=(self._port, latency, self.generation, self.changed, ready, pages), daemon=True
        )
        self.process.start()
        ready.wait(600)
        self.port = self._port.value

    def url(self, n: int, hosts: int) -> str:
        return f"http://host{n % hosts}.bench:{self.port}/news/2025/story/{n}"

    def change(self) -> None:
        self.generation.value += 1

    def close(self) -> None:
        self.process.terminate()
        self.process.join(5)


async def resolver(host: str, port: int) -> list[str]:
    """Every *.bench host lives on 127.0.0.1: nothing leaves the machine."""
    if host.endswith(".bench"):
        return ["127.0.0.1"]
    raise socket.gaierror(f"{host}: not a benchmark host")
