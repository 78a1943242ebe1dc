"""A publication, not one article: 24 articles in six formats citing 10 pages of the simulated web.
Each page is fetched once a pass whatever the number of articles citing it (counted by the server),
each article's claims are checked for itself, and the report gives the publication's summary (articles
ranked by the share of their citations that no longer hold) and each article's own report."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from conftest import SUBPROCESS_ENV, archiver_cmd, loopback_resolver, no_network_resolver
from publication import BY_KEY, SOURCES, WRONG, serve_sources, write_publication
from simweb import LOREM, article
from test_formats_roundtrip import identity, inserted_only
from test_serve import serving

from archiver.annotating import link_status
from archiver.cli import cli
from archiver.detect.health import fold
from archiver.errors import SourceError
from archiver.extract import extract
from archiver.formats import LinkStatus, parse
from archiver.importing import import_articles
from archiver.models import LIST_ARTICLE, Citation, Extraction, Health, HealthStatus, RotVerdict
from archiver.models.rows import Capture
from archiver.pipeline import run_check
from archiver.report import build_report
from archiver.sources import read_sources
from archiver.store import Store, content_hash, files, schema
from archiver.store.db import SqliteDatabase


def pages_fetched(web) -> Counter[tuple[str, str]]:
    return Counter((r.host, r.path.split("?")[0]) for r in web.requests)


@pytest.fixture
def publication(web, settings, tmp_path):
    serve_sources(web)
    cited = write_publication(web, tmp_path / "articles")
    result = CliRunner().invoke(cli, ["--sources", str(settings.sources), "import", str(tmp_path / "articles")])
    assert result.exit_code == 0, result.output
    assert "24 articles, 72 citation(s) read" in result.output
    return cited


def entries(settings, article: str | None = None) -> dict[tuple[str, str], dict]:
    with Store.open(settings.data_dir, read_only=True) as store:
        report = build_report(store, datetime.now(UTC), article).to_json()
    return {(e["article"], e["url"]): e for e in report["citations"]}


def test_importing_a_folder_gives_one_article_per_file_each_with_its_own_ids(publication, settings):
    citations = read_sources(settings.sources)
    by_article = Counter(c.article for c in citations)
    assert len(by_article) == 24 and set(by_article.values()) == {3}
    assert set(by_article) == set(publication)  # ids from the file names
    md = [c for c in citations if c.article == "md-00"]
    assert [c.id for c in md] == ["1", "2", "3"] and md[0].claim == "Officials said 11,000 soldiers were sent to Kursk."
    assert md[0].extra["article_title"] == "Story md-00" and md[0].extra["article_published"] == "2025-03-01"
    bib = [c for c in citations if c.article == "bib-16"]
    assert [c.id for c in bib] == ["river", "ships", "engineers"] and {c.cited_at for c in bib} == {
        "2025-02-10",
        "2025-02-11",
        "2025-02-12",
    }  # urldate kept as cited_at
    wiki = [c for c in citations if c.article == "wiki-23"]
    assert wiki[0].cited_at == "2025-02-10" and wiki[0].claim.startswith("Nearly 400 engineers")
    # importing again merges: nothing new, the same list byte for byte
    before = settings.sources.read_bytes()
    again = CliRunner().invoke(
        cli, ["--sources", str(settings.sources), "import", str(settings.sources.parent / "articles")]
    )
    assert again.exit_code == 0 and "0 new, 72 already listed, 72 in all" in again.output
    assert settings.sources.read_bytes() == before


def test_each_page_is_fetched_once_a_pass_and_each_article_keeps_its_own_claims(web, settings, publication):
    first = run_check(settings, resolver=loopback_resolver)
    fetched = pages_fetched(web)
    assert {(s.host, s.path): 1 for s in SOURCES} == dict(fetched)  # 72 citations, 10 pages, 10 requests
    assert len(first.checks) == 10 and first.new_versions == 10
    got = entries(settings)
    assert len(got) == 72
    troops = BY_KEY["troops"].url(web)
    right = got[("md-00", troops)]
    wrong = next(e for (a, url), e in got.items() if a == "html-07" and url.startswith(troops))
    assert right["status"] == "ok" and right["claim"]["supported"] is True and right["claim"]["found"] == ["11,000"]
    assert wrong["claim"]["supported"] is False and wrong["claim"]["missing"] == [WRONG]
    assert wrong["url"].endswith("?utm_source=newsletter")  # kept as cited, watched as the same page

    # the second pass: a figure changes on one page, two pages are gone
    web.requests.clear()
    serve_sources(web, changed={"troops": "12,000"}, gone=("containers", "deal"))
    second = run_check(settings, resolver=loopback_resolver)
    assert {(s.host, s.path): 1 for s in SOURCES} == dict(pages_fetched(web)) and len(second.checks) == 10
    got = entries(settings)
    right, wrong = got[("md-00", troops)], got[("html-07", wrong["url"])]
    assert right["status"] == wrong["status"] == "drifted"  # content drift is the page's
    assert right["claim"]["lost"] == ["11,000"] and "claim_drift" in right["flags"]  # the claim is the article's
    assert wrong["claim"]["lost"] == [] and "claim_drift" not in wrong["flags"]
    containers = BY_KEY["containers"].url(web)
    gone = [e for (a, url), e in got.items() if url.split("?")[0] == containers]
    assert len(gone) == 7 and {e["status"] for e in gone} == {"rotten"}  # every article citing it
    # a status change per citation, each named by its article
    changed = {c.citation_id for c in second.changes}
    assert "md-00:1" in changed and any(key.startswith("html-07:") for key in changed)


def test_the_report_ranks_articles_and_each_article_has_its_own_report(web, settings, publication):
    run_check(settings, resolver=loopback_resolver)
    serve_sources(web, changed={"troops": "12,000"}, gone=("containers", "deal"))
    run_check(settings, resolver=loopback_resolver)
    runner = CliRunner()
    base = ["--data-dir", str(settings.data_dir), "--sources", str(settings.sources), "report"]
    whole = json.loads(runner.invoke(cli, [*base, "--format", "json"]).output)
    ranked = [(a["id"], a["no_longer_hold"], a["citations"]) for a in whole["articles"]]
    worst = ("bib-17", "html-07", "json-21", "md-01", "md-04", "txt-11", "txt-14")  # two of three no longer hold
    assert len(ranked) == 24 and ranked[:7] == [(a, 2, 3) for a in worst] and ranked[7][1] == 1
    assert ranked[-1][1] == 0 and whole["articles"][0]["share"] == pytest.approx(2 / 3, abs=1e-3)
    assert len(whole["citations"]) == 72 and whole["summary"]["rotten"] == 14
    md = runner.invoke(cli, [*base, "--format", "md"]).output
    summary, sections = md.split("## Publication summary", 1)[1].split("\n## ", 1)
    assert "| 1 | [bib-17](#article-bib-17) | 3 | 2 | 67% |" in summary  # a bibliography names no title
    assert sections.count("| # | status |") == 24
    one = json.loads(runner.invoke(cli, [*base, "--article", "md-04", "--format", "json"]).output)
    assert {c["article"] for c in one["citations"]} == {"md-04"} and len(one["citations"]) == 3
    assert [a["id"] for a in one["articles"]] == ["md-04"]
    links = runner.invoke(cli, [*base, "--article", "md-04", "--format", "robustlinks"]).output
    assert links.count("<li ") == 3 and "<section" not in links and "data-versiondate=" in links
    own = runner.invoke(cli, [*base, "--article", "md-04", "--format", "md"]).output
    assert "## Story md-04\n\n`md-04` (published 2025-03-05, " in own and "Publication summary" not in own
    assert own.count("| # | status |") == 1 and "md-00" not in own
    missing = runner.invoke(cli, [*base, "--article", "nope"])
    assert missing.exit_code == 3 and "no article 'nope'" in missing.output


def test_check_lookup_and_serve_take_an_article(web, settings, publication):
    runner = CliRunner()
    base = ["--data-dir", str(settings.data_dir), "--sources", str(settings.sources)]
    checked = run_check(settings, article="wiki-23", resolver=loopback_resolver)
    assert len(checked.checks) == 3 and len(web.requests) == 3
    found = runner.invoke(cli, [*base, "lookup", "troops", "--article", "wiki-23"])
    assert found.exit_code == 0, found.output
    assert "[wiki-23:troops]" in found.output and "the same page is cited by: " in found.output
    assert "md-00:1" in found.output  # every article citing the page
    by_key = runner.invoke(cli, [*base, "lookup", "wiki-23:troops"])
    assert by_key.output == found.output
    with serving(settings, "--article", "wiki-23") as (_, url):  # the real command, for the article's editor
        served = httpx.get(f"{url}/api/report", timeout=10).json()
        page = httpx.get(f"{url}/", timeout=10).text
    assert {c["article"] for c in served["citations"]} == {"wiki-23"} and len(served["citations"]) == 3
    assert [a["id"] for a in served["articles"]] == ["wiki-23"] and "<h2>wiki-23</h2>" in page  # named
    unknown = runner.invoke(cli, [*base, "serve", "--port", "0", "--article", "nope"])
    assert unknown.exit_code == 3 and "no article 'nope'" in unknown.output


def test_articles_are_imported_from_their_urls_through_the_guarded_fetcher(web, settings, tmp_path):
    serve_sources(web)
    links = " ".join(
        f'<p>{s.claim.format(s.fact)}, <a href="{s.url(web)}">said the source</a>.</p>' for s in SOURCES[:2]
    )
    page = web.page(
        web.url("/2025/03/column.html", "opinion.test"),
        article("A column", *LOREM).replace("</article>", links + "</article>"),
    )
    outcome = import_articles([page], settings.sources, fetch=settings.fetch_settings, resolver=loopback_resolver)
    (read,) = outcome.articles
    assert read.article.id == "column" and read.article.source == page and read.article.title == "A column"
    assert [c.url for c in read.result.citations] == [s.url(web) for s in SOURCES[:2]]
    missing = web.url("/nowhere.html", "opinion.test")
    with pytest.raises(SourceError, match="nowhere.html: could not be fetched"):
        import_articles([missing], settings.sources, fetch=settings.fetch_settings, resolver=loopback_resolver)


def test_malformed_files_are_named_with_their_line_or_entry_and_nothing_is_written(tmp_path):
    folder = tmp_path / "articles"
    (folder / "deep").mkdir(parents=True)
    (folder / "good.md").write_text("See [a source](https://a.example/story).\n", encoding="utf-8")
    (folder / "deep" / "refs.bib").write_text(
        "@online{smith2020,\n  url = {https://b.example/x},\n  urldate = {2021-02-30},\n}\n", encoding="utf-8"
    )
    (folder / "deep" / "page.wiki").write_text(
        "Text.<ref>{{cite news |url=www.c.example/page |title=C}}</ref>\n", encoding="utf-8"
    )
    target = tmp_path / "sources.csv"
    result = CliRunner().invoke(cli, ["--sources", str(target), "import", str(folder)])
    assert result.exit_code == 3, result.output
    assert "refs.bib:1: entry 'smith2020': urldate '2021-02-30' is not a real day" in result.output
    assert "page.wiki:1: {{cite news}}: url 'www.c.example/page' is not an absolute http" in result.output
    assert "Traceback" not in result.output and not target.exists()


def test_a_list_made_before_articles_is_one_article_and_keeps_its_ids(web, settings):
    rows = 'id,url,claim\n1,{},"Officials said 11,000 soldiers were sent to Kursk."\n'
    serve_sources(web)
    settings.sources.write_text(rows.format(BY_KEY["troops"].url(web)), encoding="utf-8")
    run_check(settings, resolver=loopback_resolver)
    with Store.open(settings.data_dir, read_only=True) as store:
        (citation,) = store.citations()
        assert (citation.article, citation.id, citation.watched_id) == (LIST_ARTICLE, "1", "1")
        assert [a.id for a in store.articles()] == [LIST_ARTICLE] and len(store.checks("1")) == 1
    report = json.loads(
        CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "report", "--format", "json"]).output
    )
    assert [c["id"] for c in report["citations"]] == ["1"] and report["citations"][0]["article"] == LIST_ARTICLE
    md = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "report", "--format", "md"]).output
    assert "Publication summary" not in md  # one article: the report as it always was


def test_an_article_dropped_from_the_list_leaves_the_report_and_comes_back_with_its_history(settings):
    page = "https://a.example/story"
    one = [Citation("1", page, article="first"), Citation("1", page + "?utm_source=x", article="second")]
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with Store.open(settings.data_dir) as store:
        store.sync_citations(one, now)
        assert [a.id for a in store.articles()] == ["first", "second"] and len(
            {c.watched_id for c in store.citations()}
        ) == 1
        store.sync_citations(one[:1], now)
        assert [a.id for a in store.articles()] == ["first"] and [c.article for c in store.citations()] == ["first"]
        assert [a.id for a in store.articles(include_removed=True)] == ["first", "second"]  # its rows are kept
        store.sync_citations(one, now)
        assert [a.id for a in store.articles()] == ["first", "second"]
        assert len({c.watched_id for c in store.citations()}) == 1  # the same watched page, its history whole


def test_the_repositorys_own_list_is_still_one_article_with_its_ids(settings):
    repo_list = Path(__file__).resolve().parent.parent / "sources.csv"  # the shared article's, made before articles
    settings.sources.write_bytes(repo_list.read_bytes())
    summary = run_check(settings, resolver=no_network_resolver)  # `archiver check` on a fresh clone, offline here
    assert summary.offline and len(summary.checks) == 14
    with Store.open(settings.data_dir, read_only=True) as store:
        assert [a.id for a in store.articles()] == [LIST_ARTICLE]
        assert [(c.article, c.id) for c in store.citations()] == [(LIST_ARTICLE, str(i)) for i in range(1, 15)]
    assert settings.sources.read_bytes() == repo_list.read_bytes()  # the list is not rewritten


# --- annotate: each article written back with its archived copies -----------------------------------


def verified_copies(settings, web, but: tuple[str, ...] = ()) -> None:
    """A verified capture of every watched page but `but` (what the archiving step leaves in the store)."""
    with Store.open(settings.data_dir) as store:
        for s in SOURCES:
            if s.key in but:
                continue
            row = store.citation(s.url(web))
            assert row is not None
            capture = Capture("20250301120000", s.url(web))
            store.add_captures(row.watched_id, [capture], "cdx", datetime(2025, 3, 2, tzinfo=UTC))
            store.mark_capture(row.watched_id, capture, True, "the archived text is our version")


@pytest.mark.parametrize(
    "name",
    ["md/md-02.md", "html/html-06.html", "txt/txt-12.txt", "bib/bib-16.bib", "json/json-19.json", "wiki/wiki-22.wiki"],
)
def test_annotate_writes_each_verified_copy_back_and_nothing_else(web, settings, publication, tmp_path, name):
    run_check(settings, resolver=loopback_resolver)
    verified_copies(settings, web, but=("ships",))
    source = tmp_path / "articles" / name
    out = tmp_path / f"annotated-{source.name}"
    proc = subprocess.run(
        archiver_cmd(settings, "annotate", str(source), "-o", str(out)),
        env=SUBPROCESS_ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "2 citation(s) given an archived copy, 1 left as they were" in proc.stdout
    ships = BY_KEY["ships"].url(web)
    (left,) = proc.stderr.splitlines()  # left as it is, and listed
    assert left.startswith("left [") and ships in left and left.endswith(": no verified archived copy")
    before, after = source.read_text("utf-8"), out.read_text("utf-8")
    added = "".join(inserted_only(before, after))  # nothing of the article changed or removed
    assert "https://web.archive.org/web/20250301120000/" in added and ships not in added
    assert identity(parse(after, out.name)) == identity(parse(before, source.name))
    again = CliRunner().invoke(cli, ["--sources", str(tmp_path / "again.csv"), "import", str(out)])
    assert again.exit_code == 0, again.output
    original = [(c.id, c.url, c.claim, c.cited_at) for c in read_sources(settings.sources) if c.article == source.stem]
    reread = [(c.id, c.url, c.claim, c.cited_at) for c in read_sources(tmp_path / "again.csv")]
    assert reread == original  # the output, imported, gives the same citations


def test_annotate_keeps_a_byte_order_mark_and_crlf_line_endings(web, settings, publication, tmp_path):
    run_check(settings, resolver=loopback_resolver)
    verified_copies(settings, web)
    source = tmp_path / "articles" / "md" / "md-02.md"
    windows = tmp_path / "md-02-windows.md"
    windows.write_bytes(b"\xef\xbb\xbf" + source.read_bytes().replace(b"\n", b"\r\n"))
    out = tmp_path / "out.md"
    done = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "annotate", str(windows), "-o", str(out)])
    assert done.exit_code == 0, done.output
    before, after = windows.read_bytes(), out.read_bytes()
    assert after.startswith(b"\xef\xbb\xbf") and after.count(b"\r\n") == before.count(b"\r\n")
    assert b"\n" not in after.replace(b"\r\n", b"")  # no line ending of another kind added
    added = "".join(inserted_only(before.decode("utf-8"), after.decode("utf-8")))
    assert added.count("https://web.archive.org/web/20250301120000/") == 3


def test_annotate_refuses_to_overwrite_the_article_and_needs_an_output(settings, publication, tmp_path):
    source = tmp_path / "articles" / "md" / "md-02.md"
    runner = CliRunner()
    base = ["--data-dir", str(settings.data_dir)]
    run_check(settings, resolver=loopback_resolver)
    same = runner.invoke(cli, [*base, "annotate", str(source), "-o", str(source)])
    assert same.exit_code == 3 and "is the article itself" in same.output
    none = runner.invoke(cli, [*base, "annotate", str(source)])
    assert none.exit_code == 3 and "annotate needs -o OUT" in none.output
    by_id = runner.invoke(cli, [*base, "annotate", "md-02", "-o", str(tmp_path / "by-id.md")])  # its source file
    assert by_id.exit_code == 0 and "written to" in by_id.output and (tmp_path / "by-id.md").exists()
    unknown = runner.invoke(cli, [*base, "annotate", "nope", "-o", str(tmp_path / "x.md")])
    assert unknown.exit_code == 3 and "nope: no such file, nor an article id of the store" in unknown.output


@pytest.mark.parametrize(
    "status,kind,final_url,expected",
    [
        (HealthStatus.OK, "", "https://a.example/story", LinkStatus.LIVE),
        (HealthStatus.PAYWALLED, "", "https://a.example/story", LinkStatus.LIVE),
        (HealthStatus.FAILING, "server_error", "https://a.example/story", LinkStatus.LIVE),
        (HealthStatus.ROTTEN, "not_found", "https://a.example/story", LinkStatus.DEAD),
        (HealthStatus.ROTTEN, "redirect_home", "https://www.a.example/", LinkStatus.DEAD),  # its own home page
        (HealthStatus.ROTTEN, "parked", "https://a.example/story", LinkStatus.USURPED),
        (HealthStatus.ROTTEN, "redirect_home", "https://casino.example/", LinkStatus.USURPED),  # another site
    ],
)
def test_url_status_says_dead_for_rot_usurped_for_a_page_taken_over_live_otherwise(status, kind, final_url, expected):
    health = Health("1", "https://a.example/story", status, (), "", "", 200, final_url, RotVerdict(status, kind))
    assert link_status(health, "https://a.example/story") == expected
    assert link_status(None, "https://a.example/story") == LinkStatus.LIVE  # never checked: nothing said against it


# --- a store made before articles ---------------------------------------------------------------------


def old_store(data_dir: Path, rows: list[tuple[str, str, str, bytes]]) -> None:
    """A store as the release before articles left it: its schema (every migration before m007), one
    citation per row watching its own URL under its own id, a pass, a check and a version of each (the
    page as served, its files written), and each one's health."""
    data_dir.mkdir(parents=True)
    db = SqliteDatabase.open(data_dir / schema.DATABASE)
    names = [step.name for step in schema.migrations.steps]
    db.migrate(schema.migrations.steps[: names.index("m007_articles")])
    at = "2026-01-01T12:00:00+00:00"
    db.execute("INSERT INTO passes (id, started_at, finished_at, citations) VALUES (1, ?, ?, ?)", [at, at, len(rows)])
    for cid, url, claim, body in rows:
        text = extract(body, url, "text/html").text
        written, digest = files.write(data_dir, body, text, raw_file=True), content_hash(Extraction(text), body)
        db.execute("INSERT INTO citations (id, url, claim, added_at) VALUES (?, ?, ?, ?)", [cid, url, claim, at])
        db.execute(
            """INSERT INTO versions (citation_id, hash, first_seen, title, words, text_path, raw_path, raw_hash,
                                     baseline_hash) VALUES (?, ?, ?, 'Old', 100, ?, ?, ?, ?)""",
            [cid, digest, at, written.text_path, written.raw_path, written.raw_hash, digest],
        )
        db.execute(
            """INSERT INTO checks (citation_id, pass_id, checked_at, url, outcome, http_status, version_hash,
                                  new_version) VALUES (?, 1, ?, ?, 'ok', 200, ?, 1)""",
            [cid, at, url, digest],
        )
        health = replace(fold(Citation(cid, url, claim), [], [], None), status=HealthStatus.OK)
        db.execute(
            "INSERT INTO health (citation_id, status, since, updated_at, report) VALUES (?, 'ok', '', ?, ?)",
            [cid, at, json.dumps(asdict(health))],
        )
    db.close()


