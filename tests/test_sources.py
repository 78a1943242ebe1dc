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


# --- a quote left open (issue 16, item 8) ---------------------------------------------------------


def test_an_unterminated_quote_names_the_line_it_opened_on_instead_of_swallowing_rows():
    text = (
        'id,url,claim\n1,https://a.example/,"Troops were sent\n'
        "2,https://b.example/,second claim\n3,https://c.example/,third claim\n"
    )
    assert problems(text) == [
        (2, "a quote opened on line 2 is never closed: lines 2 to 4 would be one cell"),
    ]


def test_a_quote_closed_rows_later_is_named_too_but_a_real_multi_line_claim_is_fine():
    swallowing = 'id,url,claim\n1,https://a.example/,"one\n2,https://b.example/,two"\n3,https://c.example/,x\n'
    ((line, message),) = problems(swallowing)
    assert line == 2 and "swallows what looks like a row ('2,https://b.example/,two')" in message
    genuine = 'id,url,claim\n1,https://a.example/,"first line\nsecond line, with a comma"\n2,https://b.example/,x\n'
    c1, c2 = parse_sources(genuine.encode())
    assert c1.claim == "first line\nsecond line, with a comma" and (c2.id, c2.line) == ("2", 4)


# --- URLs and dates that cannot be right (item 9) -------------------------------------------------


@pytest.mark.parametrize(
    "url,problem",
    [
        ("http://127.0.0.1:abc/a", "has a port that is not a number from 1 to 65535"),
        ("http://a.example:99999/", "has a port that is not a number from 1 to 65535"),
        ("http://a.example:0/", "has a port that is not a number from 1 to 65535"),
        ("http://a.example:-1/", "has a port that is not a number from 1 to 65535"),
        ("http://a.example/\x00x", "contains the control character '\\x00'"),
        ("http://a.example/a\x07b", "contains the control character '\\x07'"),
        ("http://a.example/a\x7f", "contains the control character '\\x7f'"),
        ("http://" + "a" * 260 + ".example/", "has a host name longer than 253 characters"),
    ],
)
def test_invalid_urls_are_refused_when_the_list_is_read(url, problem):
    ((line, message),) = problems(f"id,url\n1,{url}\n")
    assert line == 2 and message == f"url {url!r} {problem}"


def test_good_ports_and_addresses_are_kept():
    text = "id,url\n1,http://a.example:8080/x\n2,https://[2001:db8::1]:8443/\n3,http://a.example:/\n"
    assert [c.url for c in parse_sources(text.encode())] == [
        "http://a.example:8080/x",
        "https://[2001:db8::1]:8443/",
        "http://a.example:/",
    ]


@pytest.mark.parametrize(
    "date", ["9999-99-99", "2025-02-30", "2025-13-01", "2025-04-28T25:00", "9999-12-31T23:59-23:59"]
)
def test_impossible_dates_are_refused(date):
    ((line, message),) = problems(f"id,url,cited_at\n1,https://a.example/,{date}\n")
    assert line == 2 and message == f"cited_at {date!r} is not a date like 2025-04-28"


def test_real_dates_and_intervals_are_read():
    text = "id,url,cited_at,interval\n1,https://a.example/,2024-02-29,1.5h\n2,https://b.example/,2025-04-28T09:30Z,2d\n"
    assert [(c.cited_at, c.interval) for c in parse_sources(text.encode())] == [
        ("2024-02-29", "1.5h"),
        ("2025-04-28T09:30Z", "2d"),
    ]
    ((line, message),) = problems("id,url,interval\n1,https://a.example/,99999999999999999999d\n")
    assert line == 2 and message == "interval '99999999999999999999d' is longer than 366 days"


# --- bounds (item 5) ------------------------------------------------------------------------------


def test_sizes_are_bounded_with_the_limit_named():
    from archiver.sources import MAX_CELL_CHARS, MAX_COLUMNS, MAX_LINE_CHARS

    wide = ",".join(["id", "url", *(f"c{i}" for i in range(100_000))])  # 0.8 MB: refused at once
    assert problems(wide + "\n") == [(1, f"line longer than {MAX_LINE_CHARS} characters, the most accepted")]
    many = ",".join(["id", "url", *(f"c{i}" for i in range(MAX_COLUMNS))])
    assert problems(many + "\n") == [(1, f"{MAX_COLUMNS + 2} columns, more than the {MAX_COLUMNS} accepted")]
    claim = "x" * (MAX_CELL_CHARS + 1)
    assert problems(f"id,url,claim\n1,https://a.example/,{claim}\n") == [
        (2, f"cell in column 'claim' longer than {MAX_CELL_CHARS} characters")
    ]
    rows = "".join(f"{i},https://a.example/{i}, a, b\n" for i in range(5000))
    found = problems("id,url,claim\n" + rows)
    assert len(found) == 101 and found[-1] == (None, "stopped after 100 problems: is this a citation list?")


def test_too_many_citations_are_refused(monkeypatch):
    import archiver.sources as sources

    monkeypatch.setattr(sources, "MAX_CITATIONS", 3)
    assert problems("id,url\n" + "".join(f"{i},https://a.example/{i}\n" for i in range(4))) == [
        (5, "more than 3 citations, the most accepted")
    ]


def test_an_endless_file_is_read_no_further_than_the_limit(tmp_path):
    """`--sources /dev/zero` (or any file past the cap) stops at the cap, with a message."""
    from archiver.sources import MAX_SOURCES_BYTES

    with pytest.raises(SourceError) as info:
        read_sources("/dev/zero")
    assert info.value.problems == [(None, f"larger than {MAX_SOURCES_BYTES // 2**20} MiB, the most accepted")]
    with pytest.raises(SourceError, match="is a directory"):
        read_sources(tmp_path)
