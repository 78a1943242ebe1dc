"""The command line: a thin layer over the library. The only module that prints or exits."""

from __future__ import annotations

import json
import logging
import math
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from archiver import __version__
from archiver import lookup as lookups
from archiver.archive.selection import closest
from archiver.archive.unwatched import archived_copies
from archiver.cadence import parse_duration
from archiver.config import Settings
from archiver.errors import ArchiverError, ArchiveServiceError, ConfigError, StoreError
from archiver.importing import import_article
from archiver.models import ArchiveSummary, CheckSummary, HealthStatus, Outcome, PassSummary, utcnow
from archiver.models.time import timestamp_day
from archiver.notify import worth_telling
from archiver.pipeline import run_archiving, run_check
from archiver.report import Report, build_report, render_html, render_markdown, render_robustlinks
from archiver.schedule import cron_trigger, run_daemon
from archiver.serve import IDLE_TIMEOUT, MAX_CONNECTIONS, make_server
from archiver.sources import read_sources, select
from archiver.store import DataDirLock, Store
from archiver.urls import is_http_url


@contextmanager
def _user_errors() -> Iterator[None]:
    """Our own errors become one clear message and a distinct exit status, never a traceback."""
    try:
        yield
    except ArchiverError as exc:
        click.secho(f"archiver: {type(exc).__name__}: {exc}", fg="red", err=True)
        sys.exit(exc.exit_code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="archiver")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the store lives (default snapshots/, or $ARCHIVER_DATA_DIR).",
)
@click.option(
    "--sources",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The citation list (default sources.csv, or $ARCHIVER_SOURCES).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines on stderr: text, or one JSON object per line for log collectors.",
)
@click.option("-q", "--quiet", is_flag=True, help="Only problems (for cron): no table, no progress.")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None, sources: Path | None, log_format: str, quiet: bool) -> None:
    """Keep the web pages an article cites checked, versioned and archived."""
    setup_logging(log_format, logging.WARNING if quiet else logging.INFO)
    ctx.meta["quiet"] = quiet
    with _user_errors():
        ctx.obj = Settings.load(data_dir=data_dir, sources=sources)


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": record.getMessage(),
            },
            ensure_ascii=False,
        )


