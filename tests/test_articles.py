"""`archiver import`: citations, claims and an editor's warnings from text, Markdown and HTML articles."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.formats.html import read_citations as parse_html_article
from archiver.formats.markdown import read_citations as parse_markdown_article
from archiver.formats.plaintext import read_citations as parse_text_article
from archiver.importing import parse_article
from archiver.merge import merge_sources
from archiver.sources import parse_sources
from archiver.urls import mangled

ARTICLE = Path(__file__).resolve().parent.parent.parent / "shared" / "article.txt"
needs_article = pytest.mark.skipif(not ARTICLE.exists(), reason=f"the shared article is not at {ARTICLE}")


@needs_article
def test_the_shared_article_gives_14_citations_with_their_claims_and_the_missing_15():
    result = parse_text_article(ARTICLE.read_text("utf-8"))
    assert [c.id for c in result.citations] == [str(i) for i in range(1, 15)]
    by_id = {c.id: c for c in result.citations}
    assert by_id["2"].claim == (
        "Selon The Economist, 15 000 soldats russes avaient été tués après cinq mois "
        "de conflit, soit environ une centaine par jour."
    )
    assert by_id["5"].claim.startswith("Reuters, qui relaie des sources sud-coréennes")
    assert by_id["9"].url.endswith("?mod=Searchresults_pos13&page=2")  # exactly as cited
    assert by_id["13"].claim.startswith("Selon le New York Times, la vente d’armes")  # the sentence before "De plus"
    assert by_id["13"].claim.endswith("572 millions de dollars pour Pyongyang.")
    assert all("[" not in c.claim for c in result.citations)
    kinds = [(w.kind, w.citation_id) for w in result.warnings]
    assert ("missing_reference", "15") in kinds
    assert [cid for kind, cid in kinds if kind == "tracking_params"] == ["7", "9", "10"]
    assert not [k for k, _ in kinds if k in ("mangled_url", "duplicate_url", "uncited_reference")]


@pytest.mark.parametrize(
    "url,problem,suggestion",
    [
        ("https://a.example/story.html)", "stray ')'", "https://a.example/story.html"),
        ("https://a.example/story.html.", "stray '.'", "https://a.example/story.html"),
        ("https://a.example/story»", "stray '»'", "https://a.example/story"),
        ("https://a.example/long story", "contains spaces", "https://a.example/longstory"),
        ("www.a.example/story", "missing scheme", "https://www.a.example/story"),
        ("https://https://a.example/story", "doubled scheme", "https://a.example/story"),
        ("http:/a.example/story", "broken scheme", "http://a.example/story"),
        ("12https://a.example/story", "footnote number 12 glued before", "https://a.example/story"),
        ("https://a.example/speech.htm14", "footnote number 14 glued after", "https://a.example/speech.htm"),
    ],
)
def test_mangled_urls_get_a_suggestion(url, problem, suggestion):
    found, suggested = mangled(url)
    assert problem in found and suggested == suggestion


@pytest.mark.parametrize(
    "url",
    [
        "https://en.wikipedia.org/wiki/Treaty_(1961)",
        "https://a.example/x?page=2",
        "https://www.americanrhetoric.com/speeches/vladimirputinkimjongunpressconference.htm",
    ],
)
def test_good_urls_are_not_called_mangled(url):
    assert mangled(url) == ("", "")


def test_text_article_warnings_for_mangled_duplicate_and_uncited():
    text = (
        "Seoul confirmed it[1]. Moscow too[2]. Both agreed[3].\n"
        "[1] https://a.example/story.html).\n[2] https://a.example/story.html\n[3] www.b.example/x\n"
        "[4] https://c.example/never-cited\n"
    )
    result = parse_text_article(text)
    warnings = {(w.kind, w.citation_id): w for w in result.warnings}
    assert warnings[("mangled_url", "1")].suggestion == "https://a.example/story.html"
    assert result.citations[0].url == "https://a.example/story.html)."  # never applied silently
    assert ("duplicate_url", "2") in warnings
    assert warnings[("mangled_url", "3")].suggestion == "https://www.b.example/x"
    assert ("uncited_reference", "4") in warnings


MARKDOWN = """# Troops

