"""A real browser for pages that need one: headless Chromium under the HTTP fetcher's promises.

- `need.py`     pure: does a page need the browser? (a JavaScript shell, a challenge a browser passes)
- `records.py`  pure: what a rendering learned (`Rendering`, `SubRequest`, `Screenshot`)
- `network.py`  every request of a page goes through our guarded fetch, or is refused; all recorded
- `mode.py`     which mode is in force, where Chromium is (no Playwright: a pass that renders nothing loads none)
- `chromium.py` the Chromium process (Playwright), its pool of pages, rendering and screenshots
- `session.py`  the pass's browser: which pages it renders (the mode), started lazily, closed with the pass

    async with Browser(settings) as browser:
        rendering = await browser.render("https://example.org/article")
        result = rendering.to_fetch_result()  # the DOM after scripts, marked fetched_by="browser"
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from archiver.browser.mode import browser_mode, find_chromium
from archiver.browser.need import Need, ShellFacts, needs_browser, shell_facts
from archiver.browser.records import Rendering, Screenshot, SubRequest

if TYPE_CHECKING:
    from archiver.browser.chromium import Browser

# Chromium's side (Playwright, the guarded fetcher) is imported on first use: `mode`, `need` and
# `records` are pure, and the extraction workers read pages with `need` without a browser.
_CHROMIUM = ("Browser",)

__all__ = [
    "Browser",
    "Need",
    "Rendering",
    "Screenshot",
    "ShellFacts",
    "SubRequest",
    "browser_mode",
    "find_chromium",
    "needs_browser",
    "shell_facts",
]


def __getattr__(name: str) -> Any:
    if name in _CHROMIUM:
        return getattr(import_module("archiver.browser.chromium"), name)
    raise AttributeError(f"module 'archiver.browser' has no attribute {name!r}")