def test_a_store_made_before_articles_is_one_article_whose_histories_go_on(web, settings):
    serve_sources(web)
    troops, aid = BY_KEY["troops"].url(web), BY_KEY["aid"].url(web)
    rows = [
        ("1", troops, "Officials said 11,000 soldiers were sent to Kursk."),
        ("2", aid, ""),
        ("3", aid + "?mod=x", ""),
    ]
    served = {(s.host, s.path): web.routes[(s.host, s.path)] for s in SOURCES}  # the pages as served now
    bodies = {s.url(web): served[(s.host, s.path)].body for s in SOURCES}  # type: ignore[union-attr]
    old_store(settings.data_dir, [(cid, url, claim, bodies[url.split("?")[0]]) for cid, url, claim in rows])
    settings.sources.write_text(
        "id,url,claim\n" + "".join(f'{cid},{url},"{claim}"\n' for cid, url, claim in rows), encoding="utf-8"
    )
    with Store.open(settings.data_dir) as store:  # a writing command upgrades it
        assert [(c.article, c.id, c.watched_id) for c in store.citations()] == [
            (LIST_ARTICLE, "1", "1"),
            (LIST_ARTICLE, "2", "2"),
            (LIST_ARTICLE, "3", "3"),
        ]
        assert store.health("1") is not None and store.health("1").status == HealthStatus.OK  # type: ignore[union-attr]
    summary = run_check(settings, resolver=loopback_resolver)
    assert not [c for c in summary.changes if c.old != HealthStatus.UNCHECKED]  # no alert: nothing changed
    assert pages_fetched(web)[("daily.test", "/story/aid")] == 1  # the page it watched twice, fetched once now
    with Store.open(settings.data_dir, read_only=True) as store:
        old, new = store.checks("1")
        assert new.version_hash == old.version_hash and not new.new_version  # the same page: its version goes on
        assert [c.watched_id for c in store.citations()] == ["1", "2", "2"]  # [3] joins the page's first history
        assert len(store.checks("3")) == 1  # its own history is kept, and grows no more
        report = build_report(store, datetime.now(UTC)).to_json()
    assert [(c["id"], c["article"], c["status"]) for c in report["citations"]] == [
        ("1", LIST_ARTICLE, "ok"),
        ("2", LIST_ARTICLE, "ok"),
        ("3", LIST_ARTICLE, "ok"),
    ]
    assert [a["id"] for a in report["articles"]] == [LIST_ARTICLE]
