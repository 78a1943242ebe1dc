"""`archiver migrate-store`: an existing SQLite store's database copied into PostgreSQL, every table in
one transaction (all of it, or nothing), ids included, then checked: `verify` on both sides, and every
table's rows compared, a count and a digest of its rows whatever their order. The snapshot and WARC
files stay where they are: both stores point into the same data directory. The source is left as it
was, and a target that holds anything already is refused, so nothing is ever overwritten."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from archiver.errors import StoreError
from archiver.store import Store
from archiver.store.db import Database
from archiver.store.verify import Verification

DIGEST_MODULUS = 2**256


@dataclass(frozen=True)
class TableCopy:
    """One table: rows copied, and whether the target now holds the very same rows."""

    table: str
    rows: int
    same: bool


@dataclass(frozen=True)
class Transfer:
    """What `migrate_store` did: `refused` says why it copied nothing (the source's verification
    found damage); else every table copied, and what `verify` found on each side."""

    source: Verification
    target: Verification | None = None
    tables: tuple[TableCopy, ...] = ()
    target_where: str = ""

    @property
    def ok(self) -> bool:
        return self.source.ok and self.target is not None and self.target.ok and all(t.same for t in self.tables)


def migrate_store(data_dir: Path, to_url: str, on_table: Callable[[str, int], None] | None = None) -> Transfer:
    """Copy the SQLite store of `data_dir` (upgraded first, when an older release wrote it) into the
    PostgreSQL database `to_url` names, which must hold no store yet or an empty one."""
    with Store.open(data_dir) as source:
        checked = source.verify()
        if not checked.ok:
            return Transfer(checked)
        with Store.open(data_dir, database_url=to_url) as target:
            tables = source.db.tables()
            held = [f"{n} row(s) of {t}" for t in tables if (n := _count(target.db, t))]
            if held:
                raise StoreError(
                    f"{target.db.where} already holds a store ({', '.join(held[:3])}): migrate-store copies "
                    "into an empty database only, so nothing is ever overwritten"
                )
            copied = []
            with target.db.transaction():
                for table in tables:
                    columns = _columns(source.db, table)
                    rows = target.db.load(table, columns, source.db.stream(_select(table, columns)))
                    copied.append((table, columns, rows))
                    if on_table is not None:
                        on_table(table, rows)
            compared = tuple(
                TableCopy(table, rows, digest(source.db, table, columns) == digest(target.db, table, columns))
                for table, columns, rows in copied
            )
            return Transfer(checked, target.verify(), compared, target.db.where)


def digest(db: Database, table: str, columns: list[str]) -> tuple[int, str]:
    """How many rows a table holds and a digest of them, the same whatever order a backend reads
    them in (the sum of each row's SHA-256)."""
    count, total = 0, 0
    for row in db.stream(_select(table, columns)):
        count += 1
        total += int.from_bytes(hashlib.sha256(repr(tuple(row)).encode("utf-8")).digest(), "big")
    return count, f"{total % DIGEST_MODULUS:064x}"


def _columns(db: Database, table: str) -> list[str]:
    return sorted(r["name"] for r in db.query(f"PRAGMA table_info({table})"))


def _select(table: str, columns: list[str]) -> str:
    return f"SELECT {', '.join(columns)} FROM {table}"


def _count(db: Database, table: str) -> int:
    return int(db.scalar(f"SELECT count(*) FROM {table}"))