def setup_logging(fmt: str, level: int) -> None:
    """Logs go to stderr, one line per event, with time and level."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        _JsonFormatter() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger("archiver")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # not "skipped: a pass is still running"
    logging.getLogger("apscheduler").handlers[:] = [handler]


WAIT = click.option(
    "--wait", is_flag=True, help="If another process holds the data directory, wait for it instead of exiting (75)."
)


@cli.command()
@click.option("--only", "only", multiple=True, metavar="ID", help="Check only these citation ids (repeatable).")
@click.option("--no-wayback", is_flag=True, help="Do not submit or look up Wayback Machine captures.")
@WAIT
@click.pass_context
def check(ctx: click.Context, only: tuple[str, ...], no_wayback: bool, wait: bool) -> None:
    """Fetch every citation once, extract its text and keep a version when it changed;
    then capture new versions in the Wayback Machine."""
    settings: Settings = ctx.obj
    quiet = ctx.meta["quiet"]
    if no_wayback:
        settings = settings.with_(wayback=False)
    with _user_errors():
        select(read_sources(settings.sources), only)  # a bad list is named before anything is created
    with _user_errors(), _locked(settings, "archiver check", wait), _progress(settings, quiet) as tick:
        summary = run_check(settings, only, on_check=tick)
    if not quiet:
        _print_summary(summary)
        if summary.archive is not None:
            _print_archive(summary.archive)
    _print_changes(summary, quiet)


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
    """Run in the foreground, checking each citation when it is due, until SIGTERM or Ctrl-C."""
    settings: Settings = ctx.obj
    if no_wayback:
        settings = settings.with_(wayback=False)
    with _user_errors():
        try:
            every_, jitter_, retry_ = parse_duration(every), _duration(jitter), parse_duration(retry)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if not (math.isfinite(tick) and 0 < tick <= MAX_TICK):
            raise ConfigError(f"--tick {tick!r}: must be a number of seconds above 0 up to {MAX_TICK}")
        read_sources(settings.sources)  # a bad list is named now, not at the first tick
        if cron:
            cron_trigger(cron, jitter_)  # so is a bad crontab expression
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        with _locked(settings, "archiver daemon", wait):
            run_daemon(
                settings,
                stop,
                every=every_,
                cron=cron,
                jitter=jitter_,
                tick=tick,
                retry_base=retry_,
                on_check=_log_check,
                on_pass=lambda s: _print_changes(s, True),
            )


MAX_TICK = 86_400


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


def _print_changes(summary: PassSummary, problems_only: bool) -> None:
    """Status changes, the alerts of a pass: never for an unchanged status."""
    for change in summary.changes:
        if not worth_telling(change):
            continue
        if problems_only and change.new == HealthStatus.OK:
            log.info("status [%s] %s -> %s: %s", change.citation_id, change.old, change.new, change.evidence)
            continue
        click.echo(f"status [{change.citation_id}] {change.old} -> {change.new}: {change.evidence}")


@contextmanager
def _locked(settings: Settings, what: str, wait: bool) -> Iterator[None]:
    with DataDirLock(settings.data_dir, what).acquire(wait):
        yield


@cli.command()
@click.option("--only", "only", multiple=True, metavar="ID", help="Only these citation ids (repeatable).")
@WAIT
@click.pass_obj
def archive(settings: Settings, only: tuple[str, ...], wait: bool) -> None:
    """Look up captures (the Wayback Machine and every Memento archive), submit what needs one, and
    verify each capture against our own version before it is offered.

    Example: archiver archive --only 3"""
    with _user_errors(), _locked(settings, "archiver archive", wait):
        summary = run_archiving(settings, only)
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


@cli.command("import")
@click.argument("article", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The citation list to write or merge into (default: --sources).",
)
@click.pass_obj
def import_(settings: Settings, article: Path, output: Path | None) -> None:
    """Read an article (text, Markdown or HTML) and write or merge its citations into sources.csv."""
    target = output or settings.sources
    with _user_errors():
        result, merged, notes = import_article(article, target)
        _write(target, merged)
    for warning in result.warnings:
        where = f"{article}:{warning.line}: " if warning.line else f"{article}: "
        click.secho(f"warning: {where}{warning.message}", fg="yellow", err=True)
    for note in notes[1:]:
        click.echo(f"note: {note}", err=True)
    click.echo(f"{len(result.citations)} citation(s) read from {article}; {notes[0]}; written to {target}")


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "html", "json", "robustlinks"]),
    default=None,
    help="md (the default on a terminal), html, json (the default otherwise), or robustlinks.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of standard output.",
)
@click.pass_obj
def report(settings: Settings, fmt: str | None, output: Path | None) -> None:
    """Print the citation health report."""
    fmt = fmt or ("md" if sys.stdout.isatty() and output is None else "json")
    with _user_errors(), Store.open(settings.data_dir, read_only=True) as store:
        data = build_report(store, utcnow())
    renderers: dict[str, Callable[[Report], str]] = {
        "md": render_markdown,
        "html": render_html,
        "robustlinks": render_robustlinks,
        "json": lambda r: json.dumps(r.to_json(), indent=2, ensure_ascii=False) + "\n",
    }
    text = renderers[fmt](data)
    if output:
        with _user_errors():
            _write(output, text)
        click.echo(f"report written to {output}", err=True)
    else:
        click.echo(text, nl=False)


@cli.command()
@click.argument("key", metavar="ID|URL")
@click.option(
    "--at", "at", default=None, metavar="DATE", help="The version in force at this date, and the closest capture."
)
@click.option("--text", "show_text", is_flag=True, help="Print the extracted text of the version.")
@click.option(
    "--diff", "show_diff", is_flag=True, help="Show what changed between two versions (default: the two newest)."
)
@click.argument("versions", nargs=-1, metavar="[V1 V2]")
@click.option("--open", "show_path", is_flag=True, help="Print the path of the stored raw page.")
@click.option(
    "--raw", "show_raw", is_flag=True, help="Replay the exact stored response (headers and body) from its WARC record."
)
@click.pass_obj
def lookup(
    settings: Settings,
    key: str,
    at: str | None,
    show_text: bool,
    show_diff: bool,
    versions: tuple[str, ...],
    show_path: bool,
    show_raw: bool,
) -> None:
    """Every stored version and known archived copy of a citation, newest first."""
    with _user_errors():
        when = lookups.parse_at(at) if at else None
        found = None
        if settings.database_path.exists():
            with Store.open(settings.data_dir, read_only=True) as store:
                found = lookups.find(store, key)
                if found is not None:
                    if show_raw:
                        _replay(store, found, when)
                    else:
                        _show_lookup(store, found, when, show_text, show_diff, versions, show_path)
                    return
        if not is_http_url(key):
            raise ConfigError(f"{key!r} is neither a citation id in {settings.data_dir} nor an http(s) URL")
        captures = archived_copies(settings.archive_settings, key)
        if captures is None:
            raise ArchiveServiceError(f"no web archive could be asked (the Wayback Machine at {settings.wayback_url})")
    where = "the web archives know" if settings.memento_endpoints else "the Wayback Machine knows"
    click.echo(f"{key} is not a citation we watch; {where} {len(captures)} capture(s):")
    for capture in closest(captures, when) if when else sorted(captures, key=lambda c: c.timestamp, reverse=True):
        click.echo(f"  {capture.when:%Y-%m-%d %H:%M}  {capture.archive:<14} {capture.url}")


def _replay(store: Store, found: lookups.Found, when: datetime | None) -> None:
    version = found.version_at(when)
    raw = store.raw_response(version) if version else None
    if raw is None:
        raise ConfigError(
            f"citation {found.citation.id} has no version with a WARC record" + (f" at {when:%Y-%m-%d}" if when else "")
        )
    sys.stdout.buffer.write(raw)
    sys.stdout.buffer.flush()


def _show_lookup(
    store: Store,
    found: lookups.Found,
    when: datetime | None,
    show_text: bool,
    show_diff: bool,
    refs: tuple[str, ...],
    show_path: bool,
) -> None:
    cid = found.citation.id
    chosen = found.version_at(when)
    if show_diff:
        if refs and len(refs) != 2:
            raise ConfigError("--diff takes two versions (numbers or hash prefixes), or none for the two newest")
        if len(found.versions) < 2 and not refs:
            raise ConfigError(f"citation {cid} has {len(found.versions)} version(s): nothing to compare")
        older, newer = (
            (found.pick_version(refs[0]), found.pick_version(refs[1]))
            if refs
            else (found.versions[1], found.versions[0])
        )
        click.echo(lookups.diff(store, older, newer) or "(no difference in the text)")
        return
    if show_text or show_path:
        if chosen is None:
            raise ConfigError(f"citation {cid} has no stored version" + (f" at {when:%Y-%m-%d}" if when else ""))
        click.echo(store.read_text(chosen) if show_text else str(store.data_dir / chosen.raw_path))
        return
    click.echo(f"[{cid}] {found.citation.url}")
    click.echo(f"versions ({len(found.versions)}), newest first:")
    for n, v in enumerate(found.versions, 1):
        mark = "  <- in force at that date" if when and chosen is not None and v.hash == chosen.hash else ""
        drift = v.drift if n < len(found.versions) else None
        change = f"  [{drift.previous_class.replace('_', ' ')} vs {n + 1}]" if drift else ""
        click.echo(
            f"  {n}. {v.first_seen[:16]}  {v.hash[:12]}  {v.raw_bytes:>8} bytes  {v.words:>6} words  "
            f"{_clip(v.title, 60)}{change}{mark}"
        )
    click.echo(f"archived copies ({len(found.captures)}), newest first:")
    for c in found.captures:
        state = {True: "verified", False: "not offered: " + c.verify_note, None: "not verified yet"}[c.verified]
        click.echo(f"  {timestamp_day(c.timestamp)}  {c.archive:<14} {c.url}  ({_clip(state, 70)})")
    if when:
        best = found.capture_at(when)
        click.echo(
            f"at {when:%Y-%m-%d}: version {chosen.hash[:12] if chosen else 'none'}; "
            f"closest archived copy {best.url if best else 'none'}"
        )


@cli.command()
@click.option(
    "--warc",
    "target",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The WARC file to write (gzip-compressed, WARC 1.1).",
)
@click.option("--only", "only", multiple=True, metavar="ID", help="Only these citation ids (repeatable).")
@click.pass_obj
def export(settings: Settings, target: Path, only: tuple[str, ...]) -> None:
    """Write one self-contained WARC of the chosen citations' versions, for deposit elsewhere."""
    with _user_errors(), Store.open(settings.data_dir, read_only=True) as store:
        copied, count = store.export(target, only)
    click.echo(f"{copied} version(s) of {count} citation(s) written to {target}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option(
    "--max-connections",
    default=MAX_CONNECTIONS,
    show_default=True,
    type=int,
    help="Connections served at once; more are answered 503.",
)
@click.option(
    "--idle-timeout",
    default=IDLE_TIMEOUT,
    show_default=True,
    type=float,
    help="Seconds a connection may stay silent before it is closed.",
)
@click.pass_obj
def serve(settings: Settings, host: str, port: int, max_connections: int, idle_timeout: float) -> None:
    """Serve the report, citation pages and a Memento TimeGate/TimeMap over the store (read-only).

    Example: archiver serve --port 8080, then open http://127.0.0.1:8080/"""
    with _user_errors():
        if not 0 <= port <= 65535:
            raise ConfigError(f"--port {port}: must be a port number from 0 (any free port) to 65535")
        if not 1 <= max_connections <= 1000:
            raise ConfigError(f"--max-connections {max_connections}: must be from 1 to 1000")
        if not (math.isfinite(idle_timeout) and 0 < idle_timeout <= 3600):
            raise ConfigError(f"--idle-timeout {idle_timeout!r}: must be a number of seconds above 0 up to 3600")
        Store.open(settings.data_dir, read_only=True).close()  # a store we cannot read is refused now
        try:
            server = make_server(
                settings.data_dir, host, port, max_connections=max_connections, idle_timeout=idle_timeout
            )
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    url = f"http://{host}:{server.server_address[1]}/"
    click.echo(f"serving {settings.data_dir} at {url} (Ctrl-C to stop)", err=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@cli.command()
@click.pass_obj
def verify(settings: Settings) -> None:
    """Check the store's integrity: the database, every referenced file, their hashes."""
    with _user_errors():
        if not settings.database_path.exists():
            raise StoreError(f"no store in {settings.data_dir}: nothing to verify")
        with Store.open(settings.data_dir, read_only=True) as store:
            result = store.verify()
    for note in result.notes:
        click.echo(f"note: {note}")
    for problem in result.problems:
        click.secho(f"problem: {problem}", fg="red")
    click.echo(
        f"{settings.data_dir}: {result.checks} checks, {result.versions} versions; "
        + ("store is consistent" if result.ok else f"{len(result.problems)} problem(s)")
    )
    if not result.ok:
        sys.exit(6)


def _write(path: Path, text: str) -> None:
    """Write through a temporary file, so a failure never leaves half a file behind."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None


@contextmanager
def _progress(settings: Settings, quiet: bool) -> Iterator[Callable[[CheckSummary], None]]:
    """A progress bar on a terminal; nothing when output is piped, logged or quiet."""
    if quiet or not sys.stderr.isatty():
        yield lambda _summary: None
        return
    try:
        total = len(read_sources(settings.sources))
    except ArchiverError:
        total = 0
    with click.progressbar(length=total, label="checking", file=sys.stderr) as bar:
        yield lambda _summary: bar.update(1)


def _print_summary(summary: PassSummary) -> None:
    rows = [("id", "outcome", "http", "verdict", "new", "title / error", "url")]
    for c in summary.checks:
        detail = c.error or c.title
        rows.append(
            (
                c.citation.id,
                str(c.outcome),
                str(c.http_status or "-"),
                c.verdict or "-",
                "yes" if c.new_version else "",
                _clip(detail, 48),
                _clip(c.final_url or c.citation.url, 60),
            )
        )
    _table(rows)
    counts: dict[str, int] = {}
    for c in summary.checks:
        status = (c.verdict or str(c.outcome)).split(":")[0]
        counts[status] = counts.get(status, 0) + 1
    tally = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    click.echo(
        f"\npass {summary.pass_id}: {len(summary.checks)} checked ({tally}); {summary.new_versions} new version(s)"
    )
    if summary.offline:
        click.secho(
            "offline: every citation failed before any HTTP exchange (DNS or connection). "
            "This pass is recorded as offline and counts against no citation.",
            fg="yellow",
            err=True,
        )


def _table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            click.echo("  ".join("-" * w for w in widths))


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


log = logging.getLogger("archiver")


def main(argv: list[str] | None = None) -> Any:
    return cli.main(args=argv, prog_name="archiver")
