"""One writer per data directory: a `flock` on `archiver.lock`, released by the kernel even when the
holder is killed. The file says who holds it, so the next process can say so."""

from __future__ import annotations

import contextlib
import fcntl
import os
from datetime import datetime
from pathlib import Path

from archiver.errors import LockedError, StoreError


class DataDirLock:
    """One process at a time per data directory: a `flock` on `archiver.lock`, released by the
    kernel even when the holder is killed. The file says who holds it."""

    def __init__(self, data_dir: Path, what: str) -> None:
        self.path = Path(data_dir) / "archiver.lock"
        self.what = what
        self._fd: int | None = None

    def acquire(self, wait: bool = False) -> DataDirLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot create the lock {self.path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = os.read(fd, 1000).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise LockedError(
                f"the data directory {self.path.parent} is in use by {holder}; try again later, or pass --wait"
            ) from None
        with contextlib.suppress(OSError):  # who holds it is a courtesy to the next process; a full disk says no
            os.ftruncate(fd, 0)
            os.write(
                fd,
                f"pid {os.getpid()} ({self.what}) since {datetime.now().astimezone().isoformat(timespec='seconds')}".encode(),
            )
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DataDirLock:
        return self if self._fd is not None else self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
