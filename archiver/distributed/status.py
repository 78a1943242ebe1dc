"""What `archiver status` shows of distributed mode: the queue (waiting, running), the workers that
answer, and the throughput of each, from the store's own check rows (they name their worker), so the
figures survive a worker's restart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from archiver.config import Settings
from archiver.distributed.queue import QUEUE, broker_errors, make_app, redis_client
from archiver.models import Clock, utcnow
from archiver.store import Store, checks

PING_TIMEOUT = 1.0  # seconds the workers have to answer (the call always waits this long)
RECENT = timedelta(minutes=10)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class WorkerStatus:
    name: str
    answering: bool  # answered the ping now
    tasks: int  # tasks done since it started (Celery's count)
    last_10_min: int  # checks recorded (the store's count)
    last_hour: int


@dataclass(frozen=True)
class QueueStatus:
    waiting: int  # tasks in the queue
    running: int  # tasks delivered and not acknowledged yet
    workers: tuple[WorkerStatus, ...]

    @property
    def per_hour(self) -> int:
        return sum(w.last_hour for w in self.workers)


def queue_status(settings: Settings, clock: Clock = utcnow) -> QueueStatus:
    client = redis_client(settings)
    with broker_errors(settings):
        try:
            waiting, running = int(client.llen(QUEUE)), int(client.hlen("unacked"))
        finally:
            client.close()
        stats: dict[str, Any] = make_app(settings).control.inspect(timeout=PING_TIMEOUT).stats() or {}
    now = clock()
    with Store.open(settings.data_dir, read_only=True, database_url=settings.database_url) as store:
        recent, hour = checks.by_worker(store.db, now - RECENT), checks.by_worker(store.db, now - HOUR)
    names = sorted(set(stats) | {n for n in hour if n})
    workers = tuple(WorkerStatus(n, n in stats, _total(stats.get(n)), recent.get(n, 0), hour.get(n, 0)) for n in names)
    return QueueStatus(waiting, running, workers)


def _total(stats: Any) -> int:
    if not isinstance(stats, dict):
        return 0
    return sum(int(v) for v in (stats.get("total") or {}).values())
