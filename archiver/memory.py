"""How the main process's allocator holds response bodies during a pass (glibc only; elsewhere,
nothing changes).

A pass keeps up to `concurrency + 4 × workers` bodies of 14 KB to 1.5 MB in memory at once, each
copied a few times (read, pickled to a worker, written), and frees them in any order. glibc serves
blocks that large from `mmap` at first, then raises its threshold to the largest block freed and
serves them from its heaps instead, one heap per thread that allocates (the event loop, the
process pool's threads, the store's writer threads), where the freed space stays: the main process
grew from 85 MiB at 1,000 URLs to 149 MiB at 10,000 (benchmarks/real.py). With a fixed threshold every
body gets pages of its own, given back when it is freed; and the few threads that allocate (the
event loop, the pool's two message threads, the store's writer) share one heap: with two, the
second kept what the pool's threads freed, and the main process peaked at 120 MiB at 10,000 URLs
(two runs) where one heap peaked at 88-92, its CPU unchanged within the machine's noise.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_MMAP_THRESHOLD = -3  # from glibc's <malloc.h>
M_ARENA_MAX = -8
BODY_THRESHOLD = 128 * 1024  # glibc's own starting threshold, kept fixed
ARENAS = 1


def give_bodies_back() -> bool:
    """Tune this process's allocator for a pass (see the module); True when it was (glibc)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, BODY_THRESHOLD)) and bool(mallopt(M_ARENA_MAX, ARENAS))
