"""The commands that write the store: `check`, `daemon` and `archive`, each one library call, and
what they print (a table per pass, the archive's tally, changes of status)."""

from __future__ import annotations

import logging
import math
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import click
from click.core import ParameterSource

from archiver.cadence import parse_duration
from archiver.cli.app import WAIT, cli, clip, locked, log, user_errors
from archiver.config import Settings
from archiver.errors import ConfigError
from archiver.models import ArchiveSummary, CheckSummary, HealthStatus, Outcome, PassSummary
from archiver.pipeline import run_archiving, run_check
from archiver.sources import read_sources, select
from archiver.urls import canonical

ARTICLE = click.option("--article", default=None, metavar="ID", help="Only this article's citations (default: all).")


@cli.command()
@click.option(
    "--only", "only", multiple=True, metavar="ID", help="Check only these citations (ID, or ARTICLE:ID; repeatable)."
)
@ARTICLE
@click.option("--no-wayback", is_flag=True, help="Do not submit or look up Wayback Machine captures.")
@WAIT
@click.pass_context
def check(ctx: click.Context, only: tuple[str, ...], article: str | None, no_wayback: bool, wait: bool) -> None:
    """Fetch the page of every citation once (a page cited by several articles too), extract its text
    and keep a version when it changed; then capture new versions in the Wayback Machine.

    Example: archiver check --article river-heat --no-wayback"""
    settings: Settings = ctx.obj
    quiet = ctx.meta["quiet"]
    if no_wayback:
        settings = settings.with_(wayback=False)
    with user_errors():
        total = _pages(settings, only, article)  # a bad list is named before anything is created
    with user_errors(), locked(settings, "archiver check", wait), _progress(total, quiet) as tick:
        summary = run_check(settings, only, on_check=tick, article=article)
    if not quiet:
        _print_tally(summary)
        if summary.archive is not None:
            _print_archive(summary.archive)
    _print_changes(summary, quiet)


def _pages(settings: Settings, only: tuple[str, ...], article: str | None) -> int:
    """How many pages `check` fetches: one per page, whatever the citations of it. Only the count is
    kept: `run_check` reads the list again (0.1 s for 10,000 citations), and lets go of the parsed
    rows once it knows the pages (4 MiB at 10,000) instead of holding them through the pass."""
    return len({canonical(c.url) for c in select(read_sources(settings.sources), only, article)})


@cli.command()
@click.option(
    "--every",
    default="1d",
    show_default=True,
    metavar="DURATION",
    help="How often each citation is checked (30m, 6h, 1d); an `interval` column in sources.csv wins.",
)
@click.option("--cron", default=None, metavar="EXPR", help='Run passes at crontab times instead, e.g. "0 */6 * * *".')
@click.option(
    "--jitter",
    default="10m",
    show_default=True,
    metavar="DURATION",
    help="Spread citations over this window so one host is never hit by all at once.",
)
@click.option(
    "--retry",
    "retry",
    default="30m",
    show_default=True,
    metavar="DURATION",
    help="First re-check of a failing citation; doubles after each failure.",
)
@click.option("--tick", default=60.0, show_default=True, type=float, help="Seconds between looks for due citations.")
@click.option("--no-wayback", is_flag=True, help="Do not submit or look up Wayback Machine captures.")
@WAIT
@click.pass_context
def daemon(
    ctx: click.Context, every: str, cron: str | None, jitter: str, retry: str, tick: float, no_wayback: bool, wait: bool
) -> None:
    """Run in the foreground, checking each citation when it is due, until SIGTERM or Ctrl-C.

    Example: archiver --log-format json daemon --every 6h --jitter 10m"""
    from archiver.schedule import cron_trigger, run_daemon  # APScheduler: the daemon's only

    settings: Settings = ctx.obj
    if no_wayback:
        settings = settings.with_(wayback=False)
    with user_errors():
        try:
            every_, jitter_, retry_ = parse_duration(every), _duration(jitter), parse_duration(retry)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        given = {n for n in ("every", "jitter") if ctx.get_parameter_source(n) != ParameterSource.DEFAULT}
        _check_schedule(cron, every, jitter, every_, jitter_, given)
        if "jitter" not in given:
            jitter_ = min(jitter_, every_)  # the default window never stretches a short --every
        if not (math.isfinite(tick) and 0 < tick <= MAX_TICK):
            raise ConfigError(f"--tick {tick!r}: must be a number of seconds above 0 up to {MAX_TICK}")
        read_sources(settings.sources)  # a bad list is named now, not at the first tick
        if cron:
            cron_trigger(cron, jitter_)  # so is a bad crontab expression
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        with locked(settings, "archiver daemon", wait):
            run_daemon(
                settings,
                stop,
                every=every_,
                cron=cron,
                jitter=jitter_,
                tick=tick,
                retry_base=retry_,
                on_check=_log_check,
                on_pass=_log_pass,
            )


MAX_TICK = 86_400


def _check_schedule(
    cron: str | None, every: str, jitter: str, every_: timedelta, jitter_: timedelta, given: set[str]
) -> None:
    """Refuse what would be silently ignored or stretched: `--every` beside `--cron` (the crontab
    decides when passes run), and a `--jitter` longer than `--every`."""
    if cron and "every" in given:
        raise ConfigError(f"--every {every} and --cron {cron!r} both given: --cron decides when passes run; give one")
    if not cron and "jitter" in given and jitter_ > every_:
        raise ConfigError(
            f"--jitter {jitter} is longer than --every {every}: checks would come further apart than --every; "
            "give a jitter window at most as long as the interval"
        )


