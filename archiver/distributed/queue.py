"""The work queue of distributed mode: a Celery app on the Redis broker (`ARCHIVER_BROKER_URL`), its one
task (`archiver.check`: one citation of a dispatcher's pass) and the worker process that runs it.

Nothing is lost or done twice:
- a task is acknowledged after it returns, that is after its check is committed (`task_acks_late`);
- a worker killed mid-check leaves its task unacknowledged: a live worker's sweep puts it back in the
  queue once it has been out `ARCHIVER_VISIBILITY_TIMEOUT` seconds, with the same task id;
- the check row names its task id under a UNIQUE constraint, and versions are unique on their content
  hash: a task run twice (killed between commit and acknowledgement) stores nothing twice;
- while a citation's task is queued or running, a marker in Redis keeps the dispatcher from queuing
  it again.
Each worker process runs one task at a time (`--pool=solo`: its store connection, its extraction
processes and its leases are its own); run several per machine for more throughput (README)."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import kombu.exceptions
import redis
from celery import Celery, Task

from archiver.config import Settings, redacted
from archiver.distributed.lease import HostBusy, HostLease, host_of
from archiver.errors import BrokerError
from archiver.fetch import Resolver
from archiver.models import Citation
from archiver.pipeline import archive_task, run_task
from archiver.store import Store
from archiver.workers import WorkerPool

log = logging.getLogger("archiver.worker")
QUEUE = "archiver"
TASK = "archiver.check"
SOCKET_TIMEOUT = 10.0  # seconds: every Redis call has a deadline
LEASE_TTL = 15.0  # seconds a dead worker's host lease outlives it (a live one renews its own)
LEASE_WAIT = 10.0  # seconds a task waits for a busy host before it is queued again
BUSY_COUNTDOWN = 2.0  # seconds before a task that found its host busy is tried again


def make_app(settings: Settings) -> Celery:
    """The Celery app of this deployment (its broker from the settings), with the `archiver.check` task."""
    app = Celery("archiver", broker=settings.broker_url, set_as_current=False)
    vt = settings.visibility_timeout
    app.conf.update(
        task_acks_late=True,  # acknowledged after the check is committed
        task_reject_on_worker_lost=True,  # a worker lost mid-task: requeue, never acknowledge
        worker_prefetch_multiplier=1,  # hold no message beyond the one running
        task_ignore_result=True,  # results live in the store
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=QUEUE,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": vt,
            # the sweep that puts a dead worker's tasks back runs this often (kombu: interval × throttle)
            "unacked_restore_interval": max(1.0, min(60.0, vt / 5)),
            "unacked_restore_throttle": 1,
            # the sweep holds a lock in Redis for a moment; a worker killed while holding it left it
            # for kombu's default 300 s, and no task it lost came back until then (seen in CI): the
            # lock now outlives a dead holder by at most a sweep's longest time (two Redis calls)
            "unacked_mutex_expire": int(2 * SOCKET_TIMEOUT),
            "socket_timeout": SOCKET_TIMEOUT,
            "socket_connect_timeout": SOCKET_TIMEOUT,
        },
    )
    app.task(name=TASK, bind=True, max_retries=None)(_check)
    return app


def redis_client(settings: Settings) -> redis.Redis:
    return redis.Redis.from_url(
        settings.broker_url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT
    )


@contextmanager
def broker_errors(settings: Settings) -> Iterator[None]:
    """The broker's failures (down, refused, timed out) as a BrokerError naming it, password hidden."""
    try:
        yield
    except (redis.RedisError, kombu.exceptions.OperationalError) as exc:
        raise BrokerError(f"the broker {redacted(settings.broker_url)}: {exc}") from None


def queued_key(citation_id: str) -> str:
    """The marker of a citation whose task is queued or running."""
    return f"archiver:queued:{citation_id}"


