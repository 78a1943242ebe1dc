"""Headless Chromium, driven by Playwright: one process, a small pool of pages, each in a fresh context.

Why Playwright rather than the DevTools protocol by hand: it is maintained by the people who follow
Chromium's protocol changes, typed, and already does what we would otherwise write and keep working
ourselves: request interception with fulfil/abort (`route`), WebSocket interception, full-page
screenshots, contexts that share nothing, and a bounded launch. Its wheel carries its own driver (a
Node process); we never download a browser but pass Debian's `chromium` as `executable_path`.

Lifetime: Chromium is the driver's child, talking to it over a pipe (`--remote-debugging-pipe`); the
driver is ours, reading commands from our pipe. When we die, however we die (SIGTERM, SIGKILL, a
crash), the driver reads end-of-file, closes Chromium and removes its temporary profile; if the
driver dies, Chromium's pipe closes and Chromium exits. tests/test_browser.py kills a rendering
process with SIGKILL and SIGTERM and checks that no process of its Chromium survives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from playwright.async_api import Browser as PlaywrightBrowser
from playwright.async_api import BrowserContext, FloatRect, Page, Playwright, ViewportSize, async_playwright
from playwright.async_api import Error as PlaywrightError

from archiver.browser.mode import find_chromium
from archiver.browser.network import REDIRECT_STATUSES, PageNetwork
from archiver.browser.records import PAGE_TYPES, Rendering, Screenshot
from archiver.config import BrowserSettings
from archiver.errors import ConfigError
from archiver.fetch import ACCEPT_LANGUAGE, Fetcher, Resolver
from archiver.models import Clock, FetchResult, Outcome, utcnow

log = logging.getLogger("archiver.browser")

VIEWPORT = ViewportSize(width=1280, height=900)
# Chromium reaches nothing by itself: every name (IP literals included) resolves to "not found", so a
# request that escaped interception (a preconnect, a prefetch) fails without leaving the machine;
# WebRTC may use no UDP of its own. The rest keeps a fresh profile quiet: no update, sync,
# safe-browsing or metrics calls, no GPU.
CHROMIUM_ARGS = (
    "--host-resolver-rules=MAP * ~NOTFOUND",
    # the full browser reads the first, the headless shell the second (both checked by tests/test_browser.py)
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-domain-reliability",
    "--dns-prefetch-disable",
    "--no-first-run",
    "--no-pings",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    # a script that allocates without end kills its own renderer, not the machine
    "--js-flags=--max-old-space-size=512",
)
LAUNCH_TIMEOUT = 30.0  # seconds for Chromium to start
SETTLE_SECONDS = 5.0  # after `load`, how long to wait for the network to go quiet
CAPTURE_RESERVE = 0.25  # share of the page's time kept for the DOM and the screenshot
CLOSE_TIMEOUT = 10.0  # seconds to close a page's context before the browser is restarted
_PAGE_HEIGHT = "Math.max(document.documentElement ? document.documentElement.scrollHeight : 0, document.body ? document.body.scrollHeight : 0)"
_DOM_SIZE = "document.documentElement ? document.documentElement.outerHTML.length : 0"
_RUN_DIR_PREFIX = "archiver-chromium-"


class Browser:
    """Renders pages in headless Chromium. Use as `async with Browser(settings) as browser`.

    At most `settings.pages` pages are open at once; each gets a fresh context (no cookie,
    storage or cache from another page) and the HTTP fetcher's timeouts and caps."""

    def __init__(self, settings: BrowserSettings, resolver: Resolver | None = None, clock: Clock | None = None) -> None:
        executable = find_chromium(settings)
        if executable is None:
            raise ConfigError(
                f"no Chromium at {settings.chromium!r}" if settings.chromium else "no Chromium found on PATH"
            )
        self.settings = settings
        self.executable = executable
        self._clock = clock or utcnow
        self._fetcher = Fetcher(settings.fetch, resolver, clock)
        self._pool = asyncio.Semaphore(settings.pages)
        self._lock = asyncio.Lock()
        self._playwright: Playwright | None = None
        self._browser: PlaywrightBrowser | None = None
        self._run_dir: Path | None = None

    async def __aenter__(self) -> Browser:
        """Start Chromium now, so that one that cannot start is said at once (a ConfigError)."""
        try:
            await self._ensure_browser()
        except PlaywrightError as exc:
            await self.aclose()
            raise ConfigError(f"Chromium at {self.executable} did not start: {_first_line(exc)}") from None
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close Chromium, the driver and the fetcher; remove the run's directory."""
        async with self._lock:
            await self._stop_browser()
            if self._playwright is not None:
                await self._playwright.stop()
                self._playwright = None
        await self._fetcher.aclose()

    async def render(self, url: str) -> Rendering:
        """Fetch `url` with the HTTP fetcher, then run it in Chromium; every failure is a Rendering, never
        an exception. A page that is not HTML, or was not fetched, is returned unrendered."""
        async with self._pool:  # the page's time starts when it gets a slot
            started = self._clock()
            t0 = time.monotonic()
            deadline = t0 + self.settings.fetch.total_timeout
            document = await self._fetcher.fetch(url)
            return await self._render_document(url, started, document, deadline, t0)

    async def render_fetched(self, document: FetchResult) -> Rendering:
        """Run a page the HTTP fetcher has already fetched in Chromium: `document` answers the page's
        own first request (it is not fetched again); everything else it loads goes through the guard."""
        async with self._pool:
            started = self._clock()
            t0 = time.monotonic()
            deadline = t0 + self.settings.fetch.total_timeout
            return await self._render_document(document.url, started, document, deadline, t0)

    async def _render_document(
        self, url: str, started: datetime, document: FetchResult, deadline: float, t0: float
    ) -> Rendering:
        skip = _not_renderable(document)
        if skip:
            return _unrendered(url, started, document, skip, t0)
        rendering = await self._render_once(url, started, document, deadline, t0)
        if rendering.rendered or (self._browser is not None and self._browser.is_connected()):
            return rendering
        log.warning("Chromium went away while rendering %s: starting it again", url)
        return await self._render_once(url, started, document, deadline, t0)

    async def _render_once(
        self, url: str, started: datetime, document: FetchResult, deadline: float, t0: float
    ) -> Rendering:
        try:
            browser = await self._ensure_browser()
        except PlaywrightError as exc:
            return _unrendered(url, started, document, f"not rendered: Chromium did not start: {_first_line(exc)}", t0)
        return await self._render(browser, url, started, document, deadline, t0)

    async def _render(
        self, browser: PlaywrightBrowser, url: str, started: datetime, document: FetchResult, deadline: float, t0: float
    ) -> Rendering:
        network = PageNetwork(self._fetcher, self.settings.fetch, document, deadline)
        context: BrowserContext | None = None
        notes: list[str] = []
        result = _unrendered(url, started, document, "", t0)
        try:
            context = await browser.new_context(
                user_agent=self.settings.fetch.user_agent,
                extra_http_headers={"Accept-Language": ACCEPT_LANGUAGE},
                viewport=VIEWPORT,
                service_workers="block",
                accept_downloads=False,
            )
            context.on("page", _close_popup)
            await context.route("**/*", network.handle)
            await context.route_web_socket("**/*", network.refuse_websocket)
            page = await context.new_page()
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                await self._load(page, document, deadline, notes)
                result = await self._capture(page, result, network, notes)
        except TimeoutError:
            result = replace(
                result, error=f"not rendered: the page took more than {self.settings.fetch.total_timeout:g}s"
            )
        except PlaywrightError as exc:
            result = replace(result, error=f"not rendered: the browser failed: {_first_line(exc)}")
        finally:
            network.close()
            if context is not None:
                await self._close_context(context)
        return replace(
            result,
            requests=tuple(network.requests),
            notes=tuple(notes) + result.notes,
            elapsed_ms=int((time.monotonic() - t0) * 1000),
        )

    async def _load(self, page: Page, document: FetchResult, deadline: float, notes: list[str]) -> None:
        """Navigate, then wait for `load` and a quiet network, leaving time to capture the page."""
        total = self.settings.fetch.total_timeout
        settle_until = deadline - CAPTURE_RESERVE * total
        await page.goto(document.final_url, wait_until="commit", timeout=_ms(deadline))
        for state, cap in (("load", total), ("networkidle", SETTLE_SECONDS)):
            budget = min(cap, settle_until - time.monotonic())
            if budget <= 0:
                notes.append(f"stopped waiting for {state}: the page's time was up")
                break
            try:
                await page.wait_for_load_state(state, timeout=budget * 1000)  # type: ignore[arg-type]
            except PlaywrightError:  # its TimeoutError included: a page still busy is captured as it stands
                notes.append(f"{state} not reached within {budget:.1f}s")

    async def _capture(self, page: Page, result: Rendering, network: PageNetwork, notes: list[str]) -> Rendering:
        """The DOM, the page's own final address, status and headers, and the screenshot."""
        last = network.navigations[-1] if network.navigations else None
        if last is not None and not last.allowed:
            return replace(result, error=f"not rendered: the page went to {last.url[:200]}, {last.reason}")
        if last is not None and last.status in REDIRECT_STATUSES:
            return replace(result, error=f"not rendered: still being redirected from {last.url[:200]}")
        size = await page.evaluate(_DOM_SIZE)
        if size > self.settings.fetch.max_body_bytes:
            return replace(result, error=f"not rendered: DOM larger than {self.settings.fetch.max_body_bytes} bytes")
        html = await page.content()
        shot = await self._screenshot(page, notes)
        status = last.status if last is not None else result.document.status
        ok = status is not None and 200 <= status < 300
        return replace(
            result,
            rendered=True,
            outcome=Outcome.OK if ok else Outcome.HTTP_ERROR,
            final_url=page.url,
            status=status,
            headers=network.last_headers,
            redirects=tuple(network.redirects),
            html=html,
            screenshot=shot,
            error="" if ok else f"HTTP {status}",
            notes=(),
        )

    async def _screenshot(self, page: Page, notes: list[str]) -> Screenshot | None:
        height = int(await page.evaluate(_PAGE_HEIGHT)) or VIEWPORT["height"]
        cap = self.settings.screenshot_max_height
        clip = FloatRect(x=0, y=0, width=VIEWPORT["width"], height=min(height, cap))
        png = await page.screenshot(full_page=True, clip=clip, type="png", animations="disabled")
        try:
            return Screenshot.from_png(png, height)
        except ValueError:
            notes.append("the screenshot was not a PNG")
            return None

    async def _close_context(self, context: BrowserContext) -> None:
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await context.unroute_all(behavior="ignoreErrors")
                await context.close()
        except (TimeoutError, PlaywrightError) as exc:
            log.warning("a page's context did not close (%s): restarting Chromium", _first_line(exc) or "timeout")
            async with self._lock:
                await self._stop_browser()

    async def _ensure_browser(self) -> PlaywrightBrowser:
        """The running Chromium, started (again, after a crash) when needed."""
        async with self._lock:
            if self._browser is not None and self._browser.is_connected():
                return self._browser
            await self._stop_browser()
            if self._playwright is None:
                self._playwright = await async_playwright().start()
            _sweep_run_dirs()
            self._run_dir = Path(tempfile.mkdtemp(prefix=f"{_RUN_DIR_PREFIX}{os.getpid()}-"))
            self._browser = await self._playwright.chromium.launch(
                executable_path=self.executable,
                args=list(CHROMIUM_ARGS),
                env=_chromium_env(self._run_dir),
                chromium_sandbox=os.geteuid() != 0,  # root cannot use the sandbox
                timeout=LAUNCH_TIMEOUT * 1000,
            )
            return self._browser

    async def _stop_browser(self) -> None:
        browser, self._browser = self._browser, None
        if browser is not None:
            with contextlib.suppress(PlaywrightError):  # already gone
                await browser.close()
        if self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)
            self._run_dir = None


