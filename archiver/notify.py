"""Alerts on status changes, through any notification service Apprise knows (mail, Slack, Matrix,
ntfy, webhooks...): the URLs changedetection.io users already write."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from archiver.models import HealthStatus, StatusChange

log = logging.getLogger("archiver.notify")


def worth_telling(change: StatusChange) -> bool:
    """Every real change of status; not a new citation's first check when it says nothing is wrong
    (healthy, or no network at all)."""
    return change.old != change.new and not (
        change.old == HealthStatus.UNCHECKED and change.new in (HealthStatus.OK, HealthStatus.OFFLINE)
    )


def message(changes: Sequence[StatusChange]) -> tuple[str, str]:
    """A title and a body for one notification covering a pass's changes."""
    worse = sum(1 for c in changes if c.new.worse)
    title = f"Citations: {len(changes)} status change(s)" + (f", {worse} for the worse" if worse else "")
    body = "\n".join(f"[{c.citation_id}] {c.old} → {c.new}: {c.evidence}\n    {c.url}" for c in changes)
    return title, body


def send(urls: Sequence[str], changes: Sequence[StatusChange]) -> list[str]:
    """Send one notification for these changes to every URL; returns the problems (never raises)."""
    changes = [c for c in changes if worth_telling(c)]
    if not urls or not changes:
        return []
    import apprise  # imported here: it is slow to import and only alerts need it

    problems = []
    title, body = message(changes)
    for url in urls:
        sender = apprise.Apprise()
        if not sender.add(url):
            problems.append(f"not a notification URL Apprise knows: {_redact(url)}")
            continue
        if not sender.notify(title=title, body=body):
            problems.append(f"notification to {_redact(url)} failed")
    for problem in problems:
        log.warning("%s", problem)
    return problems


def _redact(url: str) -> str:
    """Notification URLs carry tokens and passwords: show the scheme and host only."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/")[0].rsplit("@", 1)[-1]
    return f"{scheme}://{host}/…"
