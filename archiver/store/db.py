"""The database seam: every SQL statement of the store goes through one `Database`, of one of two
backends: SQLite (`SqliteDatabase`, here: one file in the data directory, the default) or PostgreSQL
(`store.postgres`, for several machines).

The table-family modules speak portable SQL through it: `?` placeholders, `INSERT ... ON CONFLICT`,
`RETURNING`, no rowid, integers for flags and ISO-8601 UTC text for instants, so both backends hold
the very same values. What differs stays in the backends: opening, the DDL's type names (`ddl`), row
locks (`for_update`, `skip_locked`), the integrity checks and how migrations are recorded (`migrate`).

Rows cross this seam as `Row` mappings, column name to value: the SQL edge. The family modules turn
them into the typed rows of `archiver.models.rows` before anything else sees them.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

import sqlite_utils
from sqlite_utils.utils import dedupe_keys

from archiver.errors import StoreError

Row = Mapping[str, Any]
Params = Sequence[Any]
STREAM_ROWS = 2000  # rows read at a time when a whole table is read


class Cursor(Protocol):
    """What `execute` returns, in both backends: rows as tuples, and how many rows a write touched."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchmany(self, size: int = ...) -> list[Any]: ...


@dataclass(frozen=True)
class Migration:
    """One step of the schema, written once for both backends (see `schema`)."""

    name: str
    apply: Callable[[Database], None]


def clean(params: Params) -> list[Any]:
    """Parameters as both backends keep them alike: PostgreSQL's text cannot hold U+0000 (a page title,
    a header or an error message may), so it becomes U+FFFD in both."""
    return [p.replace("\x00", "\ufffd") if isinstance(p, str) and "\x00" in p else p for p in params]


class Database(ABC):
    """One connection to the store's database. `where` names it in messages (a file, or a server
    without its password)."""

    dialect: ClassVar[str]
    for_update: ClassVar[str]  # appended to a SELECT that must lock the rows it reads until commit
    skip_locked: ClassVar[str]  # ... and that passes over rows another transaction has locked
    where: str
    path: Path | None  # the database file, for SQLite

    @abstractmethod
    def execute(self, sql: str, params: Params = ()) -> Cursor: ...

    @abstractmethod
    def query(self, sql: str, params: Params = ()) -> list[Row]: ...

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """One write transaction; a failure is a StoreError and leaves nothing written."""

    @abstractmethod
    def ddl(self, statement: str) -> None:
        """A schema statement written in SQLite's type names (`INTEGER PRIMARY KEY`, `INTEGER`, `REAL`,
        `TEXT`), run in this backend's own."""

    @abstractmethod
    def migrate(self, steps: Sequence[Migration]) -> None:
        """Apply the steps not applied yet, in order, each recorded with its changes."""

    @abstractmethod
    def pending(self, steps: Sequence[Migration]) -> list[str]:
        """The names of the steps not applied yet (reads only)."""

    @abstractmethod
    def integrity_problems(self) -> tuple[list[str], bool]:
        """What the database's own checks find, and whether it could be read at all."""

    @abstractmethod
    def reopen(self) -> Database:
        """Another connection to the same database (a connection is never shared between threads)."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def stream(self, sql: str) -> Iterator[Sequence[Any]]:
        """The rows of a query as tuples, read a few thousand at a time (for a whole table)."""

    @abstractmethod
    def load(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Insert many rows as they are, ids included (inside the caller's transaction); how many."""

    def tables(self) -> list[str]:
        """The store's tables, each after the tables it points to (the order to copy them in)."""
        raise NotImplementedError(f"{self.dialect} cannot list its tables in order")

    def one(self, sql: str, params: Params = ()) -> Row | None:
        return next(iter(self.query(sql, params)), None)

    def scalar(self, sql: str, params: Params = ()) -> Any:
        row = self.execute(sql, params).fetchone()
        return row[0] if row else None

    def insert(self, table: str, record: Mapping[str, object], *, unique: Sequence[str] = ()) -> int | None:
        """Insert one row and return its `id`; with `unique`, a row that conflicts on those columns is
        left as it is and None returned."""
        new = self._insert(table, record, unique, "id")
        return None if new is None else int(new)

    def insert_key(self, table: str, record: Mapping[str, object], key: str, *, unique: Sequence[str] = ()) -> bool:
        """Insert one row of a table keyed by `key` (no `id`); False when it conflicts on `unique`."""
        return self._insert(table, record, unique, key) is not None

    def _insert(self, table: str, record: Mapping[str, object], unique: Sequence[str], returning: str) -> Any:
        columns = ", ".join(record)
        marks = ", ".join("?" * len(record))
        conflict = f" ON CONFLICT ({', '.join(unique)}) DO NOTHING" if unique else ""
        row = self.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({marks}){conflict} RETURNING {returning}", list(record.values())
        ).fetchone()
        return row[0] if row else None

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


