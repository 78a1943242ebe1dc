"""The worker processes that extract and judge pages, for the pass and the archiving step alike: each
call has a deadline, and every worker dies with the process that started it.

A worker killed with its parent (`kill -9` of `check`) must not linger, busy and holding the dead
run's stdout open. On Linux the kernel sends it SIGKILL when its parent goes
(`prctl(PR_SET_PDEATHSIG)`); elsewhere a thread watches for the parent to change.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar, cast

from pebble import ProcessExpired, ProcessPool

from archiver.config import ExtractSettings
from archiver.models import Outcome

P = ParamSpec("P")
R = TypeVar("R")

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
WATCH_SECONDS = 1.0


def die_with_parent(parent_pid: int) -> None:
    """Run first in each worker: be killed when `parent_pid` dies, and exit now if it already has."""
    if not (sys.platform.startswith("linux") and _pdeathsig(signal.SIGKILL)):
        threading.Thread(target=_watch, args=(parent_pid,), name="parent-watch", daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)


def _pdeathsig(signum: int) -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return bool(libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        threading.Event().wait(WATCH_SECONDS)
    os._exit(1)


class ExtractionAborted(Exception):
    """An extraction ran past its deadline, or its worker died: the worker was replaced. Caught by the
    caller and recorded as the check's outcome; never raised past it."""

    def __init__(self, outcome: Outcome, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome


class WorkerPool:
    """Runs CPU-bound work (extraction and judging) in worker processes (pebble): each call has a
    deadline (`ARCHIVER_EXTRACT_TIMEOUT`), a worker that overruns it is killed and replaced, and every
    worker dies with this process. Always processes, even for one worker: a thread cannot be stopped.
    Workers start on the first call, so a run that needs none starts none. Use as a context manager."""

    def __init__(self, settings: ExtractSettings) -> None:
        self.workers = settings.workers
        self.deadline = settings.timeout
        self._pool: ProcessPool | None = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    async def run(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """`fn(*args)` in a worker; raises ExtractionAborted past the deadline or when the worker dies."""
        if kwargs:
            raise TypeError("worker calls take positional arguments only")
        if self._pool is None:
            # spawn: workers never inherit the event loop's threads or open sockets, and they are
            # our own children, so their CPU time and memory show in getrusage (the benchmark reads it)
            self._pool = ProcessPool(
                self.workers,
                initializer=die_with_parent,
                initargs=(os.getpid(),),
                context=multiprocessing.get_context("spawn"),
            )
        future = self._pool.schedule(fn, args=args, timeout=self.deadline)
        try:
            return cast(R, await asyncio.wrap_future(future))
        except TimeoutError:
            raise ExtractionAborted(
                Outcome.EXTRACT_TIMEOUT,
                f"extraction ran past {self.deadline:g}s (ARCHIVER_EXTRACT_TIMEOUT); its worker was replaced",
            ) from None
        except ProcessExpired as exc:
            raise ExtractionAborted(
                Outcome.EXTRACT_FAILED, f"the extraction worker died (exit status {exc.exitcode}); it was replaced"
            ) from None

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.stop()  # type: ignore[no-untyped-call]  # every task is done or abandoned by now
            self._pool.join(timeout=10)
            self._pool = None
