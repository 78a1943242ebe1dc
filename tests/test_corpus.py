"""The detectors scored on real pages that news sites served (../shared/corpus), through the whole
pipeline: each page is served by the simulated web under a neutral URL, so no file name or original
address reaches a detector. A change that makes the detectors worse fails here.

The sites behave as real ones do, to keep soft-404 probes honest: an article's site routes by the id
in its path (`/1007/<any slug>` serves the article, as Drupal or Stack Exchange do) and answers any
other unknown URL with a real home page; a not-found or home page is what its site serves for every
URL (a true soft-404 site, a site that sends everything home). A second pass serves new versions of
the articles: one with a teaser of another article added (never drift), half of them with a figure
of their own text changed as well (always drift)."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import loopback_resolver, write_sources
from simweb import Response, Seen, SimWeb
from trafilatura.utils import load_html

from archiver import Settings, run_check
from archiver.extract import extract, parse_html
from archiver.report import build_report
from archiver.store import Store

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
pytestmark = pytest.mark.skipif(
    not (CORPUS / "labels.csv").exists(),
    reason=f"the shared corpus is not at {CORPUS} (it lives beside the repository)",
)
ARTICLES = ("free_article", "paywalled_article")
DEAD = ("not_found_page", "homepage")
HOME = "homepage_wired_1.html"  # what an article's site serves for URLs it does not know
TEASER = "Council approves new cycle lanes for the town centre after a long debate"


def html(response: Response) -> Response:
    return Response(response.status, response.body, {"Content-Type": "text/html"})


def add_teaser(page: str, text: str, n: int) -> str:
    """The page with a link to another article after its second paragraph (as a related-story box)."""
    lines = [line for line in text.splitlines() if len(line.split()) >= 12]
    for line in lines[1:6]:
        at = page.find(line[-30:])
        end = page.find("</p>", at) if at != -1 else -1
        if end != -1:
            end += len("</p>")
            return page[:end] + f'<p><a href="/2024/05/other-story-{n}">{TEASER}</a></p>' + page[end:]
    return page


def change_figure(page: str, text: str) -> tuple[str, str, str] | None:
    """The page with one figure of its own sentences changed, and the figure before and after."""
    for line in text.splitlines():
        if len(line.split()) < 12:
            continue
        for m in re.finditer(r"(?<![\d.,])\d{2,3}(?![\d.,:%/-])", line):
            for width in (12, 20, 30):
                context = line[max(0, m.start() - width) : m.end() + width]
                if page.count(context) == 1:
                    new = str(int(m.group(0)) + 7)
                    changed = (
                        context[: m.start() - max(0, m.start() - width)]
                        + new
                        + context[m.end() - max(0, m.start() - width) :]
                    )
                    return page.replace(context, changed), m.group(0), new
    return None


def report(settings: Settings) -> dict[str, dict]:
    with Store.open(settings.data_dir) as store:
        data = build_report(store, datetime.now(UTC)).to_json()
    return {c["id"]: c for c in data["citations"]}


def texts(settings: Settings) -> dict[str, str]:
    with Store.open(settings.data_dir) as store:
        return {
            c.id: store.read_text(v) if (v := store.current_version(c.id)) and v.text_path else ""
            for c in store.citations()
        }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Two passes over the whole corpus; for each page its labels, its report entry after each pass
    and the mutation of the second (None, "teaser" or ("figure", old, new))."""
    tmp = tmp_path_factory.mktemp("corpus")
    labels = list(csv.DictReader((CORPUS / "labels.csv").open(encoding="utf-8")))
    home = (CORPUS / "pages" / HOME).read_bytes()
    web = SimWeb()
    pages: dict[str, bytes] = {}  # host -> the page it serves now
    prefixes: dict[str, str] = {}  # host -> the id-routed prefix of an article's site ("" = every URL)

    def site(seen: Seen) -> Response:
        prefix = prefixes.get(seen.host)
        if prefix is None:
            return html(Response(404, b"<h1>Not Found</h1>"))
        if not prefix or seen.path.startswith(prefix):
            return html(Response(200, pages[seen.host]))
        return html(Response(200, home))

    web.fallback = site
    rows = []
    try:
        for n, label in enumerate(labels, 1):
            host = f"site{n}.test"
            pages[host] = (CORPUS / "pages" / label["file"]).read_bytes()
            prefixes[host] = "" if label["kind"] in DEAD else f"/{1000 + n}/"
            rows.append({"id": str(n), "url": web.url(f"/{1000 + n}/story-{n}", host=host)})
        settings = Settings.load(
            environ={"ARCHIVER_ALLOW_PRIVATE": "127.0.0.1/32", "ARCHIVER_BROWSER": "never"},
            data_dir=tmp / "data",
            sources=write_sources(tmp / "sources.csv", rows),
            workers=2,
            wayback=False,
        )
        run_check(settings, resolver=loopback_resolver)
        first = report(settings)
        probed = {r.host for r in web.requests if "archiver-probe-" in r.path}
        extracted = texts(settings)
        mutations: dict[str, object] = {}
        for n, label in enumerate(labels, 1):
            cid, host = str(n), f"site{n}.test"
            if label["kind"] not in ARTICLES or (first[cid]["paywall"] or {}).get("truncated"):
                continue
            page = add_teaser(pages[host].decode("utf-8"), extracted[cid], n)
            mutations[cid] = "teaser"
            changed = change_figure(page, extracted[cid]) if n % 2 else None
            if changed:
                page, old, new = changed
                mutations[cid] = ("figure", old, new)
            pages[host] = page.encode("utf-8")
        run_check(settings, resolver=loopback_resolver)
        second = report(settings)
    finally:
        web.close()
    return [
        (label, first[str(n)], second[str(n)], mutations.get(str(n)), f"site{n}.test" in probed)
        for n, label in enumerate(labels, 1)
    ]


