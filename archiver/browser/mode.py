"""Which browser mode is in force, and where Chromium is: read without starting (or importing) anything
of the browser's, so that a pass that renders nothing never loads Playwright."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from archiver.config import BrowserSettings
from archiver.errors import ConfigError
from archiver.models import BrowserMode

log = logging.getLogger("archiver.browser")

_said: set[str] = set()


def find_chromium(settings: BrowserSettings, which: Callable[[str], str | None] = shutil.which) -> str | None:
    """The Chromium executable: `settings.chromium` when set, else `chromium` or `chromium-browser` on PATH."""
    if settings.chromium:
        path = Path(settings.chromium)
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    return which("chromium") or which("chromium-browser")


def browser_mode(settings: BrowserSettings, which: Callable[[str], str | None] = shutil.which) -> BrowserMode:
    """The mode in force: `auto` becomes `never` when no Chromium is found, said once in the log.
    A Chromium that was asked for by path or by `always` and is not there is a ConfigError."""
    if settings.mode == BrowserMode.NEVER:
        return BrowserMode.NEVER
    found = find_chromium(settings, which)
    if found is None and settings.chromium:
        raise ConfigError(f"ARCHIVER_CHROMIUM={settings.chromium!r}: no executable file there")
    if found is None and settings.mode == BrowserMode.ALWAYS:
        raise ConfigError(
            "ARCHIVER_BROWSER=always but no Chromium was found (install `chromium` or set ARCHIVER_CHROMIUM)"
        )
    if found is None:
        _say_once("no Chromium found: pages are fetched over HTTP only (browser mode never)")
        return BrowserMode.NEVER
    _say_once(f"browser mode {settings.mode}: Chromium at {found}, {settings.pages} page(s) at once")
    return settings.mode


def _say_once(message: str) -> None:
    if message not in _said:
        _said.add(message)
        log.info(message)