class SqliteDatabase(Database):
    """The store's SQLite file. Open with `SqliteDatabase.open(path)`."""

    dialect = "sqlite"
    for_update = ""  # a write transaction holds the whole file: every read in it is locked already
    skip_locked = ""

    path: Path

    def __init__(self, db: sqlite_utils.Database, path: Path, read_only: bool = False) -> None:
        self._db = db
        self.path = path
        self.where = str(path)
        self._read_only = read_only

    @classmethod
    def open(cls, path: Path) -> SqliteDatabase:
        """The database at `path`, created when missing, in WAL mode with foreign keys on.
        Raises sqlite3.Error or OSError: the caller says what could not be opened."""
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        db = sqlite_utils.Database(conn)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        return cls(db, path)

    @classmethod
    def open_read_only(cls, path: Path) -> SqliteDatabase:
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
            return cls(db, path, read_only=True)
        assert error is not None
        raise error

    @property
    def conn(self) -> sqlite3.Connection:
        """The DB-API connection (for tests that write a store by hand)."""
        return self._db.conn

    @property
    def sqlite(self) -> sqlite_utils.Database:
        """The sqlite-utils database."""
        return self._db

    def close(self) -> None:
        self._db.close()

    def reopen(self) -> SqliteDatabase:
        return SqliteDatabase.open_read_only(self.path) if self._read_only else SqliteDatabase.open(self.path)

    def execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        return self._db.execute(sql, clean(params))

    def query(self, sql: str, params: Params = ()) -> list[Row]:
        # straight on the connection: sqlite-utils' `query` wraps each statement in a savepoint of its
        # own (to undo one that returns no rows), two more statements for each of a check's ~25 reads
        cursor = self._db.execute(sql, clean(params))
        if cursor.description is None:  # a programming error, as with sqlite-utils and PostgreSQL
            raise ValueError(f"not a query, it returns no rows: {sql[:80]!r}")
        keys = dedupe_keys(d[0] for d in cursor.description)
        return [dict(zip(keys, row, strict=True)) for row in cursor]

    def ddl(self, statement: str) -> None:
        self._db.execute(statement)

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
            raise StoreError(f"cannot write to {self.where}: {exc}") from None

    def migrate(self, steps: Sequence[Migration]) -> None:
        """Through sqlite-utils' migrations, recorded in its `_sqlite_migrations` table (as every release
        has): each step in a transaction with its record."""
        self._sqlite_migrations(steps).apply(self._db)

    def pending(self, steps: Sequence[Migration]) -> list[str]:
        return [m.name for m in self._sqlite_migrations(steps).pending(self._db)]

    def _sqlite_migrations(self, steps: Sequence[Migration]) -> sqlite_utils.Migrations:
        recorded = sqlite_utils.Migrations("archiver")
        for step in steps:
            recorded(name=step.name)(lambda _db, step=step: step.apply(self))
        return recorded

    def stream(self, sql: str) -> Iterator[Sequence[Any]]:
        cursor = self._db.execute(sql)
        while rows := cursor.fetchmany(STREAM_ROWS):
            yield from rows

    def load(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        marks = ", ".join("?" * len(columns))
        count = 0
        for row in rows:
            self._db.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", clean(row))
            count += 1
        return count

    def tables(self) -> list[str]:
        names = [r["name"] for r in self.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        own = [n for n in names if not n.startswith(("sqlite_", "_sqlite"))]
        after = {t: {r["table"] for r in self.query(f"PRAGMA foreign_key_list({t})")} - {t} for t in own}
        ordered: list[str] = []
        while len(ordered) < len(own):
            ready = [t for t in own if t not in ordered and after[t] <= set(ordered)]
            if not ready:
                raise StoreError(f"the tables of {self.where} point to each other in a circle")
            ordered += ready
        return ordered

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
