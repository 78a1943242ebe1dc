"""`archiver import` (a publication's articles read into the citation list) and `archiver annotate`
(an article written back with its archived copies)."""

from __future__ import annotations

from pathlib import Path

import click

from archiver.annotating import annotate_file, article_file
from archiver.cli.app import cli, output_option, user_errors, write_file
from archiver.config import Settings
from archiver.errors import ConfigError
from archiver.importing import import_articles
from archiver.store import Store


@cli.command("import")
@click.argument("inputs", nargs=-1, required=True, metavar="ARTICLE|FOLDER|URL...")
@output_option("The citation list to write or merge into (default: --sources).")
@click.pass_obj
def import_(settings: Settings, inputs: tuple[str, ...], output: Path | None) -> None:
    """Read articles (text, Markdown, HTML, BibTeX, CSL-JSON, wikitext; folders recursively; article
    URLs fetched) and write or merge their citations into sources.csv, one article per file or URL.

    Example: archiver import articles/ https://news.example/2025/story -o sources.csv"""
    target = output or settings.sources
    with user_errors():
        outcome = import_articles(inputs, target, fetch=settings.fetch_settings)
        write_file(target, outcome.merged)
    total = 0
    for read in outcome.articles:
        total += len(read.result.citations)
        for warning in read.result.warnings:
            where = f"{read.name}:{warning.line}: " if warning.line else f"{read.name}: "
            click.secho(f"warning: {where}{warning.message}", fg="yellow", err=True)
    for note in outcome.notes[1:]:
        click.echo(f"note: {note}", err=True)
    if len(outcome.articles) == 1:
        read = outcome.articles[0]
        what = f"{total} citation(s) read from {read.name} (article {read.article.id})"
    else:
        what = f"{len(outcome.articles)} articles, {total} citation(s) read"
    click.echo(f"{what}; {outcome.notes[0]}; written to {target}")


@cli.command()
@click.argument("article", metavar="ARTICLE", type=click.Path(dir_okay=False, path_type=Path))
@output_option("Where to write the annotated article (required; never the article itself).")
@click.option("--templates", is_flag=True, help="Wikitext: turn a bare link alone in its <ref> into a {{cite web}}.")
@click.pass_obj
def annotate(settings: Settings, article: Path, output: Path | None, templates: bool) -> None:
    """Write the article (a file, or the id of an article imported from one) back with each
    citation's best verified archived copy, in its own format, changing nothing else; citations
    without a verified copy are left as they are and listed.

    Example: archiver annotate articles/river-heat.md -o river-heat.archived.md"""
    with user_errors():
        if output is None:
            raise ConfigError("annotate needs -o OUT: the file to write (the article itself is never overwritten)")
        with Store.open(settings.data_dir, read_only=True) as store:
            article = article_file(store, article)
            if output.resolve() == article.resolve():
                raise ConfigError(f"-o {output} is the article itself: write the annotated copy elsewhere")
            done = annotate_file(store, article, templates=templates)
        write_file(output, done.text)
    for left in done.left:
        click.echo(f"left [{left.id}] {left.url}: {left.reason}", err=True)
    click.echo(
        f"{len(done.written)} citation(s) given an archived copy, {len(done.left)} left as they were; "
        f"written to {output} ({done.format})"
    )
