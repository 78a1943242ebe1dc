"""`archiver review`: an editor's decision on a citation, one library call (`archiver.review.decide`)."""

from __future__ import annotations

import click

from archiver.cli.app import cli, user_errors
from archiver.config import Settings
from archiver.models import Decision, utcnow
from archiver.review import decide, default_author
from archiver.store import Store

DONE = {Decision.ACCEPT: "accepted", Decision.NOT_ROT: "marked not rot", Decision.IGNORE: "ignored"}


@cli.command()
@click.argument("citation", metavar="ID")
@click.option("--accept", "decision", flag_value=Decision.ACCEPT, help="The current version becomes the baseline.")
@click.option("--not-rot", "decision", flag_value=Decision.NOT_ROT, help="The rot flagged is a false alarm.")
@click.option("--ignore", "decision", flag_value=Decision.IGNORE, help="Stop watching this citation; keep its history.")
@click.option("--undo", is_flag=True, help="Undo the newest decision in force (of the kind named, if one is).")
@click.option("--note", default="", metavar="TEXT", help="Why: shown in the report beside the decision.")
@click.option("--by", default=None, metavar="NAME", help="Who decides (default: the user name).")
@click.option("--article", default=None, metavar="ID", help="The article the citation ID belongs to.")
@click.pass_obj
def review(
    settings: Settings,
    citation: str,
    decision: Decision | None,
    undo: bool,
    note: str,
    by: str | None,
    article: str | None,
) -> None:
    """Record an editor's decision on citation ID (its id, ARTICLE:ID, or its URL), with who and why.

    \b
    --accept   the current version becomes the citation's baseline: drift and claim
               drift are judged from it on (the next change of a fact raises them again)
    --not-rot  the rot flagged is a false alarm: that kind of rot is not raised again
               while the page is unchanged (for every article citing the page)
    --ignore   stop watching the citation; its history stays (a page another article
               cites is still checked for that one)
    --undo     take back the newest decision (or the one named); it stays in the record

    Example: archiver review 3 --accept --note "a typo fixed; the figures hold" --by alice"""
    with user_errors(), Store.open(settings.data_dir) as store:
        done = decide(
            store,
            citation,
            Decision(decision) if decision else None,
            by=by if by is not None else default_author(),
            note=note,
            undo=undo,
            article=article,
            now=utcnow(),
            policy=settings.rot_policy,
        )
    r, c = done.review, done.citation
    what = f"undid {r.decision} of {r.at[:19]} by {r.by}" if done.undone else DONE[r.decision]
    target = f" version {r.version_hash[:12]}" if r.decision == Decision.ACCEPT and not done.undone else ""
    kind = f" ({r.rot_kind})" if r.rot_kind and not done.undone else ""
    status = done.health.status if done.health else "unchecked"
    click.echo(f"{c.key}: {what}{target}{kind}; status now {status}")
