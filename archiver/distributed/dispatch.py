"""The dispatcher (`archiver daemon` with `ARCHIVER_BROKER_URL`): at each tick it reads the citation
list, syncs the store, and queues the citations that are due (the same `cadence` rule as a local
pass) and not queued already, as one pass; then it finishes the passes whose every citation has been
checked. Who folds health: the worker that checked a citation folds it at once; when a finished pass
turns out offline (every check failed before any HTTP exchange), the dispatcher folds its citations
again, so that pass counts against none of them, as a local pass would."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery import Celery

from archiver.cadence import due_citations
from archiver.config import Settings
from archiver.distributed.lease import host_of
from archiver.distributed.queue import TASK, as_message, broker_errors, make_app, queued_key, redis_client
from archiver.errors import ConfigError
from archiver.models import Citation, Clock, utcnow
from archiver.pipeline import sync, watched
from archiver.refold import update_health
from archiver.sources import read_sources
from archiver.store import Store, checks

log = logging.getLogger("archiver.dispatcher")
# a pass whose last tasks are still queued after this long is left to the markers' expiry (a task
# lost by the broker, say): its citations are queued again when due
MAX_PASS = timedelta(days=1)


@dataclass
class OpenPass:
    started: datetime
    citations: tuple[Citation, ...]


@dataclass
class Dispatcher:
    """Queues what is due; keeps the store open between ticks. Use as a context manager."""

    settings: Settings
    clock: Clock = utcnow
    app: Celery = field(init=False)
    store: Store = field(init=False)
    open: dict[int, OpenPass] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        if not self.settings.database_url:
            raise ConfigError("the dispatcher needs ARCHIVER_DATABASE_URL: its workers share a PostgreSQL store")
        self.app = make_app(self.settings)
        self.redis = redis_client(self.settings)
        self.store = Store.open(self.settings.data_dir, database_url=self.settings.database_url)

    def __enter__(self) -> Dispatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.store.close()
        self.redis.close()

    def tick(self, interval: timedelta, *, retry_base: timedelta, jitter: timedelta = timedelta(0)) -> int:
        """Queue the due citations not queued yet (as one pass); finish the passes that are done.
        Returns how many were queued."""
        with broker_errors(self.settings):
            return self._tick(interval, retry_base, jitter)

    def _tick(self, interval: timedelta, retry_base: timedelta, jitter: timedelta) -> int:
        citations = read_sources(self.settings.sources)
        now = self.clock()
        sync(self.store, citations, now)
        every = watched(self.store, citations)  # the watched URLs, each once, as a local pass checks them
        due = due_citations(every, self.store.schedule_records(), now, interval, retry_base=retry_base, jitter=jitter)
        fresh = tuple(c for c in due if self.redis.set(queued_key(c.id), "1", nx=True, ex=self.marker_ttl))
        if fresh:
            pass_id = self.store.begin_pass(now, len(fresh))
            self.open[pass_id] = OpenPass(now, fresh)
            for citation in interleaved(fresh):
                self.app.send_task(TASK, args=[as_message(citation, pass_id)])
            log.info("pass %d: %d citation(s) queued", pass_id, len(fresh))
        self.finish_done()
        return len(fresh)

    @property
    def marker_ttl(self) -> int:
        """Seconds a citation's queued marker lives unless the dispatcher renews it (a dead dispatcher's
        markers free their citations)."""
        return int(self.settings.visibility_timeout * 2) + 60

    def _refresh(self, keys: list[str]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.expire(key, self.marker_ttl)
        pipe.execute()

    def finish_done(self) -> list[int]:
        """Finish every open pass whose tasks have all ended: each citation checked, or its task gone
        from the queue without a check (it failed); the passes finished."""
        finished = []
        now = self.clock()
        for pass_id, open_pass in list(self.open.items()):
            outcomes = checks.pass_outcomes(self.store.db, pass_id)
            unchecked = [queued_key(c.id) for c in open_pass.citations if c.id not in outcomes]
            if unchecked and self.redis.exists(*unchecked):
                if now - open_pass.started < MAX_PASS:  # a queue may be long: its markers live on
                    self._refresh(unchecked)
                continue
            offline = bool(outcomes) and all(o.before_http for o in outcomes.values())
            self.store.finish_pass(pass_id, now, offline)
            if offline:  # the workers folded these checks as online: fold again, now that we know
                for citation in open_pass.citations:
                    update_health(self.store, citation, self.settings.rot_policy, now)
            del self.open[pass_id]
            finished.append(pass_id)
            log.info(
                "pass %d finished: %d of %d checked%s",
                pass_id,
                len(outcomes),
                len(open_pass.citations),
                ", offline" if offline else "",
            )
        return finished


def interleaved(citations: Sequence[Citation]) -> list[Citation]:
    """The citations host after host in turn (the first of each host, then the second...), so that
    workers taking tasks in order seldom wait for the same host."""
    turn: dict[str, int] = {}
    keyed = []
    for n, citation in enumerate(citations):
        host = host_of(citation.url)
        turn[host] = turn.get(host, -1) + 1
        keyed.append((turn[host], n, citation))
    return [c for _, _, c in sorted(keyed, key=lambda k: (k[0], k[1]))]
