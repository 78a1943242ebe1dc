"""The browser fetcher (archiver/browser): Debian's Chromium under the HTTP fetcher's promises, against
pages served on 127.0.0.1, a listener on 127.0.0.2 that must hear nothing, and real processes killed
mid-render. The decision "does this page need a browser?" is tested on pages of our own and on the
shared corpus of real pages."""

from __future__ import annotations

import asyncio
import csv
import logging
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import CHROMIUM, loopback_resolver
from simweb import LOREM, Response, Seen, article

from archiver.browser import Browser, Rendering, ShellFacts, browser_mode, needs_browser, shell_facts
from archiver.browser import chromium as chromium_module
from archiver.browser import mode as mode_module
from archiver.browser.need import TINY_WORDS
from archiver.config import Settings
from archiver.errors import ConfigError
from archiver.extract import decode, extract
from archiver.fetch import Fetcher
from archiver.models import BrowserMode, FetchedBy, FetchResult, Outcome

TESTS = Path(__file__).resolve().parent
CORPUS = TESTS.parent.parent / "shared" / "corpus"
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it): the browser cannot run"
)

# A single-page application: the served HTML has no text; its script writes the article.
SHELL = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Daily Test</title></head>
<body><div id="root"></div><noscript>You need to enable JavaScript to run this app.</noscript>
<script src="/static/js/main.4f2a9c.js"></script></body></html>"""
APP = """
const article = %s;
document.title = "Troops in Kursk | Daily Test";
document.getElementById("root").innerHTML = "<main><article><h1>Troops in Kursk</h1><p class=byline>By Jane Reporter</p>"
  + article.map(p => "<p>" + p + "</p>").join("") + "</article></main>";
"""


def app_js(*paragraphs: str) -> Response:
    body = (APP % repr(list(paragraphs))).encode()
    return Response(200, body, {"Content-Type": "application/javascript"})


def render(settings: Settings, url: str, resolver=loopback_resolver) -> Rendering:
    async def go() -> Rendering:
        async with Browser(settings.browser_settings, resolver=resolver) as browser:
            return await browser.render(url)

    return asyncio.run(go())


def http_fetch(settings: Settings, url: str) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(settings.fetch_settings, resolver=loopback_resolver) as fetcher:
            return await fetcher.fetch(url)

    return asyncio.run(go())


def need_of(result: FetchResult):
    extraction = extract(result.body, result.url, result.header("content-type"))
    return needs_browser(result, extraction, shell_facts(decode(result.body, result.header("content-type"))))


# --- rendering ------------------------------------------------------------------------------------


@needs_chromium
def test_an_article_that_only_its_script_writes_is_rendered_and_extracted(web, settings):
    url = web.page(web.url("/2025/04/troops", host="news.test"), SHELL)
    web.set("/static/js/main.4f2a9c.js", app_js(*LOREM))

    served = http_fetch(settings, url)
    assert LOREM[0] not in extract(served.body, url, served.header("content-type")).text  # not without the script
    assert need_of(served).browser  # auto mode would render it

    rendering = render(settings, url)
    assert rendering.rendered and rendering.outcome == Outcome.OK and rendering.status == 200
    assert rendering.final_url == url
    result = rendering.to_fetch_result()
    assert result.fetched_by == FetchedBy.BROWSER and result.header("content-type") == "text/html; charset=utf-8"
    extraction = extract(result.body, url, result.header("content-type"))
    assert LOREM[0] in extraction.text and LOREM[3] in extraction.text
    assert extraction.title.startswith("Troops in Kursk")
    script = next(r for r in rendering.requests if r.url.endswith("main.4f2a9c.js"))
    assert script.allowed and script.status == 200 and script.resource_type == "script"
    assert web.hits("/2025/04/troops") == 2  # this test's HTTP fetch, then the browser's one fetch of the document


class Listener:
    """Sockets on 127.0.0.2, a loopback address the settings do not allow: counts whatever reaches them."""

    def __init__(self) -> None:
        self.tcp = socket.create_server(("127.0.0.2", 0))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.2", 0))
        self.port, self.udp_port = self.tcp.getsockname()[1], self.udp.getsockname()[1]
        self.connections = 0
        self.datagrams = 0
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()
        threading.Thread(target=self._receive, daemon=True).start()

    def _accept(self) -> None:
        self.tcp.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def _receive(self) -> None:
        self.udp.settimeout(0.2)
        while not self._stop:
            try:
                self.udp.recvfrom(2048)
            except OSError:
                continue
            self.datagrams += 1

    def close(self) -> None:
        self._stop = True
        time.sleep(0.3)
        self.tcp.close()
        self.udp.close()


@pytest.fixture
def private():
    listener = Listener()
    yield listener
    listener.close()


async def intranet_resolver(host: str, port: int) -> list[str]:
    """`intranet.test` is a name on 127.0.0.2; every other `*.test` is 127.0.0.1."""
    if host == "intranet.test":
        return ["127.0.0.2"]
    return await loopback_resolver(host, port)


@needs_chromium
def test_every_request_to_a_private_address_is_refused_recorded_and_never_sent(web, settings, private):
    target = f"127.0.0.2:{private.port}"
    web.redirect("/go-elsewhere.js", f"http://{target}/redirected.js", 302)
    web.redirect("/frame-hop", f"http://{target}/frame2", 302)
    page = article(
        "Troops in Kursk",
        *LOREM,
        extra_head=f'<link rel="preconnect" href="http://{target}"><link rel="prefetch" href="http://{target}/prefetch">',
    ).replace(
        "</body>",
        f"""<img src="http://{target}/pixel.gif"><iframe src="http://intranet.test:{private.port}/frame"></iframe>
