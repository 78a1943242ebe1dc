"""The database seam: every SQL statement of the store goes through one `Database`.

The table-family modules speak portable SQL through it (`INSERT ... ON CONFLICT`, `RETURNING`, no
rowid); what only SQLite has (opening modes, pragmas, its integrity checks) stays in here and in
`schema`. sqlite-utils holds the connection and runs queries and migrations. A second backend is a
second class with these methods.

Rows cross this seam as `Row` mappings, column name to value: the SQL edge. The family modules turn
them into the typed rows of `archiver.models.rows` before anything else sees them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from archiver.errors import StoreError

Row = Mapping[str, Any]
Params = Sequence[Any] | dict[str, Any]


class Database:
    """One connection to the store's database. Open with `Database.open(path)`."""

    def __init__(self, db: sqlite_utils.Database, path: Path) -> None:
        self._db = db
        self.path = path

    @classmethod
    def open(cls, path: Path) -> Database:
        """The database at `path`, created when missing, in WAL mode with foreign keys on.
        Raises sqlite3.Error or OSError: the caller says what could not be opened."""
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        db = sqlite_utils.Database(conn)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        return cls(db, path)

    @classmethod
    def open_read_only(cls, path: Path) -> Database:
        """SQLite's read-only mode; when the directory is read-only and no writer has the store open
        (a WAL database then has no `-shm` file, and none can be made), SQLite's `immutable` mode."""
        uri = path.resolve().as_uri()
        error: sqlite3.Error | None = None
        for mode in ("mode=ro", "immutable=1"):
            try:
                conn = sqlite3.connect(f"{uri}?{mode}", uri=True, timeout=30, isolation_level=None)
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.Error as exc:
                error = exc
                continue
            db = sqlite_utils.Database(conn)
            db.execute("PRAGMA query_only=ON")
            return cls(db, path)
        assert error is not None
        raise error

    @property
    def conn(self) -> sqlite3.Connection:
        """The DB-API connection, for migrations (and tests that write a store by hand)."""
        return self._db.conn

    @property
    def sqlite(self) -> sqlite_utils.Database:
        """The sqlite-utils database, for `schema`'s migrations."""
        return self._db

    def close(self) -> None:
        self._db.close()

    def execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        return self._db.execute(sql, params)

    def query(self, sql: str, params: Params = ()) -> list[Row]:
        return list(self._db.query(sql, params))

    def one(self, sql: str, params: Params = ()) -> Row | None:
        return next(iter(self._db.query(sql, params)), None)

    def scalar(self, sql: str, params: Params = ()) -> Any:
        row = self._db.execute(sql, params).fetchone()
        return row[0] if row else None

    def insert(self, table: str, record: Mapping[str, object], *, unique: Sequence[str] = ()) -> int | None:
        """Insert one row and return its `id`; with `unique`, a row that conflicts on those columns is
        left as it is and None returned."""
        columns = ", ".join(record)
        marks = ", ".join("?" * len(record))
        conflict = f" ON CONFLICT ({', '.join(unique)}) DO NOTHING" if unique else ""
        row = self.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({marks}){conflict} RETURNING id", list(record.values())
        ).fetchone()
        return int(row[0]) if row else None

    def upsert(self, table: str, record: Mapping[str, object], key: Sequence[str]) -> None:
        """Insert one row, or update the row that has the same `key` columns."""
        columns = ", ".join(record)
        marks = ", ".join("?" * len(record))
        updates = ", ".join(f"{c} = excluded.{c}" for c in record if c not in key)
        self.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}",
            list(record.values()),
        )

    def update(self, table: str, key: Mapping[str, object], changes: Mapping[str, object]) -> int:
        """Set `changes` on the rows matching every column of `key`; how many rows changed."""
        assignments = ", ".join(f"{c} = ?" for c in changes)
        where = " AND ".join(f"{c} = ?" for c in key)
        return self.execute(
            f"UPDATE {table} SET {assignments} WHERE {where}", [*changes.values(), *key.values()]
        ).rowcount

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction (taken at once, so two writers never deadlock); a failure is a StoreError."""
        try:
            self.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.execute("ROLLBACK")
                raise
            self.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write to {self.path}: {exc}") from None

    def integrity_problems(self) -> tuple[list[str], bool]:
        """What SQLite's own checks find (damaged pages, rows pointing to missing rows), and whether
        the database could be read at all."""
        problems = []
        try:
            for (line,) in self.execute("PRAGMA integrity_check").fetchall():
                if line != "ok":
                    problems.append(f"database: {line}")
            for row in self.execute("PRAGMA foreign_key_check").fetchall():
                problems.append(f"database: row {row[1]} of {row[0]} points to a missing {row[2]}")
        except sqlite3.DatabaseError as exc:
            return [*problems, f"database: {exc}"], False
        return problems, True