def as_message(citation: Citation, pass_id: int) -> dict[str, Any]:
    """A task's JSON arguments: the citation as listed (workers need no copy of sources.csv)."""
    listed = {"id": citation.id, "url": citation.url, "claim": citation.claim, "cited_at": citation.cited_at}
    return {"citation": {**listed, "expect": list(citation.expect), "interval": citation.interval}, "pass_id": pass_id}


def from_message(message: dict[str, Any]) -> tuple[Citation, int]:
    c = message["citation"]
    citation = Citation(
        str(c["id"]), str(c["url"]), str(c["claim"]), str(c["cited_at"]), tuple(c["expect"]), str(c["interval"])
    )
    return citation, int(message["pass_id"])


@dataclass
class WorkerProcess:
    """What one worker process keeps between tasks: its store connection, its extraction processes,
    its Redis client; each opened on first use."""

    settings: Settings
    name: str
    resolver: Resolver | None = None
    _store: Store | None = field(default=None, init=False)
    _pool: WorkerPool | None = field(default=None, init=False)
    _redis: redis.Redis | None = field(default=None, init=False)

    @property
    def store(self) -> Store:
        if self._store is None:
            writer = f"{socket.gethostname()}-{os.getpid()}"
            self._store = Store.open(self.settings.data_dir, database_url=self.settings.database_url, writer=writer)
        return self._store

    @property
    def workers(self) -> WorkerPool:
        if self._pool is None:
            self._pool = WorkerPool(self.settings.extract_settings)
        return self._pool

    @property
    def redis(self) -> redis.Redis:
        if self._redis is None:
            self._redis = redis_client(self.settings)
        return self._redis

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
        if self._store is not None:
            self._store.close()
        if self._redis is not None:
            self._redis.close()


_process: WorkerProcess | None = None


def _check(task: Task, message: dict[str, Any]) -> None:
    """The task: take a slot of the citation's host, check it like a local pass does, commit; the
    acknowledgement follows the return. A busy host sends the task back to the queue for later."""
    assert _process is not None, "archiver.check runs in `archiver worker` only"
    citation, pass_id = from_message(message)
    settings = _process.settings
    lease = HostLease(_process.redis, settings.per_host, LEASE_TTL)
    try:
        with lease.hold(host_of(citation.url), LEASE_WAIT):
            store = _process.store.for_task(str(task.request.id), _process.name)
            summary, change = run_task(settings, store, _process.workers, citation, pass_id, resolver=_process.resolver)
        archive_task(settings, store, _process.workers, citation, summary, resolver=_process.resolver)
    except HostBusy as exc:
        log.info("check [%s] waits: %s", citation.id, exc)
        raise task.retry(countdown=BUSY_COUNTDOWN) from None
    except Exception:  # a failure of our own (a full disk, say): the dispatcher may queue it again
        _process.redis.delete(queued_key(citation.id))
        raise
    _process.redis.delete(queued_key(citation.id))
    log.info("check [%s] %s %s", citation.id, summary.outcome, summary.final_url or citation.url)
    if change is not None:
        log.info("status [%s] %s -> %s: %s", change.citation_id, change.old, change.new, change.evidence)


def run_worker(settings: Settings, name: str = "", resolver: Resolver | None = None) -> None:
    """Run a worker in this process until SIGTERM (a warm shutdown: the running check finishes and is
    acknowledged, queued ones stay for the other workers) or SIGQUIT (cold: the running task goes back)."""
    global _process
    name = name or f"archiver-{os.getpid()}"
    if "@" not in name:  # Celery's node names are NAME@HOST: the store and `status` use the same
        name = f"{name}@{socket.gethostname()}"
    _process = WorkerProcess(settings, name, resolver)
    app = make_app(settings)
    argv = ["worker", "--pool=solo", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    try:
        app.worker_main(argv=[*argv, "-n", name, "-Q", QUEUE, "--loglevel", "INFO"])
    finally:
        _process.close()
        _process = None