<iframe src="/frame-hop"></iframe><a id="ping" ping="http://{target}/ping" href="#here">here</a>
<script src="/go-elsewhere.js"></script>
<script>
fetch("http://{target}/fetch").catch(() => {{}});
const xhr = new XMLHttpRequest(); xhr.open("GET", "http://intranet.test:{private.port}/xhr"); xhr.send();
navigator.sendBeacon("http://{target}/beacon", "x");
try {{ new WebSocket("ws://{target}/socket"); }} catch (e) {{}}
try {{ new EventSource("http://{target}/events"); }} catch (e) {{}}
document.getElementById("ping").click();
try {{
  const pc = new RTCPeerConnection({{iceServers: [{{urls: "stun:127.0.0.2:{private.udp_port}"}}]}});
  pc.createDataChannel("d"); pc.createOffer().then(o => pc.setLocalDescription(o));
}} catch (e) {{}}
</script></body>""",
    )
    url = web.page("/2025/04/troops", page)

    rendering = render(settings, url, resolver=intranet_resolver)
    time.sleep(1.0)  # anything that escaped would have arrived by now

    assert private.connections == 0 and private.datagrams == 0
    assert rendering.rendered and LOREM[0] in rendering.html
    refused = {r.url.rsplit("/", 1)[-1]: r for r in rendering.refused}
    for name in ("pixel.gif", "frame", "go-elsewhere.js", "frame2", "fetch", "xhr", "beacon", "events"):
        assert name in refused, (name, sorted(refused))
        assert refused[name].outcome == Outcome.REFUSED_ADDRESS and "127.0.0.2" in refused[name].reason
    assert [h.location for h in refused["go-elsewhere.js"].redirects] == [f"http://{target}/redirected.js"]
    assert refused["socket"].resource_type == "websocket" and not refused["socket"].allowed
    hop = next(r for r in rendering.requests if r.url.endswith("/frame-hop"))
    assert hop.allowed and hop.status == 302  # the frame was sent on, and its next request refused


@needs_chromium
def test_redirects_of_resources_and_navigations_are_followed_hop_by_hop(web, settings):
    web.redirect("/old-story", "/2025/04/troops", 301)
    web.page("/2025/04/troops", article("Troops in Kursk", *LOREM))
    web.redirect("/cdn/app.js", "/cdn/app.v2.js", 302)
    web.set("/cdn/app.v2.js", Response(200, b"document.title = 'from v2';", {"Content-Type": "text/javascript"}))
    start = web.page(
        "/start",
        SHELL.replace("/static/js/main.4f2a9c.js", "/cdn/app.js").replace(
            "</body>", '<script>setTimeout(() => { location.href = "/old-story"; }, 300);</script></body>'
        ),
    )

    rendering = render(settings, start)

    assert rendering.rendered and rendering.final_url == web.url("/2025/04/troops") and LOREM[2] in rendering.html
    assert [(h.url, h.status, h.location) for h in rendering.redirects] == [
        (web.url("/old-story"), 301, web.url("/2025/04/troops"))
    ]
    script = next(r for r in rendering.requests if r.url.endswith("/cdn/app.js"))
    assert (
        script.allowed
        and script.status == 200
        and [h.location for h in script.redirects] == [web.url("/cdn/app.v2.js")]
    )
    assert web.hits("/cdn/app.v2.js") == 1


@needs_chromium
def test_redirects_without_end_are_stopped(web, settings):
    web.redirect("/loop-a", "/loop-b", 302)
    web.redirect("/loop-b", "/loop-a", 302)
    web.redirect("/js-a.js", "/js-b.js", 302)
    web.redirect("/js-b.js", "/js-a.js", 302)
    start = web.page(
        "/start",
        SHELL.replace("</body>", '<script src="/js-a.js"></script><script>location.href = "/loop-a";</script></body>'),
    )

    rendering = render(settings.with_(max_redirects=3), start)

    (script,) = [r for r in rendering.requests if r.url.endswith("/js-a.js")]
    assert script.outcome == Outcome.REDIRECT_LOOP and not script.allowed
    assert not rendering.rendered and "more than 3 redirects" in rendering.error
    assert [r.status for r in rendering.requests if r.main_frame] == [200, 302, 302, 302, None]


@needs_chromium
def test_a_page_that_sends_itself_to_a_private_address_is_not_rendered_there(web, settings, private):
    url = web.page(
        "/a",
        SHELL.replace("</body>", f'<script>location.href = "http://intranet.test:{private.port}/";</script></body>'),
    )

    rendering = render(settings, url, resolver=intranet_resolver)

    assert private.connections == 0
    assert not rendering.rendered and "intranet.test" in rendering.error and "refused" in rendering.error
    assert [n.allowed for n in rendering.requests if n.main_frame] == [True, False]
    assert rendering.to_fetch_result() == rendering.document  # the check keeps what the HTTP fetch saw


def png_facts(png: bytes) -> tuple[int, int]:
    """Width and height of a well-formed PNG: every chunk's CRC holds, the image data inflates to exactly
    the size the header announces, and IEND closes it. Fails on anything else."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, idat = 8, [], b""
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + data) == crc, kind
        chunks.append(kind)
        idat += data if kind == b"IDAT" else b""
        pos += 12 + length
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND"
    width, height, depth, color = struct.unpack(">IIBB", png[16:26])
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color]
    assert len(zlib.decompress(idat)) == height * (1 + width * channels * depth // 8)
    return width, height


@needs_chromium
def test_the_screenshot_is_a_full_page_png_cut_at_the_height_cap(web, settings):
    tall = web.page("/tall", article("Tall", *LOREM).replace("<footer>", '<div style="height:12000px"></div><footer>'))
    short = web.page("/short", article("Short", *LOREM))
    capped = settings.with_(screenshot_max_height=3000)

    async def go() -> tuple[Rendering, Rendering]:
        async with Browser(capped.browser_settings, resolver=loopback_resolver) as browser:
            return await browser.render(tall), await browser.render(short)

    tall_page, short_page = asyncio.run(go())

    assert tall_page.screenshot is not None and short_page.screenshot is not None
    assert png_facts(tall_page.screenshot.png) == (1280, 3000)
    assert tall_page.screenshot.cut and tall_page.screenshot.page_height > 12000
    width, height = png_facts(short_page.screenshot.png)
    assert width == 1280 and 900 <= height < 3000 and not short_page.screenshot.cut  # the whole page, no more


@needs_chromium
def test_no_cookie_or_storage_is_kept_from_one_page_to_the_next(web, settings):
    def echo(seen: Seen) -> Response:
        return Response(200, seen.headers.get("cookie", "no cookie").encode(), {"Content-Type": "text/plain"})

    web.set("/echo", echo)
    setter = SHELL.replace(
        "</body>",
        """<script>localStorage.setItem("meter", "3"); document.cookie = "meter=3; path=/";
fetch("/echo").then(r => r.text()).then(t => { document.getElementById("root").textContent = "in page: " + t; });
</script></body>""",
    )
    first = web.page("/first", setter, headers={"Set-Cookie": "session=abc; Path=/"})
    second = web.page(
        "/second",
        SHELL.replace(
            "</body>",
            """<script>fetch("/echo").then(r => r.text()).then(t => { document.getElementById("root").textContent =
"cookie: " + t + "; storage: " + localStorage.getItem("meter"); });</script></body>""",
        ),
    )

    async def go() -> tuple[Rendering, Rendering]:
        async with Browser(settings.browser_settings, resolver=loopback_resolver) as browser:
            return await browser.render(first), await browser.render(second)

    one, two = asyncio.run(go())

    assert "in page: " in one.html and "session=abc" in one.html and "meter=3" in one.html  # cookies work in a page
    assert "cookie: no cookie; storage: null" in two.html  # and none survives it


CHALLENGE = """<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>
<p>Checking your browser before accessing news.test. This process is automatic.</p>
<script>document.cookie = "cleared=yes; path=/"; setTimeout(() => location.reload(), 100);</script></body></html>"""


def challenged(seen: Seen) -> Response:
    """A JavaScript challenge (a Cloudflare-like "Just a moment..."): 503 until its script set the cookie."""
    if "cleared=yes" in seen.headers.get("cookie", ""):
        return Response(200, article("Troops in Kursk", *LOREM).encode(), {"Content-Type": "text/html"})
    return Response(503, CHALLENGE.encode(), {"Content-Type": "text/html"})


@needs_chromium
def test_a_javascript_challenge_is_passed_like_a_browser_would(web, settings):
    url = web.set("/2025/04/troops", challenged)
    served = http_fetch(settings, url)
    assert served.status == 503 and need_of(served).browser

    rendering = render(settings, url)

    assert rendering.rendered and rendering.outcome == Outcome.OK and rendering.status == 200
    assert LOREM[1] in extract(rendering.to_fetch_result().body, url, "text/html").text
    assert [(n.status, n.allowed) for n in rendering.requests if n.main_frame] == [(503, True), (200, True)]


@needs_chromium
def test_the_pool_bounds_how_many_pages_render_at_once(web, settings):
    pooled = settings.with_(browser_pages=2, per_host=10)
    web.set(
        "/slow.js", Response(200, b"document.body.dataset.loaded = 1;", {"Content-Type": "text/javascript"}, delay=1.5)
    )
    urls = [
        web.page(
            f"/p{n}",
            article(f"Page {n}", *LOREM).replace(
                "</body>", f'<script src="http://cdn.test:{web.port}/slow.js"></script></body>'
            ),
        )
        for n in range(5)
    ]

    async def go() -> list[Rendering]:
        async with Browser(pooled.browser_settings, resolver=loopback_resolver) as browser:
            return await asyncio.gather(*(browser.render(u) for u in urls))

    renderings = asyncio.run(go())

    assert all(r.rendered for r in renderings)
    assert web.max_in_flight["cdn.test"] == 2  # pages overlapped, and never more than two


@needs_chromium
def test_a_page_that_never_settles_is_cut_at_the_total_timeout_and_the_next_page_renders(web, settings):
    quick = settings.with_(total_timeout=4.0)
    stuck = web.page("/stuck", "<html><head><script>while (true) {}</script></head><body>never</body></html>")
    fine = web.page("/fine", article("Fine", *LOREM))

    async def go() -> tuple[Rendering, Rendering]:
        async with Browser(quick.browser_settings, resolver=loopback_resolver) as browser:
            return await browser.render(stuck), await browser.render(fine)

    first, second = asyncio.run(go())

    assert not first.rendered and "4s" in first.error
    assert first.to_fetch_result() == first.document and first.document.outcome == Outcome.OK
    assert second.rendered and LOREM[0] in second.html


@needs_chromium
def test_bodies_over_the_cap_are_refused_and_a_page_over_it_is_not_rendered(web, settings):
    capped = settings.with_(max_body_bytes=100_000)
    web.set("/huge.js", Response(200, b"//" + b"x" * 150_000, {"Content-Type": "text/javascript"}))
    page = web.page("/a", article("A", *LOREM).replace("</body>", '<script src="/huge.js"></script></body>'))
    big = web.page("/big", article("Big", *LOREM * 200))

    async def go() -> tuple[Rendering, Rendering]:
        async with Browser(capped.browser_settings, resolver=loopback_resolver) as browser:
            return await browser.render(page), await browser.render(big)

    small, too_big = asyncio.run(go())

    (huge,) = [r for r in small.requests if r.url.endswith("/huge.js")]
    assert not huge.allowed and huge.outcome == Outcome.TOO_LARGE
    assert small.rendered
    assert not too_big.rendered and too_big.outcome == Outcome.TOO_LARGE and too_big.document.body == b""


@needs_chromium
def test_what_is_not_an_html_page_is_left_to_the_http_fetcher(web, settings):
    pdf = web.set("/paper.pdf", Response(200, b"%PDF-1.7\n...", {"Content-Type": "application/pdf"}))

    async def go() -> tuple[Rendering, Rendering]:
        async with Browser(settings.browser_settings, resolver=loopback_resolver) as browser:
            return await browser.render(pdf), await browser.render("http://gone.example/page")

    document, dead = asyncio.run(go())

    assert not document.rendered and "not HTML" in document.error
    assert document.to_fetch_result().fetched_by == FetchedBy.HTTP and document.to_fetch_result().body.startswith(
        b"%PDF"
    )
    assert not dead.rendered and dead.outcome == Outcome.DNS_ERROR and dead.requests == ()


@needs_chromium
def test_a_chromium_that_crashed_is_started_again_for_the_next_page(web, settings):
    first, second = web.page("/one", article("One", *LOREM)), web.page("/two", article("Two", *LOREM))

    async def go() -> tuple[Rendering, Rendering]:
        async with Browser(settings.browser_settings, resolver=loopback_resolver) as browser:
            one = await browser.render(first)
            (crashed,) = [  # the browser process: Playwright's driver's child
                pid
                for pid, (_, _, cmd) in processes().items()
                if "--remote-debugging-pipe" in cmd
                and "playwright/driver" in _parent_command(pid)
                and os.getpid() in _ancestors(pid)
            ]
            os.kill(crashed, signal.SIGKILL)
            return one, await browser.render(second)

    one, two = asyncio.run(go())

    assert one.rendered and two.rendered and "Two" in two.html


def _parent_command(pid: int) -> str:
    ppid = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1]
    return (Path("/proc") / ppid / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")


def _ancestors(pid: int) -> set[int]:
    found = set()
    while pid > 1:
        try:
            pid = int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            break
        found.add(pid)
    return found


@needs_chromium
def test_the_readme_example_renders_a_page(web, monkeypatch):
    readme = (TESTS.parent / "README.md").read_text("utf-8")
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "Browser(" in b]
    url = web.page("/2025/04/troops", SHELL)
    web.set("/static/js/main.4f2a9c.js", app_js(*LOREM))
    monkeypatch.setenv("ARCHIVER_ALLOW_PRIVATE", "127.0.0.1/32")  # the example resolves nothing: an IP literal
    namespace: dict[str, object] = {}
    exec(compile(block.replace("https://example.org/", url), "README.md", "exec"), namespace)  # noqa: S102
    result = namespace["result"]
    assert (
        isinstance(result, FetchResult) and result.fetched_by == FetchedBy.BROWSER and LOREM[0].encode() in result.body
    )


