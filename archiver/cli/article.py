"""`archiver import`: an article's citations read and merged into the citation list."""

from __future__ import annotations

from pathlib import Path

import click

from archiver.cli.app import cli, output_option, user_errors, write_file
from archiver.config import Settings
from archiver.importing import import_article


@cli.command("import")
@click.argument("article", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@output_option("The citation list to write or merge into (default: --sources).")
@click.pass_obj
def import_(settings: Settings, article: Path, output: Path | None) -> None:
    """Read an article (text, Markdown or HTML) and write or merge its citations into sources.csv.

    Example: archiver import article.md -o sources.csv"""
    target = output or settings.sources
    with user_errors():
        result, merged, notes = import_article(article, target)
        write_file(target, merged)
    for warning in result.warnings:
        where = f"{article}:{warning.line}: " if warning.line else f"{article}: "
        click.secho(f"warning: {where}{warning.message}", fg="yellow", err=True)
    for note in notes[1:]:
        click.echo(f"note: {note}", err=True)
    click.echo(f"{len(result.citations)} citation(s) read from {article}; {notes[0]}; written to {target}")
