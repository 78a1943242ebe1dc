"""The browser of one pass: which pages it renders, started only when a page needs it, closed at the end.

    async with PassBrowser.of(settings.browser_settings, resolver) as browser:
        need = browser.need(fetched, extraction, facts)   # pure: the mode and `need.needs_browser`
        rendering = await browser.render(fetched)         # never raises; a failure is in the Rendering

Chromium is started on the first rendering (most passes need none: a page with its text in its HTML is
never rendered in `auto` mode unless a screenshot is wanted), at most `pages` pages render at once, and
`aclose` stops it whatever happened. A Chromium that cannot start makes a Rendering with an error,
recorded in the check like any other failure: the pass goes on over HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from archiver.browser.mode import browser_mode
from archiver.browser.need import TINY_WORDS, Need, ShellFacts, needs_browser
from archiver.browser.records import PAGE_TYPES, Rendering
from archiver.config import BrowserSettings
from archiver.fetch import Resolver
from archiver.models import BrowserMode, BrowserTrace, Clock, Extraction, FetchResult, Outcome, Refusal

if TYPE_CHECKING:
    from archiver.browser.chromium import Browser


@dataclass
class PassBrowser:
    """The pass's view of the browser: its mode, whether new versions get a screenshot, and a Chromium
    started lazily. `browser` is None in mode `never`."""

    mode: BrowserMode
    screenshots: bool
    browser: Browser | None = None

    @classmethod
    def of(cls, settings: BrowserSettings, resolver: Resolver | None = None, clock: Clock | None = None) -> PassBrowser:
        """The mode in force (`browser_mode`: a ConfigError when `always` has no Chromium); Chromium is
        not started here."""
        mode = browser_mode(settings)
        if mode == BrowserMode.NEVER:
            return cls(mode, False)
        from archiver.browser.chromium import Browser  # Playwright: only where a browser may render

        return cls(mode, settings.screenshots, Browser(settings, resolver, clock))

    async def __aenter__(self) -> PassBrowser:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop Chromium and its driver, if they were started."""
        if self.browser is not None:
            await self.browser.aclose()

    def worth_a_look(self, fetched: FetchResult, extraction: Extraction | None) -> bool:
        """Whether `need` should be asked at all (its facts cost a parse): pages in `always` mode, and in
        `auto` mode the HTML pages whose extraction is tiny."""
        if self.browser is None or fetched.outcome not in (Outcome.OK, Outcome.HTTP_ERROR) or not fetched.body:
            return False
        if fetched.content_type not in PAGE_TYPES:
            return False
        return self.mode == BrowserMode.ALWAYS or (extraction.words if extraction else 0) < TINY_WORDS

    def need(self, fetched: FetchResult, extraction: Extraction | None, facts: ShellFacts) -> Need:
        """Whether this page is rendered: every HTML page in `always` mode, in `auto` only the pages
        `needs_browser` says a browser would help."""
        if self.browser is None:
            return Need(False, "browser mode never")
        if self.mode == BrowserMode.ALWAYS and fetched.content_type in PAGE_TYPES and fetched.body:
            return Need(True, "ARCHIVER_BROWSER=always")
        return needs_browser(fetched, extraction or Extraction(), facts)

    def wants_screenshot(self, fetched: FetchResult) -> bool:
        """Whether a new version fetched over HTTP is rendered for its screenshot."""
        return self.browser is not None and self.screenshots and fetched.content_type in PAGE_TYPES

    async def render(self, fetched: FetchResult) -> Rendering:
        """Render a page already fetched (its document is not fetched again). Never raises."""
        assert self.browser is not None, "render() in browser mode never"
        return await self.browser.render_fetched(fetched)


def trace(reason: str, rendering: Rendering, error: str = "") -> BrowserTrace:
    """What a check records of a rendering: why, what went wrong, and the requests refused."""
    refused = tuple(Refusal(r.url, r.resource_type, r.reason or str(r.outcome)) for r in rendering.refused)
    return BrowserTrace(reason, error or ("" if rendering.rendered else rendering.error), refused)
