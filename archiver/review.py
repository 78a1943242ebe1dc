"""Editors' review decisions on a citation (`archiver review`, and the forms of `archiver serve`):
accept the current version as its baseline, call its rot a false alarm, ignore it, or undo. Each is
kept with its time, author and note, and the citation's health (every citation of its watched URL,
for `not_rot`) is folded again at once, so the report shows the decision straight away."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import datetime

from archiver.errors import ConfigError
from archiver.models import Decision, Health, HealthStatus, RotPolicy
from archiver.models.rows import CitationRow, ReviewRow
from archiver.refold import update_health
from archiver.store import Store

MAX_NOTE = 2000  # characters: a note is a sentence or two, never a document
MAX_NAME = 100


@dataclass(frozen=True)
class Reviewed:
    """What a review did: the decision kept (or undone), and the citation's health after it."""

    citation: CitationRow
    review: ReviewRow
    undone: bool
    health: Health | None


def default_author() -> str:
    """The user name, as `--by` defaults to it."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "") or "unknown"


def decide(
    store: Store,
    key: str,
    decision: Decision | None,
    *,
    by: str,
    note: str = "",
    undo: bool = False,
    article: str | None = None,
    now: datetime,
    policy: RotPolicy,
) -> Reviewed:
    """Record `decision` on the citation `key` (or undo the newest in force, of that kind when given)
    and fold its health again. Bad input (an unknown citation, nothing to accept, no rot to call a
    false alarm, nothing to undo) is a `ConfigError` naming it."""
    by, note = by.strip(), note.strip()
    if not by or len(by) > MAX_NAME:
        raise ConfigError(f"--by must name the editor in 1 to {MAX_NAME} characters")
    if len(note) > MAX_NOTE:
        raise ConfigError(f"--note is {len(note)} characters long: at most {MAX_NOTE}")
    citation = store.citation(key, article)
    if citation is None:
        raise ConfigError(f"no citation {key!r} in the store: see `archiver report` for the ids")
    wid = citation.watched_id or citation.id
    if undo:
        undone = store.undo_review(citation.article, citation.id, decision, by, now)
        if undone is None:
            what = f"{decision} decision" if decision else "decision"
            raise ConfigError(f"citation {key} has no {what} in force to undo")
        return _refold(store, citation, undone, True, now, policy)
    if decision is None:
        raise ConfigError("name a decision: --accept, --not-rot or --ignore (or --undo)")
    version, kind = "", ""
    if decision == Decision.ACCEPT:
        current = store.current_version(wid)
        if current is None:
            raise ConfigError(f"citation {key} has no version to accept yet: run `archiver check` first")
        version = current.hash
    elif decision == Decision.NOT_ROT:
        health = store.health(citation.id, citation.article)
        if health is None or health.rot.status not in (HealthStatus.ROTTEN, HealthStatus.FAILING):
            status = health.status if health else HealthStatus.UNCHECKED
            raise ConfigError(f"citation {key} is not flagged as rot (status {status}): no false alarm to record")
        latest = store.latest_check(wid)
        version, kind = (latest.version_hash if latest else ""), health.rot.kind
    row = ReviewRow(0, citation.article, citation.id, wid, decision, now.isoformat(), by, note, version, kind)
    return _refold(store, citation, store.add_review(row), False, now, policy)


def _refold(
    store: Store, citation: CitationRow, review: ReviewRow, undone: bool, now: datetime, policy: RotPolicy
) -> Reviewed:
    affected = store.watching(review.watched_id) if review.decision == Decision.NOT_ROT else [citation]
    for c in affected or [citation]:
        update_health(store, c, policy, now)
    return Reviewed(citation, review, undone, store.health(citation.id, citation.article))
