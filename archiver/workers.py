"""Extraction worker processes die with the process that started them.

A worker killed with its parent (`kill -9` of `check`) must not linger, busy and holding the dead
run's stdout open. On Linux the kernel sends it SIGKILL when its parent goes
(`prctl(PR_SET_PDEATHSIG)`); elsewhere a thread watches for the parent to change.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading

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
