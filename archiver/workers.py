"""The worker processes that extract and judge pages, for the pass and the archiving step alike: each
call has a deadline, and every worker dies with the process that started it.

Workers are forked from a fork server (multiprocessing's `forkserver`: a fresh single-threaded
process, so no worker inherits the event loop's threads or sockets) that imported `archiver.warmup`
once: a worker starts with the libraries loaded and their lazy start-up paid, and shares those
memory pages with the server. Where the platform has no fork server, each worker is spawned afresh
and pays that start-up itself.

A worker killed with its parent (`kill -9` of `check`) must not linger, busy and holding the dead
run's stdout open. The fork server exits when the process that started it goes; a worker gets
SIGKILL from the kernel when its own parent (the server) goes (`prctl(PR_SET_PDEATHSIG)` on Linux;
elsewhere a thread watches for the parent to change).
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
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar, cast

from pebble import ProcessExpired, ProcessPool

from archiver.config import ExtractSettings
from archiver.models import Outcome

P = ParamSpec("P")
R = TypeVar("R")

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
WATCH_SECONDS = 1.0


WARMUP_MODULE = "archiver.warmup"
MAIN_MODULES = ("__main__", "__mp_main__")  # a script's own functions, which workers cannot import
START_SECONDS = 120.0  # the fork server's warm-up and the first workers' start, at most


def start_context() -> multiprocessing.context.BaseContext:
    """How workers start: forked from the warm fork server where the platform has one, else spawned."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([WARMUP_MODULE])
    return context


def die_with_parent() -> None:
    """Run first in each worker: be killed when its parent dies, and exit now if it already has."""
    parent_pid = os.getppid()
    if not (sys.platform.startswith("linux") and _pdeathsig(signal.SIGKILL)):
        threading.Thread(target=_watch, args=(parent_pid,), name="parent-watch", daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)
    _let_go_of_fork_server()


def _let_go_of_fork_server() -> None:
    """A worker forked by the fork server holds the write end of the server's "alive" pipe (so that it
    could start processes of its own, which it never does), and the server stays while any holder
    lives: closed here, so that the server, and with it the workers, end with the process that
    started them."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if isinstance(fd, int):
        os.close(fd)
        server._forkserver_alive_fd = None  # type: ignore[union-attr]


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
        self._starting = threading.Lock()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    async def run(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """`fn(*args)` in a worker; raises ExtractionAborted past the deadline or when the worker dies.
        `fn` is importable by name: workers never import their parent's main module (see `warmup`)."""
        if kwargs:
            raise TypeError("worker calls take positional arguments only")
        if getattr(fn, "__module__", None) in MAIN_MODULES:
            raise TypeError(f"{getattr(fn, '__qualname__', fn)!r} is not importable by name: define it in a module")
        pool = self._pool
        if pool is None:  # the first start waits (the fork server warms up): not on the event loop
            pool = await asyncio.to_thread(self._start)
        future = pool.schedule(fn, args=args, timeout=self.deadline)
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

    def _start(self) -> ProcessPool:
        """The pool, its workers started (and the fork server warmed up, the first time)."""
        with self._starting:
            if self._pool is None:
                pool = ProcessPool(self.workers, initializer=die_with_parent, context=start_context())
                try:
                    pool.schedule(os.getpid, timeout=START_SECONDS).result(timeout=START_SECONDS)
                except (TimeoutError, ProcessExpired, BrokenProcessPool, OSError) as exc:
                    pool.stop()  # type: ignore[no-untyped-call]
                    raise ExtractionAborted(
                        Outcome.EXTRACT_FAILED, f"the extraction workers did not start: {exc or type(exc).__name__}"
                    ) from None
                self._pool = pool
            return self._pool

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.stop()  # type: ignore[no-untyped-call]  # every task is done or abandoned by now
            self._pool.join(timeout=10)
            self._pool = None
