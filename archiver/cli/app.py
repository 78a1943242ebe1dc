"""The `archiver` group: its global options, logging, and the one place where our errors become a
clear message and an exit status (never a traceback). Helpers every command shares live here."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import import_module
from pathlib import Path
from typing import Any

import click

from archiver import __version__
from archiver.config import Settings
from archiver.errors import ArchiverError, ConfigError
from archiver.store import DataDirLock

log = logging.getLogger("archiver")


@contextmanager
def user_errors() -> Iterator[None]:
    """Our own errors become one clear message and a distinct exit status, never a traceback."""
    try:
        yield
    except ArchiverError as exc:
        click.secho(f"archiver: {type(exc).__name__}: {exc}", fg="red", err=True)
        sys.exit(exc.exit_code)


# Each command's module in this package, imported when the command runs or a listing names it:
# `archiver check` loads what checking needs, not the article formats, the web app and the scheduler
# (6 MiB of the main process of a pass, and a fifth of a second at start).
COMMAND_MODULES = {
    "annotate": "article",
    "archive": "watch",
    "check": "watch",
    "daemon": "watch",
    "export": "read",
    "hash-password": "read",
    "import": "article",
    "lookup": "read",
    "migrate-store": "scale",
    "report": "read",
    "review": "review",
    "serve": "read",
    "status": "scale",
    "verify": "read",
    "worker": "scale",
}


class ArchiverGroup(click.Group):
    """The `archiver` group: its commands are loaded on first use (`COMMAND_MODULES`), its global
    options are accepted after the command too (`check --quiet`), and the command list gives each
    command's first sentence whole, never cut with "…"."""

    GLOBAL_FLAGS = frozenset({"-q", "--quiet"})
    GLOBAL_VALUES = frozenset({"--data-dir", "--sources", "--log-format"})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMAND_MODULES))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            import_module(f"archiver.cli.{COMMAND_MODULES[cmd_name]}")  # its decorators register it
        return super().get_command(ctx, cmd_name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        commands = set(self.list_commands(ctx))
        return super().parse_args(ctx, hoist_globals(args, self.GLOBAL_FLAGS, self.GLOBAL_VALUES, commands))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [
            (name, cmd.get_short_help_str(limit=1000))
            for name in self.list_commands(ctx)
            if (cmd := self.get_command(ctx, name)) is not None and not cmd.hidden
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def hoist_globals(args: list[str], flags: frozenset[str], values: frozenset[str], commands: set[str]) -> list[str]:
    """The command line with the global options found after the command moved before it (up to a
    `--`, which ends the options)."""
    head: list[str] = []
    i = 0
    while i < len(args) and args[i] not in commands:
        head.append(args[i])
        if args[i] in values and i + 1 < len(args):  # a value, not a command, however it is spelt
            head.append(args[i + 1])
            i += 1
        i += 1
    if i == len(args):
        return args
    moved: list[str] = []
    rest: list[str] = []
    tail = args[i + 1 :]
    j = 0
    while j < len(tail):
        arg = tail[j]
        name = arg.split("=", 1)[0]
        if arg == "--":
            rest += tail[j:]
            break
        if arg in flags or name in values and "=" in arg:
            moved.append(arg)
        elif arg in values and j + 1 < len(tail):
            moved += [arg, tail[j + 1]]
            j += 1
        else:
            rest.append(arg)
        j += 1
    return [*head, *moved, args[i], *rest]


@click.group(cls=ArchiverGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
    with user_errors():
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


def output_option(help: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """`-o/--output FILE`, for the commands that write a file."""
    return click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help=help)


WAIT = click.option(
    "--wait", is_flag=True, help="If another process holds the data directory, wait for it instead of exiting (75)."
)


@contextmanager
def locked(settings: Settings, what: str, wait: bool) -> Iterator[None]:
    with DataDirLock(settings.data_dir, what).acquire(wait):
        yield


def write_file(path: Path, text: str) -> None:
    """Write through a temporary file, so a failure never leaves half a file behind."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8", newline="")  # the text's own line endings, on every OS
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None


def clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def main(argv: list[str] | None = None) -> Any:
    return cli.main(args=argv, prog_name="archiver")
