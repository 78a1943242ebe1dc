"""The store's WARC files: every new version's exchange appended to `warc/YYYY-MM-DD[-n].warc.gz`, a
new file each day or past `ROLL_BYTES`, each file beginning with a `warcinfo` record. An exchange is
written whole or not at all, and what a killed run left after the last exchange the store points to
is cut before the next write, so every version has exactly one exchange.

The records themselves are made and read by `warc_format` (warcio)."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from archiver.errors import ConfigError
from archiver.models import FetchResult
from archiver.models.records import header
from archiver.models.rows import VersionRow, WarcPointer
from archiver.store import files
from archiver.store.warc_format import (
    PackedExchange,
    copy_records,
    first_record_end,
    pack_exchange,
    raw_response,
    read_response,
    write_warcinfo,
)

ROLL_BYTES = 1024**3  # a day's WARC file is rolled past this size
log = logging.getLogger("archiver.store")


@dataclass(frozen=True)
class Tail:
    """Bytes at the end of a WARC file that no version points to: `size` bytes in all, the last
    exchange a version points to ending at `end` (0: not even the warcinfo record is complete)."""

    path: Path
    size: int
    end: int


@dataclass(frozen=True)
class StoredResponse:
    """A version's response as its WARC record keeps it."""

    statusline: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str:
        return header(self.headers, name)


class WarcLog:
    """The WARC files of one data directory. `ends` tells, per file, where the last exchange a version
    points to ends, and whether some of its pointers are unknown (`None`); it is asked with a
    connection of its own, since appends run in a worker thread."""

    def __init__(self, data_dir: Path, ends: Callable[[], Mapping[str, int | None]]) -> None:
        self.folder = data_dir / "warc"
        self.data_dir = data_dir
        self._ends = ends
        self._lock = threading.Lock()
        self._repaired = False

    def append(self, exchange: FetchResult, user_agent: str, packed: PackedExchange | None = None) -> WarcPointer:
        """Append an exchange (`packed` when a worker compressed it already); a failed write (a full
        disk) truncates the file back to where it was."""
        packed = packed or pack_exchange(exchange, user_agent)
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            if not self._repaired:
                self.repair()
                self._repaired = True
            path = self._current(exchange.started_at.astimezone(UTC).strftime("%Y-%m-%d"))
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                start = os.fstat(fd).st_size
                info = io.BytesIO()
                if start == 0:
                    write_warcinfo(info, path.name, "citation-archiver snapshots of cited pages")
                offset = info.tell() + packed.offset
                try:
                    _write_all(fd, info.getvalue() + packed.data)
                    os.fsync(fd)
                except OSError:
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, start)
                    raise
            finally:
                os.close(fd)
            return WarcPointer(f"warc/{path.name}", start + offset, packed.length)

    def _current(self, day: str) -> Path:
        n = 0
        while (self.folder / _name(day, n)).exists() and (self.folder / _name(day, n)).stat().st_size > ROLL_BYTES:
            n += 1
        return self.folder / _name(day, n)

    def tails(self, ends: Mapping[str, int | None] | None = None) -> list[Tail]:
        """WARC files that end with records no version points to. Files whose pointers are not all
        known are left out."""
        if not self.folder.is_dir():
            return []
        ends = self._ends() if ends is None else ends
        found = []
        for path in sorted(self.folder.glob("*.warc.gz")):
            end = ends.get(f"warc/{path.name}", 0)
            if end is None:
                continue
            size = path.stat().st_size
            if not end:
                try:
                    end = first_record_end(path)
                except (OSError, ValueError, EOFError):
                    end = 0
            if size > end:
                found.append(Tail(path, size, end))
        return found

    def repair(self) -> None:
        """Cut what a killed or failed run appended after the last exchange the store points to, so a
        version is never written twice (its next check writes it again) and every file stays readable."""
        for tail in self.tails():
            if tail.end:
                os.truncate(tail.path, tail.end)
            else:
                tail.path.unlink()
            log.warning(
                "removed %d byte(s) of WARC records no version points to from %s", tail.size - tail.end, tail.path.name
            )

    def body(self, version: VersionRow) -> bytes:
        """A version's body as served, from its WARC record, or from the raw file of a store written
        before the record was its one copy. Raises OSError, EOFError or ValueError when damaged."""
        if version.raw_path or version.warc is None:
            return files.read_raw(self.data_dir, version)
        return self.response(version.warc).body

    def location(self, version: VersionRow) -> str:
        """Where a version's body lies: its raw file, or its WARC file and the record's offset (as
        `warcio extract --payload FILE OFFSET` takes them)."""
        if version.raw_path or version.warc is None:
            return str(self.data_dir / version.raw_path)
        return f"{self.data_dir / version.warc.file} {version.warc.offset}"

    def response(self, pointer: WarcPointer) -> StoredResponse:
        statusline, headers, body, _date = read_response(self.data_dir / pointer.file, pointer.offset)
        return StoredResponse(statusline, tuple(headers), body)

    def raw(self, pointer: WarcPointer) -> bytes:
        """The stored HTTP response, status line, headers and body, as a replay would send it."""
        return raw_response(self.data_dir / pointer.file, pointer.offset)

    def export(self, pointers: Iterable[WarcPointer], target: Path) -> int:
        """One self-contained WARC of the given exchanges at `target`, after a warcinfo naming it; written
        to a temporary name, then renamed, so a failure never leaves half a file. Returns how many."""
        tmp = target.with_name(f".{target.name}.tmp")
        try:
            with tmp.open("wb") as out:
                copied = copy_records(
                    ((self.data_dir / p.file, p.offset, p.length) for p in pointers), out, target.name
                )
            tmp.replace(target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ConfigError(f"cannot write {target}: {exc.strerror}") from None
        return copied


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _name(day: str, n: int) -> str:
    return f"{day}.warc.gz" if n == 0 else f"{day}-{n}.warc.gz"
