"""The detectors scored on real pages that news sites served (../shared/corpus), through the whole
pipeline: each page is served by the simulated web under a neutral URL, so no file name or original
address reaches a detector. A change that makes the detectors worse fails here."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import loopback_resolver, write_sources
from simweb import Response, SimWeb

from archiver import Settings, run_check
from archiver.report import report_data
from archiver.store import Store

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
pytestmark = pytest.mark.skipif(
    not (CORPUS / "labels.csv").exists(),
    reason=f"the shared corpus is not at {CORPUS} (it lives beside the repository)",
)


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory):
    """Run one pass over the whole corpus; map each file to its labels and its report entry."""
    tmp = tmp_path_factory.mktemp("corpus")
    labels = list(csv.DictReader((CORPUS / "labels.csv").open(encoding="utf-8")))
    web = SimWeb()
    rows = []
    try:
        for n, label in enumerate(labels, 1):
            body = (CORPUS / "pages" / label["file"]).read_bytes()
            url = web.url(f"/2024/05/story-{n}", host=f"site{n}.test")
            web.set(url, Response(200, body, {"Content-Type": "text/html"}))
            rows.append({"id": str(n), "url": url})
        settings = Settings.load(
            environ={"ARCHIVER_ALLOW_PRIVATE": "127.0.0.1/32"},
            data_dir=tmp / "data",
            sources=write_sources(tmp / "sources.csv", rows),
            workers=2,
            wayback=False,
        )
        run_check(settings, resolver=loopback_resolver)
        with Store.open(settings.data_dir) as store:
            report = report_data(store.citations(), store.all_health(), datetime.now(UTC))
    finally:
        web.close()
    entries = {c["id"]: c for c in report["citations"]}
    return [(label, entries[str(n)]) for n, label in enumerate(labels, 1)]


def score(pairs):
    tp = sum(1 for want, got in pairs if want and got)
    fp = sum(1 for want, got in pairs if not want and got)
    fn = sum(1 for want, got in pairs if want and not got)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall


def misses(verdicts, want, got):
    return [
        (label["file"], json.dumps({k: entry[k] for k in ("status", "flags")}))
        for label, entry in verdicts
        if want(label) != got(entry)
    ]


def test_paywall_detector_precision_and_recall(verdicts):
    judged = [(label, entry) for label, entry in verdicts if label["paywall"] in ("yes", "no")]
    want = lambda label: label["paywall"] == "yes"  # noqa: E731
    got = lambda entry: "paywall" in entry["flags"]  # noqa: E731
    precision, recall = score([(want(label), got(entry)) for label, entry in judged])
    assert precision >= 0.95 and recall >= 0.9, misses(judged, want, got)


def test_paywalls_say_why(verdicts):
    for label, entry in verdicts:
        if "paywall" in entry["flags"]:
            assert entry["paywall"]["kind"] in ("hard", "metered", "registration")
            assert entry["paywall"]["evidence"], label["file"]


def test_not_found_and_home_pages_are_rot_and_articles_are_not(verdicts):
    articles_and_dead = [
        (label, entry)
        for label, entry in verdicts
        if label["kind"] in ("free_article", "paywalled_article", "not_found_page", "homepage")
    ]
    want = lambda label: label["kind"] in ("not_found_page", "homepage")  # noqa: E731
    got = lambda entry: "link_rot" in entry["flags"]  # noqa: E731
    precision, recall = score([(want(label), got(entry)) for label, entry in articles_and_dead])
    assert precision == 1.0 and recall >= 0.8, misses(articles_and_dead, want, got)


def test_not_found_pages_are_reported_as_soft_404_at_once(verdicts):
    for label, entry in verdicts:
        if label["kind"] == "not_found_page":
            assert entry["status"] == "rotten" and entry["rot"]["kind"] == "soft_404", label["file"]
            assert entry["rot"]["confirmed"] is False  # reported at once, confirmed by later checks


def test_bot_walls_are_blocked_never_rot(verdicts):
    walls = [
        (label, entry)
        for label, entry in verdicts
        if label["file"].startswith("other_") and ("challenge" in label["file"] or "forbidden" in label["file"])
    ]
    assert walls
    for label, entry in walls:
        assert entry["status"] == "blocked" and "link_rot" not in entry["flags"], label["file"]