def _duration(text: str) -> timedelta:
    return timedelta(0) if text.strip() in ("0", "0s", "") else parse_duration(text)


def _log_check(summary: CheckSummary) -> None:
    healthy = summary.outcome in (Outcome.OK, Outcome.NOT_MODIFIED) and summary.verdict.startswith(("ok", "paywalled"))
    log.log(
        logging.INFO if healthy else logging.WARNING,
        "check [%s] %s %s %s%s %s",
        summary.citation.id,
        summary.outcome,
        summary.http_status or "-",
        summary.verdict or "-",
        " new version" if summary.new_version else "",
        summary.final_url or summary.citation.url,
    )


def _log_pass(summary: PassSummary) -> None:
    """The daemon's one summary line per pass, then its changes of status."""
    log.info("%s", pass_line(summary))
    _print_changes(summary, True)


def pass_line(summary: PassSummary) -> str:
    """A pass in one line: "pass 4: 12 checked (1 failing, 11 ok); 2 new version(s)"."""
    counts: dict[str, int] = {}
    for c in summary.checks:
        status = (c.verdict or str(c.outcome)).split(":")[0]
        counts[status] = counts.get(status, 0) + 1
    tally = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    changes = f"; {len(summary.changes)} change(s) of status" if summary.changes else ""
    stopped = "; stopped" if summary.interrupted else ""
    offline = "; offline" if summary.offline else ""
    return (
        f"pass {summary.pass_id}: {len(summary.checks)} checked ({tally}); "
        f"{summary.new_versions} new version(s){changes}{offline}{stopped}"
    )


def _print_changes(summary: PassSummary, problems_only: bool) -> None:
    """Status changes, the alerts of a pass (`PassSummary.changes` holds only those worth telling)."""
    for change in summary.changes:
        if problems_only and change.new == HealthStatus.OK:
            log.info("status [%s] %s -> %s: %s", change.citation_id, change.old, change.new, change.evidence)
            continue
        click.echo(f"status [{change.citation_id}] {change.old} -> {change.new}: {change.evidence}")


@cli.command()
@click.option(
    "--only", "only", multiple=True, metavar="ID", help="Only these citations (ID, or ARTICLE:ID; repeatable)."
)
@ARTICLE
@WAIT
@click.pass_obj
def archive(settings: Settings, only: tuple[str, ...], article: str | None, wait: bool) -> None:
    """Look up captures (the Wayback Machine and every Memento archive), submit what needs one, and
    verify each capture against our own version before it is offered.

    Example: archiver archive --only 3"""
    with user_errors(), locked(settings, "archiver archive", wait):
        summary = run_archiving(settings, only, article=article)
    _print_archive(summary)


def _print_archive(summary: ArchiveSummary) -> None:
    for event in summary.events:
        click.echo(event)
    quota = f"; quota: {summary.quota} capture(s) available" if summary.quota is not None else ""
    stopped = "; stopped at its time budget" if summary.budget_spent else ""
    down = f"; unreachable: {', '.join(u.split(' ', 1)[0] for u in summary.unreachable)}" if summary.unreachable else ""
    click.echo(
        f"wayback: {summary.found} capture(s) found, {summary.queued} queued, {summary.done} captured, "
        f"{summary.retried} to retry, {summary.failed} failed, {summary.pending} pending; "
        f"{summary.verified} verified, {summary.rejected} not offered{quota}{stopped}{down}"
    )


@contextmanager
def _progress(total: int, quiet: bool) -> Iterator[Callable[[CheckSummary], None]]:
    """The table of checks, a row as each check completes (on stdout), and a progress bar showing
    `n/N` on a terminal (stderr); nothing when quiet."""
    if quiet:
        yield lambda _summary: None
        return
    _echo_row(HEADER)
    _echo_row(tuple("-" * w for w in WIDTHS))
    if not sys.stderr.isatty():
        yield lambda summary: _echo_row(_row(summary))
        return
    with click.progressbar(length=total, label="checking", file=sys.stderr, show_pos=True) as bar:

        def tick(summary: CheckSummary) -> None:
            click.echo("\r\033[K", nl=False, err=True)  # the row goes where the bar was drawn
            _echo_row(_row(summary))
            bar.update(1)

        yield tick


HEADER = ("id", "outcome", "http", "verdict", "new", "title / error", "url")
WIDTHS = (6, 14, 4, 26, 3, 48, 60)


def _row(c: CheckSummary) -> tuple[str, ...]:
    return (
        c.citation.id,
        str(c.outcome),
        str(c.http_status or "-"),
        c.verdict or "-",
        "yes" if c.new_version else "",
        clip(c.error or c.title, 48),
        clip(c.final_url or c.citation.url, 60),
    )


def _echo_row(row: tuple[str, ...]) -> None:
    click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, WIDTHS, strict=True)).rstrip())


def _print_tally(summary: PassSummary) -> None:
    click.echo(f"\n{pass_line(summary)}")
    if summary.offline:
        click.secho(
            "offline: every citation failed before any HTTP exchange (DNS or connection). "
            "This pass is recorded as offline and counts against no citation.",
            fg="yellow",
            err=True,
        )
