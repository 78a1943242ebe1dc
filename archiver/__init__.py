"""Citation archiver: keep the web pages an article cites checked, versioned and archived.

The public API below is imported on first use (PEP 562): a process that needs only a part of the
package does not load the rest with it (a pass that renders no page never loads Playwright)."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from archiver._version import __version__
from archiver.errors import (
    ArchiverError,
    ArchiveServiceError,
    ConfigError,
    LockedError,
    SourceError,
    StoreError,
)
from archiver.models import Citation, Extraction, FetchResult, Outcome, PassSummary

if TYPE_CHECKING:
    from archiver.config import Settings
    from archiver.pipeline import run_check
    from archiver.sources import read_sources
    from archiver.store import Store

_LAZY = {
    "Settings": "archiver.config",
    "Store": "archiver.store",
    "read_sources": "archiver.sources",
    "run_check": "archiver.pipeline",
}

__all__ = [
    "__version__",
    "ArchiveServiceError",
    "ArchiverError",
    "Citation",
    "ConfigError",
    "Extraction",
    "FetchResult",
    "LockedError",
    "Outcome",
    "PassSummary",
    "Settings",
    "SourceError",
    "Store",
    "StoreError",
    "read_sources",
    "run_check",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'archiver' has no attribute {name!r}")
