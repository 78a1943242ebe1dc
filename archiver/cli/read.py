"""The commands that only read the store (opened read-only: no lock, no migration): `report`,
`lookup`, `export`, `verify` and `serve`."""

from __future__ import annotations

import json
import math
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import click

from archiver import lookup as lookups
from archiver.archive.selection import closest
from archiver.archive.unwatched import archived_copies
from archiver.cli.app import cli, clip, output_option, user_errors, write_file
from archiver.config import Settings
from archiver.errors import ArchiveServiceError, ConfigError, StoreError
from archiver.models import utcnow
from archiver.models.time import timestamp_day
from archiver.report import Report, build_report, render_html, render_markdown, render_robustlinks
from archiver.serve import IDLE_TIMEOUT, MAX_CONNECTIONS, Editing, make_server
from archiver.serve.auth import check_hash, hash_password
from archiver.store import Store
from archiver.urls import is_http_url


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "html", "json", "robustlinks"]),
    default=None,
    help="md (the default on a terminal), html, json (the default otherwise), or robustlinks.",
)
@output_option("Write to this file instead of standard output.")
@click.option("--article", default=None, metavar="ID", help="Only this article's report, for its editor.")
@click.pass_obj
def report(settings: Settings, fmt: str | None, output: Path | None, article: str | None) -> None:
    """Print the citation health report: for a publication, its summary (articles ranked by the share
    of their citations that no longer hold) first, then each article's; or one article's.

    Example: archiver report --article river-heat --format robustlinks"""
    fmt = fmt or ("md" if sys.stdout.isatty() and output is None else "json")
    with user_errors(), Store.open(settings.data_dir, read_only=True, database_url=settings.database_url) as store:
        data = build_report(store, utcnow(), article)
    renderers: dict[str, Callable[[Report], str]] = {
        "md": render_markdown,
        "html": render_html,
        "robustlinks": render_robustlinks,
        "json": lambda r: json.dumps(r.to_json(), indent=2, ensure_ascii=False) + "\n",
    }
    text = renderers[fmt](data)
    if output:
        with user_errors():
            write_file(output, text)
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
@click.option(
    "--open",
    "show_path",
    is_flag=True,
    help="Print where the stored raw page is: its file, or its WARC file and offset.",
)
@click.option(
    "--raw", "show_raw", is_flag=True, help="Replay the exact stored response (headers and body) from its WARC record."
)
@click.option("--article", default=None, metavar="ARTICLE", help="ID is a citation of this article.")
@click.option("--screenshot", "show_shot", is_flag=True, help="Print the path of the version's screenshot (a PNG).")
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
    article: str | None,
    show_shot: bool,
) -> None:
    """Every stored version and known archived copy of a citation (ID, ARTICLE:ID, or its URL), newest first.

    \b
    --at DATE      the version in force then (a bare date: the end of that day)
    --diff         what changed between the two newest versions;
    --diff V1 V2   between these two: each a number in the list (1 = newest)
                   or a prefix of its hash
    --raw          the exact stored response, headers and body, from its WARC record

    Example: archiver lookup 3 --article river-heat --at 2025-04-28 --text"""
    with user_errors():
        when = lookups.parse_at(at) if at else None
        found = None
        if settings.database_url or settings.database_path.exists():
            with Store.open(settings.data_dir, read_only=True, database_url=settings.database_url) as store:
                found = lookups.find(store, key, article)
                if found is not None:
                    if show_raw:
                        _replay(store, found, when)
                    else:
                        _show_lookup(store, found, when, show_text, show_diff, versions, show_path, show_shot)
                    return
        if not is_http_url(key):
            where = f" of article {article!r}" if article else ""
            raise ConfigError(f"{key!r} is neither a citation id{where} in {settings.data_dir} nor an http(s) URL")
        captures = archived_copies(settings.archive_settings, key)
        if captures is None:
            raise ArchiveServiceError(f"no web archive could be asked (the Wayback Machine at {settings.wayback_url})")
    where = "the web archives know" if settings.memento_endpoints else "the Wayback Machine knows"
    click.echo(f"{key} is not a citation we watch; {where} {len(captures)} capture(s):")
    for capture in closest(captures, when) if when else sorted(captures, key=lambda c: c.timestamp, reverse=True):
        click.echo(f"  {capture.when:%Y-%m-%d %H:%M:%S}  {capture.archive:<14} {capture.url}")