@pytest.fixture(scope="module")
def verdicts(corpus):
    return [(label, first) for label, first, *_ in corpus]


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
    assert precision == 1.0 and recall == 1.0, misses(judged, want, got)


def test_paywalls_say_why(verdicts):
    for label, entry in verdicts:
        if "paywall" in entry["flags"]:
            assert entry["paywall"]["kind"] in ("hard", "metered", "registration")
            assert entry["paywall"]["evidence"], label["file"]


def test_not_found_and_home_pages_are_rot_and_articles_are_not(verdicts):
    articles_and_dead = [(label, entry) for label, entry in verdicts if label["kind"] in (*ARTICLES, *DEAD)]
    want = lambda label: label["kind"] in DEAD  # noqa: E731
    got = lambda entry: "link_rot" in entry["flags"] or entry["status"] in ("rotten", "failing")  # noqa: E731
    precision, recall = score([(want(label), got(entry)) for label, entry in articles_and_dead])
    assert precision == 1.0 and recall == 1.0, misses(articles_and_dead, want, got)


def test_articles_on_id_routed_sites_are_probed_and_stay_healthy(corpus):
    # the pages that say nothing of themselves were probed: the sibling served the article again
    # (the site ignores the slug), one level up served the home page, so no soft 404
    probed = [(label, first) for label, first, _, _, was_probed in corpus if was_probed]
    assert any(label["kind"] in ARTICLES for label, _ in probed)
    for label, first in probed:
        if label["kind"] in ARTICLES:
            assert first["status"] in ("ok", "paywalled") and first["rot"]["kind"] is None, label["file"]


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


def test_a_teaser_of_another_article_never_raises_drift_on_real_pages(corpus):
    teased = [(label, second) for label, _, second, mutation, _ in corpus if mutation == "teaser"]
    assert len(teased) >= 10
    stored = [second for _, second in teased if second["drift"]["versions"] == 2]
    assert len(stored) >= len(teased) // 2  # the extractor kept the teaser: a new version was recorded
    for label, second in teased:
        assert "drift" not in second["flags"] and second["status"] != "drifted", (label["file"], second["drift"])
        assert second["drift"]["kind"] in ("unchanged", "cosmetic", "boilerplate"), (label["file"], second["drift"])


def test_a_changed_figure_always_raises_drift_on_real_pages(corpus):
    changed = [(label, second, mutation) for label, _, second, mutation, _ in corpus if isinstance(mutation, tuple)]
    assert len(changed) >= 8
    for label, second, (_, old, new) in changed:
        assert second["status"] == "drifted" and "drift" in second["flags"], (label["file"], second["drift"])
        assert second["drift"]["kind"] == "fact_change", (label["file"], second["drift"])
        # named as a figure, or as the quotation that holds it
        named = [c for c in second["drift"]["changes"] if c.startswith(("figure changed", "quote changed"))]
        assert any(old in c and new in c for c in named), (label["file"], second["drift"]["changes"])


def test_the_services_own_parse_gives_trafilaturas_extraction_on_every_real_page():
    """The service parses a page once, with a parser of its own (`archiver.extract.html_tree`), and
    trafilatura extracts from that tree: on every page of the corpus, exactly what trafilatura gives
    from the page's text with its own parser."""
    labels = list(csv.DictReader((CORPUS / "labels.csv").open(encoding="utf-8")))
    for label in labels:
        body = (CORPUS / "pages" / label["file"]).read_bytes()
        html, tree = parse_html(body, "text/html")
        assert (tree is None) == (load_html(html) is None), label["file"]
        assert extract(body, "https://a.example/", "text/html", (html, tree)) == extract(
            body, "https://a.example/", "text/html"
        ), label["file"]
