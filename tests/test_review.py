"""Editors' review decisions (`archiver review`): accept a version as the baseline, call rot a false
alarm, ignore a citation, undo; each kept with time, author and note, shown in the report and the
JSON contract; the next real change raises the flag again. Real store, real simulated web."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import write_sources
from simweb import LOREM, Response, article

from archiver import Store, run_check
from archiver.cli import cli

EDITED = LOREM[0].replace("about 15,000 soldiers", "thousands of soldiers")


def invoke(settings, *args):
    return CliRunner().invoke(
        cli,
        ["--data-dir", str(settings.data_dir), "--sources", str(settings.sources), *args],
        env={"ARCHIVER_WAYBACK": "0"},
    )


def report(settings) -> dict[str, dict]:
    result = invoke(settings, "report", "--format", "json")
    assert result.exit_code == 0, result.output
    return {f"{c['article']}:{c['id']}": c for c in json.loads(result.output)["citations"]}


@pytest.fixture
def history(web, settings, clock):
    """Citation 1 drifted (a fact of its claim gone), 2 dead (404), both cited by article `a`; article
    `b` cites the dead page too."""
    story = web.page("/world/story", article("Kursk deployment", *LOREM))
    gone = web.url("/world/gone")
    write_sources(
        settings.sources,
        [
            {"article": "a", "id": "1", "url": story, "claim": "Selon Séoul, 15 000 soldats ont été envoyés."},
            {"article": "a", "id": "2", "url": gone},
            {"article": "b", "id": "1", "url": gone},
        ],
    )
    run_check(settings, clock=clock)
    clock.advance(days=2)
    web.page(story, article("Kursk deployment", EDITED, *LOREM[1:]))
    run_check(settings, clock=clock)
    return web


def test_accept_makes_the_current_version_the_baseline_until_the_next_change_of_a_fact(history, settings, clock):
    before = report(settings)["a:1"]
    assert before["status"] == "drifted" and {"drift", "claim_drift"} <= set(before["flags"])

    result = invoke(settings, "review", "a:1", "--accept", "--note", "the figure was corrected", "--by", "alice")
    assert result.exit_code == 0, result.output
    assert "a:1: accepted version" in result.output and "status now ok" in result.output
    after = report(settings)["a:1"]
    assert after["status"] == "ok" and "drift" not in after["flags"] and "claim_drift" not in after["flags"]
    (decision,) = after["reviews"]
    assert decision["decision"] == "accept" and decision["by"] == "alice" and decision["holds"] is True
    assert decision["note"] == "the figure was corrected" and decision["at"].startswith("20")
    md = invoke(settings, "report", "--format", "md").output
    assert "reviewed: accepted by alice on" in md and "the figure was corrected" in md

    # an unchanged page keeps the decision; the next change of a fact raises the flag again
    run_check(settings, clock=clock)
    assert report(settings)["a:1"]["status"] == "ok"
    clock.advance(days=1)
    history.page(
        "/world/story", article("Kursk deployment", EDITED.replace("since last autumn", "in 2023"), *LOREM[1:])
    )
    run_check(settings, clock=clock)
    again = report(settings)["a:1"]
    assert again["status"] == "drifted" and "drift" in again["flags"]
    assert again["reviews"][0]["holds"] is False


def test_undo_restores_the_flag_and_keeps_the_decision_in_the_record(history, settings):
    assert invoke(settings, "review", "a:1", "--accept", "--by", "alice").exit_code == 0
    result = invoke(settings, "review", "a:1", "--undo", "--by", "bob")
    assert result.exit_code == 0, result.output
    assert "undid accept" in result.output and "status now drifted" in result.output
    assert report(settings)["a:1"]["reviews"] == []
    with Store.open(settings.data_dir) as store:
        (kept,) = store.review_history("a", "1")
    assert kept.by == "alice" and kept.undone_by == "bob" and kept.undone_at


def test_not_rot_holds_for_every_article_citing_the_page_while_it_is_unchanged(history, settings, clock):
    rows = report(settings)
    assert rows["a:2"]["status"] == rows["b:1"]["status"] == "rotten"
    result = invoke(settings, "review", "a:2", "--not-rot", "--note", "answers 404 to robots only")
    assert result.exit_code == 0, result.output
    rows = report(settings)
    assert rows["a:2"]["status"] == rows["b:1"]["status"] == "ok"  # rot is the page's, whoever cites it
    assert rows["b:1"]["reviews"][0]["rot_kind"] == "not_found" and rows["b:1"]["flags"] == []
    run_check(settings, clock=clock)
    assert report(settings)["a:2"]["status"] == "ok"
    # another kind of failure is not the alarm the editor judged: it is raised again
    history.set("/world/gone", Response(500, b"oops"))
    clock.advance(days=1)
    run_check(settings, clock=clock)
    raised = report(settings)["a:2"]
    assert raised["status"] == "rotten" and raised["rot"]["kind"] == "server_error", raised["rot"]


def test_ignore_stops_watching_one_citation_but_not_the_page_another_article_cites(history, settings, clock):
    assert invoke(settings, "review", "a:1", "--ignore", "--note", "sentence removed from the article").exit_code == 0
    assert invoke(settings, "review", "a:2", "--ignore").exit_code == 0
    hits_story, hits_gone = history.hits("/world/story"), history.hits("/world/gone")
    run_check(settings, clock=clock)
    assert history.hits("/world/story") == hits_story  # nobody else cites it: not fetched
    assert history.hits("/world/gone") == hits_gone + 1  # article b still cites it
    rows = report(settings)
    assert rows["a:1"]["flags"] == [] and rows["a:1"]["reviews"][0]["decision"] == "ignore"
    assert rows["a:1"]["versions"] == 2  # its history stays
    assert invoke(settings, "review", "a:1", "--undo").exit_code == 0
    run_check(settings, clock=clock)
    assert history.hits("/world/story") == hits_story + 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope", "--accept"], "no citation 'nope'"),
        (["a:1"], "name a decision"),
        (["a:1", "--not-rot"], "is not flagged as rot"),
        (["a:2", "--undo"], "no decision in force to undo"),
        (["a:1", "--accept", "--by", " "], "--by must name the editor"),
        (["a:1", "--accept", "--note", "x" * 2001], "at most 2000"),
    ],
)
def test_bad_review_input_is_named_and_exits_3(history, settings, args, message):
    result = invoke(settings, "review", *args)
    assert result.exit_code == 3 and message in result.output, result.output
    assert "Traceback" not in result.output


def test_the_fold_takes_decisions_as_typed_rows_and_a_decision_on_other_content_does_not_hold():
    from archiver.detect.health import fold
    from archiver.models import CheckVerdicts, Citation, Decision, Outcome, Severity, Signal
    from archiver.models.rows import CheckRow, ReviewRow

    citation = Citation("1", "http://127.0.0.1/x")
    gone = CheckVerdicts(Signal("soft_404", Severity.PERMANENT, "the page says it is not found"))
    checks = [
        CheckRow(1, "1", "2026-01-01T12:00:00+00:00", Outcome.OK, 200, "", "aaa", True, "", verdicts=gone),
        CheckRow(2, "1", "2026-01-02T12:00:00+00:00", Outcome.OK, 200, "", "aaa", False, "", verdicts=gone),
    ]
    assert fold(citation, checks, [], None).status == "rotten"

    def judged(on: str, kind: str = "soft_404") -> ReviewRow:
        return ReviewRow(1, "sources", "1", "1", Decision.NOT_ROT, "2026-01-02T13:00:00+00:00", "ed", "", on, kind)

    alarm = fold(citation, checks, [], None, reviews=[judged("aaa")])
    assert alarm.status == "ok" and alarm.flags == () and alarm.reviews[0].holds
    changed = fold(citation, checks, [], None, reviews=[judged("bbb")])  # judged on other content
    assert changed.status == "rotten" and not changed.reviews[0].holds
    other_kind = fold(citation, checks, [], None, reviews=[judged("aaa", "not_found")])
    assert other_kind.status == "rotten"
