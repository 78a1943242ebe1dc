"""APScheduler wiring for `archiver daemon`: one job that runs a pass over what is due.

The schedule itself is not kept in APScheduler: each citation's next due time is derived from the
store (see `cadence`), so a restart resumes where it left off and never re-fetches what is not due.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from archiver.config import Settings
from archiver.distributed import not_installed
from archiver.errors import ArchiverError, ConfigError
from archiver.models import CheckSummary, PassSummary
from archiver.pipeline import run_due

if TYPE_CHECKING:
    from archiver.distributed.dispatch import Dispatcher

log = logging.getLogger("archiver.daemon")


def cron_trigger(expression: str, jitter: timedelta) -> CronTrigger:
    try:
        return (
            CronTrigger.from_crontab(expression, timezone=UTC)
            if not jitter
            else CronTrigger(**_crontab_fields(expression), timezone=UTC, jitter=int(jitter.total_seconds()))
        )
    except ValueError as exc:
        raise ConfigError(f"--cron {expression!r}: {exc}") from None


def _crontab_fields(expression: str) -> dict[str, str]:
    parts = expression.split()
    if len(parts) != 5:
        raise ValueError("a crontab expression has five fields: minute hour day month day-of-week")
    return dict(zip(("minute", "hour", "day", "month", "day_of_week"), parts, strict=True))


def run_daemon(
    settings: Settings,
    stop: threading.Event,
    *,
    every: timedelta,
    cron: str | None = None,
    jitter: timedelta = timedelta(0),
    tick: float = 60.0,
    retry_base: timedelta = timedelta(minutes=30),
    on_check: Callable[[CheckSummary], None] | None = None,
    on_pass: Callable[[PassSummary], None] | None = None,
) -> None:
    """Run passes until `stop` is set, then let the running one wind down and return."""
    trigger = cron_trigger(cron, jitter) if cron else IntervalTrigger(seconds=tick, timezone=UTC)
    # in cron mode the crontab decides when passes run: every healthy citation is due at each one
    interval = timedelta(0) if cron else every
    # distributed mode: this daemon is the dispatcher, the workers check (archiver.distributed)
    dispatcher = _dispatcher(settings) if settings.broker_url else None

    def one_pass() -> None:
        if stop.is_set():
            return
        try:
            if dispatcher is not None:
                dispatcher.tick(interval, retry_base=retry_base, jitter=jitter)
                return
            summary = run_due(settings, interval, retry_base=retry_base, jitter=jitter, on_check=on_check, stop=stop)
        except ArchiverError as exc:  # a bad edit of sources.csv, a full disk: say so, try again next time
            log.error("pass skipped: %s", exc)
            return
        if summary is not None and on_pass is not None:
            on_pass(summary)

    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(
        one_pass, trigger, id="pass", max_instances=1, coalesce=True, next_run_time=None if cron else datetime.now(UTC)
    )
    scheduler.start()
    log.info(
        "%s started: %s",
        "dispatcher" if dispatcher else "daemon",
        f"cron {cron!r}" if cron else f"every {every}, waking every {tick:g}s",
    )
    try:
        while not stop.wait(0.2):
            pass
    finally:
        log.info("stopping: letting the running pass finish its writes")
        scheduler.shutdown(wait=True)
        if dispatcher is not None:
            dispatcher.close()
        log.info("daemon stopped")


def _dispatcher(settings: Settings) -> Dispatcher:
    try:
        from archiver.distributed.dispatch import Dispatcher
    except ImportError as exc:  # Celery is an extra: `pip install .` runs the daemon without it
        raise not_installed(exc) from None
    return Dispatcher(settings)
