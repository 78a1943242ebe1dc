"""Citation archiver: keep the web pages an article cites checked, versioned and archived."""

from __future__ import annotations

from archiver._version import __version__
from archiver.config import Settings
from archiver.errors import (
    ArchiverError,
    ArchiveServiceError,
    ConfigError,
    LockedError,
    SourceError,
    StoreError,
)
from archiver.models import Citation, Extraction, FetchResult, Outcome, PassSummary
from archiver.pipeline import run_check
from archiver.sources import read_sources
from archiver.store import Store

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