Seoul says **15,000 troops** were sent to Russia[^1]. The [ISW](https://www.understandingwar.org/backgrounder/x "ISW")
reported heavy losses. Analysts agree[^2][^9].

See the [CFR backgrounder][cfr].

[^1]: Reuters, <https://www.reuters.com/world/about-600-north-koreans-killed/>
[^2]: https://www.wsj.com/world/prisoners?mod=article_inline
[^3]: https://www.nytimes.com/2024/12/17/deal.html
[cfr]: https://www.cfr.org/backgrounder/north-korea-sanctions
"""


def test_markdown_footnotes_inline_and_reference_links():
    result = parse_markdown_article(MARKDOWN)
    by_url = {c.url: c for c in result.citations}
    assert by_url["https://www.reuters.com/world/about-600-north-koreans-killed/"].id == "1"
    assert (
        by_url["https://www.reuters.com/world/about-600-north-koreans-killed/"].claim
        == "Seoul says 15,000 troops were sent to Russia."
    )
    isw = by_url["https://www.understandingwar.org/backgrounder/x"]
    assert isw.id.startswith("u-") and isw.claim == "The ISW reported heavy losses."
    assert by_url["https://www.cfr.org/backgrounder/north-korea-sanctions"].claim == "See the CFR backgrounder."
    kinds = {(w.kind, w.citation_id) for w in result.warnings}
    assert {("missing_reference", "9"), ("uncited_reference", "3"), ("tracking_params", "2")} <= kinds
    again = parse_markdown_article(MARKDOWN)
    assert [c.id for c in again.citations] == [c.id for c in result.citations]  # stable ids


HTML = """<!DOCTYPE html><html lang="fr"><body>
<nav><a href="https://news.example/">Accueil</a> <a href="https://news.example/monde">Monde</a></nav>
<article><h1>Pyongyang et Moscou</h1>
<p>Le Figaro a <a href="https://www.lefigaro.fr/international/x-20250428">confirmé le déploiement</a> des troupes.
Selon Reuters, 15 000 soldats ont été envoyés<sup><a href="#fn1">1</a></sup>.</p>
<p>La vente d'armes aurait rapporté 5,5 milliards de dollars<sup><a href="#fn2">2</a></sup>.</p>
<aside><a href="https://news.example/related">À lire aussi</a></aside>
<ol class="notes"><li id="fn1"><a href="https://www.reuters.com/world/about-600">Reuters</a></li>
<li id="fn2"><a href="https://www.nytimes.com/2024/12/17/deal.html">NYT</a></li></ol>
</article><footer><a href="https://news.example/about">Qui sommes-nous</a></footer></body></html>"""


def test_html_body_links_and_footnotes_but_not_navigation():
    result = parse_html_article(HTML)
    assert [(c.id, c.url) for c in result.citations] == [
        (result.citations[0].id, "https://www.lefigaro.fr/international/x-20250428"),
        ("1", "https://www.reuters.com/world/about-600"),
        ("2", "https://www.nytimes.com/2024/12/17/deal.html"),
    ]
    assert result.citations[0].claim == "Le Figaro a confirmé le déploiement des troupes."
    assert result.citations[1].claim == "Selon Reuters, 15 000 soldats ont été envoyés."
    assert result.citations[2].claim == "La vente d'armes aurait rapporté 5,5 milliards de dollars."
    assert parse_article(HTML).citations == result.citations  # recognised without a file name


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_merge_keeps_ids_hand_written_columns_and_dropped_rows():
    existing = (
        b"id,url,claim,note\n1,https://a.example/one,My own wording,checked by Ana\n7,https://old.example/gone,,\n"
    )
    imported = parse_text_article(
        "First[1]. Second[2].\n[1] https://a.example/one?utm_source=x\n[2] https://b.example/two\n"
    ).citations
    merged, notes = merge_sources(existing, imported)
    out = rows(merged)
    assert [r["id"] for r in out] == ["1", "7", "2"]
    assert out[0]["claim"] == "My own wording" and out[0]["note"] == "checked by Ana"
    assert out[0]["url"] == "https://a.example/one"  # matched by canonical URL, kept as it was
    assert out[2]["claim"] == "Second."
    assert any("[7] https://old.example/gone is no longer cited" in n for n in notes)
    again, _ = merge_sources(merged.encode(), imported)
    assert again == merged  # merging twice changes nothing
    parse_sources(merged.encode())  # and the result is a valid citation list


def test_merge_never_reuses_an_id_for_another_url():
    existing = b"id,url,claim\n1,https://a.example/one,x\n"
    imported = parse_text_article("New[1].\n[1] https://z.example/other\n").citations
    merged, notes = merge_sources(existing, imported)
    assert [(r["id"], r["url"]) for r in rows(merged)] == [
        ("1", "https://a.example/one"),
        ("1b", "https://z.example/other"),
    ]
    assert "added as 1b" in notes[1]


def test_import_command_writes_sources_and_prints_warnings(tmp_path):
    article = tmp_path / "a.md"
    article.write_text(MARKDOWN, encoding="utf-8")
    target = tmp_path / "sources.csv"
    result = CliRunner().invoke(cli, ["--sources", str(target), "import", str(article)])
    assert result.exit_code == 0, result.output
    assert "warning: " in result.output and "[^9]" in result.output
    citations = parse_sources(target.read_bytes())
    assert len(citations) == 5
    wsj = next(c for c in citations if c.id == "2")
    assert wsj.extra["canonical"] == "https://www.wsj.com/world/prisoners"


def test_import_of_an_article_without_citations_is_an_error(tmp_path):
    article = tmp_path / "a.txt"
    article.write_text("No links here.\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--sources", str(tmp_path / "s.csv"), "import", str(article)])
    assert result.exit_code == 3 and "no citation found" in result.output
    assert not (tmp_path / "s.csv").exists()


# --- bounded and linear (issue 16, item 5) --------------------------------------------------------


def run_import(tmp_path: Path, name: str, content: bytes) -> subprocess.CompletedProcess[str]:
    """The real command in its own process, with a deadline: a quadratic parser would blow it."""
    article = tmp_path / name
    article.write_bytes(content)
    return subprocess.run(
        [sys.executable, "-m", "archiver", "--sources", str(tmp_path / "sources.csv"), "import", str(article)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "name,content",
    [
        ("brackets.txt", b"[" * 2_000_000),
        ("brackets.md", b"[" * 2_000_000),
        ("half-links.md", b"[a](" * 500_000),
        ("nested.md", b"[[a]" * 500_000),
        ("carets.md", b"[^" * 1_000_000),
        ("markers.txt", b"Claim " + b"[1] " * 500_000 + b".\n[1] https://a.example/x\n"),
    ],
)
def test_pathological_articles_are_read_in_linear_time(tmp_path, name, content):
    proc = run_import(tmp_path, name, content)
    assert proc.returncode in (0, 3), proc.stderr
    assert "Traceback" not in proc.stderr


def test_ten_thousand_links_on_one_line_give_a_list_that_check_reads(tmp_path):
    line = " ".join(f"[source {i}](https://news{i % 40}.example/story/{i})" for i in range(10_000))
    proc = run_import(tmp_path, "links.md", f"Everything is cited here: {line}.\n".encode())
    assert proc.returncode == 0, proc.stderr
    assert "10000 claim(s) longer than 2000 characters were clipped" in proc.stderr
    target = tmp_path / "sources.csv"
    assert target.stat().st_size < 30_000_000  # was 402 MB: each claim held the whole line
    citations = parse_sources(target.read_bytes())  # every cell within what `check` accepts
    assert len(citations) == 10_000 and all(len(c.claim) <= 2000 for c in citations)


def test_import_bounds_are_named(tmp_path, monkeypatch):
    from archiver import importing
    from archiver.formats import Limits

    big = tmp_path / "big.txt"
    with big.open("wb") as f:
        f.truncate(importing.LIMITS.max_bytes + 1)
    result = CliRunner().invoke(cli, ["--sources", str(tmp_path / "s.csv"), "import", str(big)])
    assert result.exit_code == 3 and "big.txt: over the limit of 16,777,216 bytes" in result.output
    monkeypatch.setattr(importing, "LIMITS", Limits(max_citations=3))  # the one rule: formats.Limits
    many = tmp_path / "many.md"
    many.write_text("".join(f"See [{i}](https://a.example/{i}).\n\n" for i in range(4)), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--sources", str(tmp_path / "s.csv"), "import", str(many)])
    assert result.exit_code == 3 and "many.md: 4 citations, over the limit of 3" in result.output
    assert not (tmp_path / "s.csv").exists()


def test_a_url_longer_than_a_cell_is_left_out_with_a_warning():
    long = "https://a.example/" + "x" * 9000
    result = parse_article(f"See [this]({long}) and [that](https://b.example/).\n", "a.md")
    assert [c.url for c in result.citations] == ["https://b.example/"]
    assert any(w.kind == "url_too_long" and "9018 characters left out" in w.message for w in result.warnings)
