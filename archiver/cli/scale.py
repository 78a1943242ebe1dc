"""The commands past one machine: `migrate-store` (the SQLite store into PostgreSQL), `worker` (checks
queued by the dispatcher) and `status` (the queue, the workers and their throughput)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from archiver.cli.app import WAIT, cli, locked, user_errors
from archiver.config import Settings, redacted, server_url
from archiver.distributed import not_installed
from archiver.errors import ConfigError
from archiver.store.transfer import migrate_store as copy_store


@cli.command("migrate-store")
@click.option(
    "--to", "to", required=True, metavar="URL", help="The PostgreSQL database to copy into (postgresql://…), empty."
)
@WAIT
@click.pass_obj
def migrate_store(settings: Settings, to: str, wait: bool) -> None:
    """Copy the SQLite store of the data directory into an empty PostgreSQL database, then check both
    with `verify` and compare them table by table. Snapshot and WARC files stay in the data
    directory; the SQLite store is left as it was. Then set ARCHIVER_DATABASE_URL to the URL.

    Example: archiver migrate-store --to postgresql://archiver:secret@db.internal/archiver"""
    with user_errors():
        try:
            url = server_url("postgresql", "postgres")(to)
        except ValueError as exc:
            raise ConfigError(f"--to {redacted(to)!r}: {exc}") from None
        if not settings.database_path.exists():
            raise ConfigError(f"no SQLite store in {settings.data_dir} to copy (set --data-dir)")
        with locked(settings, "archiver migrate-store", wait):
            done = copy_store(settings.data_dir, url, lambda table, rows: click.echo(f"copied {rows:>9,} {table}"))
    for problem in done.source.problems:
        click.secho(f"problem (source): {problem}", fg="red")
    if done.target is None:
        click.echo(f"{settings.data_dir}: the store has problems; fix them (see `archiver verify`), then copy it")
        sys.exit(6)
    for problem in done.target.problems:
        click.secho(f"problem (copy): {problem}", fg="red")
    _print_table(
        [("table", "rows", "same in both")] + [(t.table, f"{t.rows:,}", "yes" if t.same else "NO") for t in done.tables]
    )
    click.echo(
        f"verify: source {len(done.source.problems)} problem(s), copy {len(done.target.problems)} problem(s); "
        f"{done.source.checks} checks, {done.source.versions} versions in each"
    )
    if not done.ok:
        sys.exit(6)
    click.echo(f"the store is in {done.target_where}: set ARCHIVER_DATABASE_URL to that URL to use it")


@cli.command()
@click.option(
    "--name", default="", metavar="NAME", help="The worker's name in `archiver status` (default archiver-PID@HOST)."
)
@click.pass_obj
def worker(settings: Settings, name: str) -> None:
    """Check the citations the dispatcher queues (distributed mode: ARCHIVER_BROKER_URL, and the store
    in PostgreSQL through ARCHIVER_DATABASE_URL), one at a time, until SIGTERM; run several for more.

    Example: ARCHIVER_BROKER_URL=redis://queue.internal/0 archiver worker"""
    with user_errors():
        _need_broker(settings, "archiver worker")
        if not settings.database_url:
            raise ConfigError("archiver worker needs ARCHIVER_DATABASE_URL: workers share a PostgreSQL store")
        try:
            from archiver.distributed.queue import run_worker
        except ImportError as exc:
            raise not_installed(exc) from None

        run_worker(settings, name)


@cli.command()
@click.pass_obj
def status(settings: Settings) -> None:
    """Show the queue (waiting, running), the workers that answer and their throughput.

    Example: archiver status"""
    with user_errors():
        _need_broker(settings, "archiver status")
        try:
            from archiver.distributed.status import queue_status
        except ImportError as exc:
            raise not_installed(exc) from None

        now = queue_status(settings)
    click.echo(f"queue: {now.waiting} waiting, {now.running} running")
    rows = [("worker", "answering", "tasks", "checks 10 min", "checks 1 h")]
    rows += [
        (w.name, "yes" if w.answering else "no", str(w.tasks), str(w.last_10_min), str(w.last_hour))
        for w in now.workers
    ]
    _print_table(rows)
    click.echo(f"throughput: {now.per_hour} checks in the last hour, {now.per_hour * 24:,} a day at that rate")


def _need_broker(settings: Settings, what: str) -> None:
    if not settings.broker_url:
        raise ConfigError(f"{what} needs ARCHIVER_BROKER_URL (redis://…): the broker of distributed mode")


def _print_table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            click.echo("  ".join("-" * w for w in widths))
