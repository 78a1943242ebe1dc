"""One check, and the version it brought, recorded in one commit. Several processes may record at
once (workers sharing a PostgreSQL store): content already stored by another is never stored twice,
and a worker's task whose check is recorded already (a redelivered task) records nothing more."""

from __future__ import annotations

from dataclasses import dataclass

from archiver.models import Extraction
from archiver.models.rows import CheckRow, VersionRow
from archiver.store import checks, versions
from archiver.store.db import Database


@dataclass(frozen=True)
class StoredCheck:
    """What `record_check` did: the check row and the version it created, if any."""

    check: CheckRow
    version: VersionRow | None


class _Recorded(Exception):
    """The task's check is in the store already: undo this transaction."""


def commit(
    db: Database,
    new: checks.NewCheck,
    version_hash: str,
    version: VersionRow | None,
    extraction: Extraction,
    task: tuple[str | None, str],
    region: str = "",
) -> StoredCheck:
    """The new version (when there is one and it is not stored yet) and the check, in one transaction.
    `region`: where a held version's text now sits (see `versions.move_region`)."""
    task_id, worker = task
    try:
        with db.transaction():
            if version is not None and not versions.insert(db, version, extraction, new.fetched.content_type):
                version = None  # the same content, stored meanwhile by another process
            elif version is None and region and version_hash:
                versions.move_region(db, new.citation.id, version_hash, region)
            check = checks.insert(db, new, version_hash, version is not None, task_id, worker)
            if check is None:
                raise _Recorded
    except _Recorded:
        assert task_id is not None
        recorded = checks.of_task(db, task_id)
        assert recorded is not None
        return StoredCheck(recorded, None)
    return StoredCheck(check, version)
