"""How a pass's processes give memory back to the system: the main process's response bodies and an
extraction worker's large pages (glibc only; elsewhere, nothing changes).

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

An extraction worker holds one page at a time, but the same thresholds rise with each large page
(a 1.5 MB home page, its decoded text, trafilatura's serialisations): from then on the worker's
copies of every page come from its heap, which keeps them, and each worker sits near its largest
page's size for the rest of the pass. With blocks of 512 KB and more on pages of their own, and a
heap that gives back a free top past 1 MiB, two workers looping over the corpus ended each round
with the process tree at 279-281 MiB instead of 298-301 (tests/test_workers.py shows the
mechanism; benchmarks/real.py the pass); their CPU moved within the machine's noise (-0.7 to
+3 ms a page in four paired runs).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_MMAP_THRESHOLD = -3  # from glibc's <malloc.h>
M_ARENA_MAX = -8
M_TRIM_THRESHOLD = -1
BODY_THRESHOLD = 128 * 1024  # glibc's own starting threshold, kept fixed
ARENAS = 1
WORKER_THRESHOLD = 512 * 1024  # a worker's blocks this large get pages of their own
WORKER_TRIM_THRESHOLD = 1024 * 1024  # a worker's heap gives back its free top past this much


def give_bodies_back() -> bool:
    """Tune the main process's allocator for a pass (see the module); True when it was (glibc)."""
    return _mallopt((M_MMAP_THRESHOLD, BODY_THRESHOLD), (M_ARENA_MAX, ARENAS))


def give_large_pages_back() -> bool:
    """Tune an extraction worker's allocator (see the module); True when it was (glibc)."""
    return _mallopt((M_MMAP_THRESHOLD, WORKER_THRESHOLD), (M_TRIM_THRESHOLD, WORKER_TRIM_THRESHOLD))


def _mallopt(*settings: tuple[int, int]) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    return all([bool(mallopt(option, value)) for option, value in settings])
