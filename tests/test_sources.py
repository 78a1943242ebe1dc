"""Reading sources.csv: every mistake is named with its line, good input in any usual shape is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver import SourceError, read_sources
from archiver.sources import parse_sources

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT.parent / "shared" / "article.txt"


def problems(text: str | bytes) -> list[tuple[int | None, str]]:
    with pytest.raises(SourceError) as info:
        parse_sources(text.encode() if isinstance(text, str) else text, "s.csv")
    return info.value.problems


def test_project_sources_list_the_articles_14_references_exactly_as_cited():
    citations = read_sources(ROOT / "sources.csv")
    assert [c.id for c in citations] == [str(i) for i in range(1, 15)]
    assert all(c.claim for c in citations)
    if ARTICLE.exists():
        article = ARTICLE.read_text("utf-8")
        for c in citations:
            assert f"[{c.id}] {c.url}\n" in article + "\n"
    wsj = citations[8]
    assert wsj.url.endswith("?mod=Searchresults_pos13&page=2")  # tracking kept as cited
    assert "5,5 milliards de dollars" in citations[12].claim


def test_bom_blank_lines_extra_columns_and_spaces_are_fine():
    text = "\ufeffid,url,claim,section\n\n 1 , https://a.example/x ,A claim,world\n\n\n2,http://b.example/,,\n"
    c1, c2 = parse_sources(text.encode("utf-8"))
    assert (c1.id, c1.url, c1.claim, c1.extra) == ("1", "https://a.example/x", "A claim", {"section": "world"})
    assert (c2.id, c2.line) == ("2", 6)


def test_missing_header_is_named():
    (problem,) = problems("1,https://a.example/x\n")
    assert problem[0] == 1 and "header must name the columns id, url" in problem[1]


def test_every_bad_row_is_reported_at_once_with_its_line():
    text = (
        "id,url,claim,cited_at\n1,https://a.example/x,,\n1,https://a.example/y,,\n"
        "3,a.example/z,,\n,https://a.example/w,,\n5,https://a.example/ v,,\n6,https://a.example/,,yesterday\n"
    )
    assert problems(text) == [
        (3, "duplicate id '1' (first on line 2)"),
        (4, "url 'a.example/z' is not an absolute http:// or https:// URL"),
        (5, "id is empty"),
        (6, "url 'https://a.example/ v' contains spaces"),
        (7, "cited_at 'yesterday' is not a date like 2025-04-28"),
    ]


def test_wrong_encoding_names_the_line():
    (problem,) = problems("id,url,claim\n1,https://a.example/x,ok\n2,https://a.example/y,caf\xe9\n".encode("latin-1"))
    assert problem[0] == 3 and "not UTF-8" in problem[1]


def test_unquoted_comma_is_caught():
    (problem,) = problems("id,url,claim\n1,https://a.example/x,one, two\n")
    assert problem == (2, "4 fields but the header names 3 (an unquoted comma?)")


def test_empty_and_missing_files(tmp_path):
    assert problems("") == [(None, "empty file: expected a header line 'id,url,claim'")]
    with pytest.raises(SourceError, match="file not found"):
        read_sources(tmp_path / "nope.csv")
