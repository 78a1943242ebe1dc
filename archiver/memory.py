"""How the service's processes hold memory they are done with (glibc's allocator; elsewhere, nothing
changes): the main process the response bodies of a pass, each extraction worker the trees and texts
of the pages it extracted.

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

A worker is the same story at another scale: a 1.5 MB page makes trees and texts of several MiB,
the threshold rises to them (up to 32 MiB), and the heap's top goes back to the system only past
twice the threshold. After its largest pages a worker held 15-20 MiB of free heap between other
pages' blocks. Its thresholds are fixed higher than the main process's, since a worker frees
thousands of blocks a page and every page mapped anew costs a fault (2 us here): blocks of 1 MiB or
more get pages of their own, and the heap's top goes back past 4 MiB free. `real.py` at 1,000 URLs,
two pairs of runs: the tree's peak 10-11 MiB lower, the workers' CPU about 1% higher. Lower
thresholds give back a little more for much more CPU (one run each): 512 KiB and 2 MiB, 14 MiB for
2.5%; 256 KiB and 1 MiB, 15 MiB for 6% (the 512 KiB and 1 MiB of an earlier round, 4-10%).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from typing import Any

M_TRIM_THRESHOLD = -1  # from glibc's <malloc.h>
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
BODY_THRESHOLD = 128 * 1024  # glibc's own starting threshold, kept fixed
ARENAS = 1
PAGE_THRESHOLD = 1024 * 1024  # a worker's blocks this large get pages of their own
WORKER_TOP = 4 * 1024 * 1024  # a worker's heap gives its top back past this much free


def give_bodies_back() -> bool:
    """Tune this process's allocator for a pass (see the module); True when it was (glibc)."""
    mallopt = _libc("mallopt")
    return (
        mallopt is not None and bool(mallopt(M_MMAP_THRESHOLD, BODY_THRESHOLD)) and bool(mallopt(M_ARENA_MAX, ARENAS))
    )


def give_pages_back() -> bool:
    """Tune an extraction worker's allocator (see the module), or the fork server's that its workers
    inherit; True when it was (glibc)."""
    mallopt = _libc("mallopt")
    return (
        mallopt is not None
        and bool(mallopt(M_MMAP_THRESHOLD, PAGE_THRESHOLD))
        and bool(mallopt(M_TRIM_THRESHOLD, WORKER_TOP))
    )


def release_free_heap() -> bool:
    """Give the heap's free pages back to the system now (`malloc_trim`); True when it could (glibc)."""
    trim = _libc("malloc_trim")
    return trim is not None and trim(0) in (0, 1)


def _libc(function: str) -> Any:
    """One of glibc's allocator functions; None elsewhere (musl has no `mallopt`)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), function)
    except (OSError, AttributeError):
        return None