def _chromium_env(run_dir: Path) -> dict[str, str | float | bool]:
    """Chromium's environment: its home, caches, crash database and temporary files in the run's own
    directory; our settings (archive keys among them) left out."""
    env: dict[str, str | float | bool] = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "TMPDIR"):
        env[name] = str(run_dir)
    return env


def _sweep_run_dirs() -> None:
    """Remove the run directories of processes that died without cleaning up (a SIGKILL)."""
    for path in Path(tempfile.gettempdir()).glob(f"{_RUN_DIR_PREFIX}*"):
        pid = path.name.removeprefix(_RUN_DIR_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _close_popup(page: Page) -> None:
    """Pages the page opens (window.open) are closed: one page, one rendering."""
    if await page.opener() is not None:
        with contextlib.suppress(PlaywrightError):
            await page.close()


def _not_renderable(document: FetchResult) -> str:
    if document.outcome not in (Outcome.OK, Outcome.HTTP_ERROR):
        return f"not rendered: the page was not fetched ({document.outcome})"
    if not document.body:
        return "not rendered: empty body"
    if document.content_type not in PAGE_TYPES:
        return f"not rendered: not HTML ({document.content_type})"
    return ""


def _unrendered(url: str, started: datetime, document: FetchResult, why: str, t0: float) -> Rendering:
    return Rendering(
        url,
        document.outcome,
        started,
        document,
        final_url=document.final_url,
        status=document.status,
        headers=document.headers,
        redirects=document.redirects,
        error=why or document.error,
        elapsed_ms=int((time.monotonic() - t0) * 1000),
    )


def _ms(deadline: float) -> float:
    return max(1.0, (deadline - time.monotonic()) * 1000)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
