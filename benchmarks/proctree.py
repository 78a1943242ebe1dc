"""Peak memory and CPU of a process and its descendants, read from /proc while they run.

`getrusage(RUSAGE_CHILDREN).ru_maxrss` cannot tell a worker's peak: Linux carries the parent's
high-water mark across fork and exec into the child, so a worker spawned by a 200 MiB process
reports at least 200 MiB. /proc/PID/status `VmHWM` belongs to the process's own address space
(reset at exec), and /proc/PID/smaps_rollup `Pss` counts shared pages once. A sampler thread reads
both for the root and every descendant every `interval` seconds and keeps the maxima.
"""

from __future__ import annotations

import multiprocessing.forkserver
import os
import resource
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except (OSError, ValueError):
        return ""


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in _read_dir(f"/proc/{pid}/task"):
        found += [int(c) for c in _read(f"/proc/{pid}/task/{task}/children").split()]
    return found


def _read_dir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        kids = children(todo.pop())
        out += kids
        todo += kids
    return out


def status_kib(pid: int, key: str) -> int:
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def pss_kib(pid: int) -> int:
    for line in _read(f"/proc/{pid}/smaps_rollup").splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (its own threads; not its reaped children)."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return 0.0
    fields = stat.rsplit(")", 1)[-1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def cpu_seconds_with_reaped(pid: int) -> float:
    """User + system CPU of one process and of the children it has reaped (a fork server's workers)."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return 0.0
    fields = stat.rsplit(")", 1)[-1].split()
    return sum(int(f) for f in fields[11:15]) / TICK


def service_usage() -> tuple[float, float]:
    """CPU seconds so far of this process, and of its workers: the reaped children (getrusage) and the
    workers' fork server, which lives on between passes, with the workers it reaped."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    server = getattr(multiprocessing.forkserver._forkserver, "_forkserver_pid", None)
    served = cpu_seconds_with_reaped(server) if server else 0.0
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime + served


def received(conn: Any, child: Any, seconds: float, what: str) -> Any:
    """The next message from a child process (`what` names it in errors): a child that died, or that
    sent nothing within `seconds` (then terminated), is an error naming it, not a wait forever."""
    deadline = time.monotonic() + seconds
    while not conn.poll(1.0):
        if not child.is_alive():
            raise RuntimeError(f"{what} died (exit status {child.exitcode})")
        if time.monotonic() > deadline:
            child.terminate()
            raise RuntimeError(f"{what} sent nothing in {seconds:g}s")
    try:
        return conn.recv()
    except EOFError:  # the child's end closed: it died before it sent anything more
        child.join(5)
        raise RuntimeError(f"{what} died (exit status {child.exitcode})") from None


def command(pid: int) -> str:
    return _read(f"/proc/{pid}/cmdline").replace("\0", " ").strip()[:200]


@dataclass
class TreePeaks:
    """Maxima seen over the life of a sampler: MiB."""

    root_hwm: float = 0.0  # the root process's own high-water RSS
    worker_hwm: float = 0.0  # the largest descendant's own high-water RSS
    tree_rss: float = 0.0  # the largest sum of RSS over the tree at one sample
    tree_pss: float = 0.0  # the same with shared pages counted once
    processes: int = 0  # the most processes alive at one sample
    cpu: dict[int, float] = field(default_factory=dict)  # last CPU seconds seen per pid
    commands: dict[int, str] = field(default_factory=dict)


class TreeSampler:
    """Samples `pid` and its descendants in a thread; `stop()` returns the peaks."""

    def __init__(self, pid: int, interval: float = 0.1, pss: bool = True) -> None:
        self.pid, self.interval, self.pss = pid, interval, pss
        self.peaks = TreePeaks()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="tree-sampler", daemon=True)
        self._thread.start()

    def sample(self) -> None:
        pids = [self.pid, *descendants(self.pid)]
        rss = pss = 0
        alive = 0
        with self._lock:
            p = self.peaks
            for pid in pids:
                resident = status_kib(pid, "VmRSS")
                if not resident:
                    continue
                alive += 1
                rss += resident
                if self.pss:
                    pss += pss_kib(pid)
                hwm = status_kib(pid, "VmHWM") / 1024
                if pid == self.pid:
                    p.root_hwm = max(p.root_hwm, hwm)
                else:
                    p.worker_hwm = max(p.worker_hwm, hwm)
                p.cpu[pid] = max(p.cpu.get(pid, 0.0), cpu_seconds(pid))
                if pid not in p.commands:
                    p.commands[pid] = command(pid)
            p.tree_rss = max(p.tree_rss, rss / 1024)
            p.tree_pss = max(p.tree_pss, pss / 1024)
            p.processes = max(p.processes, alive)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def tree_cpu(self) -> float:
        """CPU seconds of every process seen so far (a process that exited counts up to its last sample)."""
        self.sample()
        with self._lock:
            return sum(self.peaks.cpu.values())

    def stop(self) -> TreePeaks:
        self._stop.set()
        self._thread.join(5)
        return self.peaks


def loadavg() -> tuple[float, float, float]:
    one, five, fifteen = os.getloadavg()
    return round(one, 2), round(five, 2), round(fifteen, 2)


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores so far, from /proc/stat: deltas give the machine's load."""
    fields = [int(x) for x in _read("/proc/stat").splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return float(sum(fields) - idle), float(sum(fields))