def _replay(store: Store, found: lookups.Found, when: datetime | None) -> None:
    version = found.version_at(when)
    try:
        raw = store.raw_response(version) if version else None
    except (OSError, ValueError) as exc:  # a missing or damaged WARC file (`archiver verify` checks them all)
        raise StoreError(str(exc)) from None
    if raw is None:
        raise ConfigError(
            f"citation {found.citation.key} has no version with a WARC record"
            + (f" at {when:%Y-%m-%d}" if when else "")
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
    show_shot: bool = False,
) -> None:
    cid = found.citation.key
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
        names = (lookups.version_name(found, older), lookups.version_name(found, newer))
        click.echo(lookups.diff(store, older, newer, names) or "(no difference in the text)")
        return
    if show_text or show_path or show_shot:
        if chosen is None:
            raise ConfigError(f"citation {cid} has no stored version" + (f" at {when:%Y-%m-%d}" if when else ""))
        if show_shot and not chosen.screenshot_path:
            raise ConfigError(f"version {chosen.hash[:12]} of citation {cid} has no screenshot")
        if show_shot:
            click.echo(str(store.data_dir / chosen.screenshot_path))
        else:
            click.echo(store.read_text(chosen) if show_text else store.raw_location(chosen))
        return
    click.echo(f"[{found.citation.key}] {found.citation.url}")
    also = [c.key for c in found.cited_by if c.key != found.citation.key]
    if also:
        click.echo(f"the same page is cited by: {', '.join(also)}")
    click.echo(f"versions ({len(found.versions)}), newest first:")
    for n, v in enumerate(found.versions, 1):
        mark = "  <- in force at that date" if when and chosen is not None and v.hash == chosen.hash else ""
        drift = v.drift if n < len(found.versions) else None
        change = f"  [{drift.previous_class.replace('_', ' ')} vs {n + 1}]" if drift else ""
        looks = f"  ({v.fetched_by}{', screenshot' if v.screenshot_path else ''})"
        click.echo(
            f"  {n}. {v.first_seen[:19]}  {v.hash[:12]}  {v.raw_bytes:>8} bytes  {v.words:>6} words  "
            f"{clip(v.title, 60)}{looks}{change}{mark}"
        )
    _show_browser(found)
    click.echo(f"archived copies ({len(found.captures)}), newest first:")
    for c in found.captures:
        state = {True: "verified", False: "not offered: " + c.verify_note, None: "not verified yet"}[c.verified]
        click.echo(f"  {timestamp_day(c.timestamp)}  {c.archive:<14} {c.url}  ({clip(state, 70)})")
    if when:
        best = found.capture_at(when)
        click.echo(
            f"at {when:%Y-%m-%d}: version {chosen.hash[:12] if chosen else 'none'}; "
            f"closest archived copy {best.url if best else 'none'}"
        )


def _show_browser(found: lookups.Found) -> None:
    """What the browser did in the latest check it took part in: why, and the requests it refused."""
    seen = next((c for c in reversed(found.checks) if c.browser_note), None)
    if seen is None:
        return
    click.echo(f"browser, {seen.checked_at[:16]}: {clip(seen.browser_note, 200)}")
    if seen.refused:
        click.echo(f"  {len(seen.refused)} request(s) of the page refused:")
    for r in seen.refused[:20]:
        click.echo(f"    {r.resource_type:<10} {clip(r.url, 100)}  ({clip(r.reason, 80)})")


@cli.command()
@click.option(
    "--warc",
    "target",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The WARC file to write (gzip-compressed, WARC 1.1).",
)
@click.option(
    "--only", "only", multiple=True, metavar="ID", help="Only these citations (ID, or ARTICLE:ID; repeatable)."
)
@click.pass_obj
def export(settings: Settings, target: Path, only: tuple[str, ...]) -> None:
    """Write one self-contained WARC of the chosen citations' versions, for deposit elsewhere.

    Example: archiver export --warc deposit.warc.gz --only 3"""
    with user_errors(), Store.open(settings.data_dir, read_only=True, database_url=settings.database_url) as store:
        copied, count = store.export(target, only)
    click.echo(f"{copied} version(s) of {count} citation(s) written to {target}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on (0: any free port).")
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
@click.option("--article", default=None, metavar="ID", help="Serve this article's report only (default: all).")
@click.pass_obj
def serve(
    settings: Settings, host: str, port: int, max_connections: int, idle_timeout: float, article: str | None
) -> None:
    """Serve the dashboard, citation pages, the report and a Memento TimeGate/TimeMap over the store;
    read-only unless ARCHIVER_EDITOR_PASSWORD_HASH is set (see `archiver hash-password`): then an
    editor who logs in records review decisions from a citation's page.

    Example: archiver serve --port 8080, then open http://127.0.0.1:8080/"""
    with user_errors():
        if not 0 <= port <= 65535:
            raise ConfigError(f"--port {port}: must be a port number from 0 (any free port) to 65535")
        if not 1 <= max_connections <= 1000:
            raise ConfigError(f"--max-connections {max_connections}: must be from 1 to 1000")
        if not (math.isfinite(idle_timeout) and 0 < idle_timeout <= 3600):
            raise ConfigError(f"--idle-timeout {idle_timeout!r}: must be a number of seconds above 0 up to 3600")
        if settings.editor_password_hash and (problem := check_hash(settings.editor_password_hash)):
            raise ConfigError(f"ARCHIVER_EDITOR_PASSWORD_HASH {problem}")
        # a store we cannot read is refused now
        with Store.open(settings.data_dir, read_only=True, database_url=settings.database_url) as store:
            if article is not None:
                build_report(store, utcnow(), article)  # so is an article it does not know
        try:
            server = make_server(
                settings.data_dir,
                host,
                port,
                max_connections=max_connections,
                idle_timeout=idle_timeout,
                article=article,
                editing=Editing(settings, settings.editor_password_hash, settings.trust_proxy),
                database_url=settings.database_url,
            )
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    url = f"http://{host}:{server.server_address[1]}/"
    mode = "editors may log in to review" if settings.editor_password_hash else "read-only"
    click.echo(f"serving {settings.data_dir} at {url} (Ctrl-C to stop; {mode})", err=True)
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
    """Check the store's integrity: the database, every referenced file, their hashes.

    Example: archiver verify"""
    with user_errors():
        if not (settings.database_url or settings.database_path.exists()):
            raise StoreError(f"no store in {settings.data_dir}: nothing to verify")
        with Store.open(settings.data_dir, read_only=True, database_url=settings.database_url) as store:
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


@cli.command("hash-password")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
def hash_password_(password_stdin: bool) -> None:
    """Print the hash of an editor password, for ARCHIVER_EDITOR_PASSWORD_HASH (only the hash is kept).

    Example: export ARCHIVER_EDITOR_PASSWORD_HASH=$(archiver hash-password)"""
    with user_errors():
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = click.prompt("Editor password", hide_input=True, confirmation_prompt=True, err=True)
        try:
            click.echo(hash_password(password))
        except ValueError as exc:
            raise ConfigError(f"the password must be {exc}") from None