# --- Chromium never outlives us ---------------------------------------------------------------------

RENDERER = """
import asyncio, os, sys
from archiver.browser import Browser
from archiver.config import Settings
from archiver.fetch import DNSFailure

async def resolver(host, port):
    if host.endswith(".test"):
        return ["127.0.0.1"]
    raise DNSFailure(host)

async def main():
    environ = {**os.environ, "ARCHIVER_ALLOW_PRIVATE": "127.0.0.1/32"}  # ARCHIVER_CHROMIUM is honoured
    settings = Settings.load(environ=environ, total_timeout=120, read_timeout=120)
    async with Browser(settings.browser_settings, resolver=resolver) as browser:
        await browser.render(sys.argv[1])

asyncio.run(main())
"""


def processes() -> dict[int, tuple[int, str, str]]:
    """pid -> (process group, state, command line) of every process on the machine."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        found[int(entry.name)] = (int(fields[2]), fields[0], cmdline)
    return found


def chromium_of(marker: str) -> set[int]:
    """The live processes of the Chromium whose profile lives under `marker`: those naming it, and every
    process in their process groups (renderers, zygotes and the GPU process do not name it)."""
    table = processes()
    groups = {pgid for pid, (pgid, _, cmd) in table.items() if marker in cmd and "chrom" in cmd}
    return {
        pid
        for pid, (pgid, state, cmd) in table.items()
        if state != "Z" and ((marker in cmd and "chrom" in cmd) or pgid in groups)
    }


@needs_chromium
@pytest.mark.parametrize(
    "sig, group",
    [(signal.SIGKILL, False), (signal.SIGTERM, False), (signal.SIGKILL, True)],
    ids=["SIGKILL", "SIGTERM", "SIGKILL to the process group, driver included"],
)
def test_killing_the_process_mid_render_leaves_no_chromium_behind(web, request, sig, group):
    web.set("/hang.js", Response(200, b"1;", {"Content-Type": "text/javascript"}, delay=60))
    url = web.page("/a", article("A", *LOREM).replace("</body>", '<script src="/hang.js"></script></body>'))
    # Chromium's profile and run directories go here, so its command lines name it (a short path: Chromium's
    # singleton socket lives there, and a socket's path has at most 107 bytes)
    tmp = Path(tempfile.mkdtemp(prefix="browser-kill-", dir="/tmp"))
    request.addfinalizer(lambda: shutil.rmtree(tmp, ignore_errors=True))
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(TESTS.parent)}
    child = subprocess.Popen(
        [sys.executable, "-c", RENDERER, url], env=env, stderr=subprocess.PIPE, start_new_session=group
    )
    try:
        deadline = time.monotonic() + 60
        while web.hits("/hang.js") == 0:  # Chromium is rendering and waiting on the script
            assert child.poll() is None and time.monotonic() < deadline, (
                child.stderr.read().decode()[-2000:] if child.stderr else ""
            )
            time.sleep(0.1)
        running = chromium_of(str(tmp))
        assert len(running) >= 3  # the browser, its zygote and the renderer at least

        if group:  # as a service manager or the OOM killer of a cgroup would: Playwright's driver dies too
            os.killpg(child.pid, sig)
        else:
            child.send_signal(sig)
        child.wait(timeout=30)

        deadline = time.monotonic() + 30
        while chromium_of(str(tmp)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert chromium_of(str(tmp)) == set()
        assert not any(p in processes() and processes()[p][1] != "Z" for p in running)
        if not group:
            assert not list(tmp.glob("playwright*"))  # the driver removed Chromium's profile
    finally:
        if child.poll() is None:
            child.kill()
    if group:
        return  # Chromium exited when the driver's pipe closed; nobody was left to remove its profile

    # our own run directory is left by a killed process; the next browser removes it
    leftovers = list(tmp.glob("archiver-chromium-*"))
    assert [p.name.split("-")[2] for p in leftovers] == [str(child.pid)]
    tempdir = chromium_module.tempfile.tempdir
    chromium_module.tempfile.tempdir = str(tmp)
    try:
        asyncio.run(_start_and_stop(Settings()))
    finally:
        chromium_module.tempfile.tempdir = tempdir
    assert not any(p.exists() for p in leftovers)


async def _start_and_stop(settings: Settings) -> None:
    async with Browser(settings.browser_settings):
        pass


# --- settings ---------------------------------------------------------------------------------------


def test_browser_settings_come_from_the_environment():
    loaded = Settings.load(
        environ={
            "ARCHIVER_BROWSER": "Always",
            "ARCHIVER_BROWSER_PAGES": "3",
            "ARCHIVER_CHROMIUM": "/opt/chromium/chrome",
            "ARCHIVER_SCREENSHOT_MAX_HEIGHT": "5000",
        }
    )
    assert (loaded.browser, loaded.browser_pages, loaded.chromium, loaded.screenshot_max_height) == (
        BrowserMode.ALWAYS,
        3,
        "/opt/chromium/chrome",
        5000,
    )
    assert Settings().browser == BrowserMode.AUTO and Settings().browser_pages == 2
    with pytest.raises(ConfigError, match=r"ARCHIVER_BROWSER='sometimes': must be never, auto or always"):
        Settings.load(environ={"ARCHIVER_BROWSER": "sometimes"})


def test_auto_without_chromium_is_never_and_says_so_once(monkeypatch, caplog):
    monkeypatch.setattr(mode_module, "_said", set())
    caplog.set_level(logging.INFO, logger="archiver.browser")
    nowhere = lambda name: None  # noqa: E731

    assert browser_mode(Settings().browser_settings, which=nowhere) == BrowserMode.NEVER
    assert browser_mode(Settings().browser_settings, which=nowhere) == BrowserMode.NEVER
    assert [r.getMessage() for r in caplog.records].count(
        "no Chromium found: pages are fetched over HTTP only (browser mode never)"
    ) == 1
    assert browser_mode(Settings().browser_settings, which=lambda name: "/usr/bin/chromium") == BrowserMode.AUTO
    assert (
        browser_mode(Settings(browser=BrowserMode.NEVER).browser_settings, which=lambda name: "/usr/bin/chromium")
        == BrowserMode.NEVER
    )


def test_a_chromium_asked_for_and_missing_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="ARCHIVER_BROWSER=always"):
        browser_mode(Settings(browser=BrowserMode.ALWAYS).browser_settings, which=lambda name: None)
    with pytest.raises(ConfigError, match="ARCHIVER_CHROMIUM="):
        browser_mode(Settings(chromium=str(tmp_path / "chrome")).browser_settings)
    with pytest.raises(ConfigError, match=r"browser_pages \(ARCHIVER_BROWSER_PAGES\) must be a finite number from 1"):
        Browser(Settings(browser_pages=0).browser_settings)


def test_a_chromium_that_does_not_start_is_a_config_error(tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'this is not a browser' >&2\nexit 1\n")
    fake.chmod(0o755)

    async def go() -> None:
        async with Browser(Settings(chromium=str(fake)).browser_settings):
            pass

    with pytest.raises(ConfigError, match=f"Chromium at {fake} did not start"):
        asyncio.run(go())


# --- does a page need the browser? --------------------------------------------------------------------

WORDS = " ".join(LOREM)
SHELLS = {
    "create-react-app": (SHELL, True),
    "next.js without server rendering": (
        '<html><head><script id="__NEXT_DATA__" type="application/json">{"props":{}}</script></head>'
        '<body><div id="__next"></div><script src="/_next/static/chunks/main-1a2b.js"></script></body></html>',
        True,
    ),
    "angular": (
        '<html><body><app-root></app-root><script src="main.8c1f.js" type="module"></script></body></html>',
        True,
    ),
    "vue": ('<html><body><div id="app"></div><script src="/js/app.91b2.js"></script></body></html>', True),
    "noscript only": (
        "<html><body><noscript>Please enable JavaScript to view this site.</noscript>"
        '<script src="/bundle.js"></script></body></html>',
        True,
    ),
    "cloudflare challenge": (
        "<html><head><title>Just a moment...</title></head><body><p>Checking your browser before accessing.</p>"
        '<script src="/cdn-cgi/challenge-platform/h/g/orchestrate/jsch/v1"></script></body></html>',
        True,
    ),
    "captcha wall": (
        "<html><head><title>Just a moment...</title></head><body><p>Verify you are human by completing the captcha.</p>"
        '<div class="g-recaptcha"></div></body></html>',
        False,
    ),
    "next.js rendered on the server": (
        f'<html><body><div id="__next"><article><h1>Troops</h1><p>{WORDS}</p></article></div>'
        '<script id="__NEXT_DATA__" type="application/json">{}</script></body></html>',
        False,
    ),
    "a short page without scripts": ("<html><body><h1>Contact</h1><p>Write to us.</p></body></html>", False),
    "a bundle on a short page": ('<html><body><h1>Contact</h1><script src="/site.js"></script></body></html>', False),
}


def served(body: str, status: int = 200, content_type: str = "text/html", outcome: Outcome = Outcome.OK) -> FetchResult:
    return FetchResult(
        url="https://news.example/a",
        outcome=outcome,
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        status=status,
        headers=(("Content-Type", content_type),),
        body=body.encode(),
    )


@pytest.mark.parametrize("name", SHELLS)
def test_the_browser_is_needed_for_shells_and_passable_challenges_only(name):
    html, wanted = SHELLS[name]
    need = need_of(served(html))
    assert need.browser is wanted, need.reason
    assert need.reason


def test_no_browser_for_what_it_cannot_help():
    assert not need_of(served(SHELL, status=404, outcome=Outcome.HTTP_ERROR)).browser  # an error page stays one
    assert not need_of(served("%PDF-1.7", content_type="application/pdf")).browser
    dead = FetchResult(
        url="https://gone.example/", outcome=Outcome.DNS_ERROR, started_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert not need_of(dead).browser
    assert need_of(served(SHELLS["cloudflare challenge"][0], status=503, outcome=Outcome.HTTP_ERROR)).browser


@pytest.mark.skipif(not (CORPUS / "labels.csv").exists(), reason=f"the shared corpus is not at {CORPUS}")
def test_on_real_pages_only_the_javascript_challenge_needs_the_browser():
    """Every article, home page and not-found page of the corpus holds its text already; of its `other`
    pages, the Project Shield interstitial is a challenge a browser passes, the 403 is not."""
    wanted, got, words = {}, {}, {}
    for label in csv.DictReader((CORPUS / "labels.csv").open(encoding="utf-8")):
        body = (CORPUS / "pages" / label["file"]).read_bytes()
        result = replace(served(""), body=body)
        extraction = extract(body, result.url, "text/html")
        got[label["file"]] = needs_browser(result, extraction, shell_facts(decode(body, "text/html"))).browser
        wanted[label["file"]] = label["file"] == "other_challenge_thelocal_1.html"
        if label["kind"] != "other":
            words[label["file"]] = extraction.words
    assert got == wanted
    assert min(words.values()) >= TINY_WORDS  # no real page is "tiny"
    assert len(got) == 42


def test_the_facts_are_read_from_the_markup():
    facts = shell_facts(SHELL)
    assert facts.mount == "#root" and facts.external_scripts == 1 and facts.visible_words == 0
    assert facts.noscript_enable.lower() == "need to enable javascript"
    assert shell_facts("") == shell_facts("<html></html>") == ShellFacts()  # no markup, no facts, no error
