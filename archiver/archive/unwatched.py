"""Archived copies of a URL we do not watch: the Wayback Machine's CDX API and every configured
Memento endpoint, asked directly (not verified: we hold no version to compare with)."""

from __future__ import annotations

from archiver import aio
from archiver.archive.aggregator import look_up
from archiver.archive.session import ArchiveSession, BudgetSpent
from archiver.archive.wayback import WaybackClient
from archiver.config import ArchiveSettings
from archiver.errors import ArchiveUnreachable
from archiver.models.rows import Capture


def archived_copies(settings: ArchiveSettings, url: str) -> list[Capture] | None:
    """Every capture the archives know of `url`; None when none could be asked."""

    async def ask() -> list[Capture] | None:
        found: list[Capture] | None = None
        async with ArchiveSession(settings, budget=settings.budget) as session:
            try:
                found = await WaybackClient(settings, session).captures(url)
            except ArchiveUnreachable:
                found = None
            for endpoint in settings.memento_endpoints:
                try:
                    mementos = await look_up(session, endpoint, url, None)
                except ArchiveUnreachable:
                    continue
                if mementos is None:
                    continue
                found = (found or []) + [
                    Capture(m.timestamp, url, None, archive=m.archive, replay=m.url)
                    for m in mementos
                    if m.archive != "wayback"
                ]
        return found

    try:
        return aio.run(ask())
    except BudgetSpent:
        return None
