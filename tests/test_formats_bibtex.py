"""BibTeX / BibLaTeX: entries with a URL become citations (key as id, urldate as cited_at); archived
copies are written back as `archiveurl` / `archivedate` in each entry's own layout."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from archiver.errors import SourceError
from archiver.formats import ArchivedCopy, LeftReason, Limits, bibtex

DATA = Path(__file__).resolve().parent / "data"
BIB = (DATA / "references.bib").read_text("utf-8")
WHEN = datetime(2023, 2, 1, 9, 30, tzinfo=UTC)


def copy_of(url: str) -> ArchivedCopy:
    return ArchivedCopy(f"https://web.archive.org/web/20230201093000/{url}", WHEN, url)


def test_a_real_bibliography_gives_every_entry_with_a_url():
    article = bibtex.parse(BIB, "references.bib")
    got = [(c.id, c.url, c.cited_at, c.title, c.source) for c in article.citations]
    assert got == [
        (
            "okonkwo2022heatwave",  # url = @string macro # "literal"
            "https://www.morningledger.example/climate/2022/jul/19/river-temperatures-heatwave",
            "2022-07-20",
            "Heatwave pushes river temperatures past 25 °C for the first time",
            "@online",
        ),
        (
            "agence2022qualite",
            "https://www.eau-seine-normandie.example/qualite-eau/bilan-ete-2022?utm_source=newsletter&utm_medium=email",
            "2022-09-02",
            "Qualité des cours d'eau : bilan de l'été 2022",  # LaTeX accents and ~ decoded
            "@online",
        ),
        (
            "lindqvist2023thermal",
            "https://onlinelibrary.wiley.example/doi/10.1111/fwb.00000",
            "2023-01-11",
            "Thermal tolerance of brown trout (Salmo trutta) in lowland rivers",  # nested braces
            "@article",
        ),
        (
            "ea2022temperature",  # macro # {literal}
            "https://www.gov.example/government/publications/water-temperature-monitoring-2000-2021",
            "2022-11-30",
            "Water temperature monitoring in England, 2000–2021",
            "@report",
        ),
        (
            "riverfly2022mayfly",  # howpublished = {\url{…}}, note = {Accessed: …}
            "https://blog.riverfly.example/2022/08/mayfly-counts-july-heat/",
            "2022-08-30",
            "What the July heat did to our mayfly counts",
            "@misc",
        ),
        (
            "Lefevre-2022-Loire",  # a key with ':' becomes an id sources.csv accepts
            "https://www.lequotidienducentre.example/environnement/canicule-la-loire-a-son-plus-bas-niveau-depuis-1976_4523.html",
            "2022-08-12",
            "Canicule : la Loire à son plus bas niveau depuis 1976",
            "@article",
        ),
        (
            "metoffice2022july",  # @online( … ) with parentheses; urldate names only a month
            "https://www.metoffice.example/about-us/press-office/news/weather-and-climate/2022/july-heatwave-review",
            "",
            "July 2022 heatwave: a record-breaking event",
            "@online",
        ),
        (
            "nrfa39001",
            "https://nrfa.example.ac.uk/data/station-info/39001",
            "",
            "Daily mean river flow, gauging station 39001 (Thames at Kingston)",
            "@dataset",
        ),
    ]
    assert [c.line for c in article.citations] == [13, 23, 31, 56, 67, 75, 83, 90]
    warnings = {(w.kind, w.citation_id or w.message) for w in article.warnings}
    assert ("tracking_params", "agence2022qualite") in warnings
    assert any(k == "no_url" and "haddad2019rivers" in m for k, m in warnings)  # the printed book
    assert any(k == "partial_date" and "metoffice2022july" in m for k, m in warnings)
    assert not any(k == "no_url" and "jabref" in m.lower() for k, m in warnings)  # comments are no entries


def test_a_malformed_bibliography_names_each_entry_line_and_problem():
    text = (
        "@string{site = {https://a.example}}\n"  # 1
        "@online{good, url = site # {/ok}, urldate = {2021-05-05}}\n"  # 2
        "@online{macro, url = nowhere # {/x}}\n"  # 3
        "@online{baddate,\n"  # 4
        "  url = {https://a.example/d},\n"  # 5
        "  urldate = {2021-02-30}}\n"  # 6
        "@online{notaurl, url = {www.a.example/page}}\n"  # 7
        "@online{good, url = {https://a.example/again}}\n"  # 8
        "@online{open,\n"  # 9
        "  title = {never closed,\n"  # 10
        "  url = {https://a.example/open}\n"  # 11
        "\n"
        "@online{after, url = {https://a.example/after}}\n"  # 13
    )
    with pytest.raises(SourceError) as raised:
        bibtex.parse(text, "refs.bib")
    error = raised.value
    assert error.exit_code == 3 and error.path == "refs.bib"
    message = str(error)
    assert "refs.bib:3: entry 'macro': field url: undefined @string macro 'nowhere'" in message
    assert "refs.bib:4: entry 'baddate': urldate '2021-02-30' is not a real day" in message
    assert "refs.bib:7: entry 'notaurl': url 'www.a.example/page' is not an absolute http:// or https:// URL" in message
    assert "refs.bib:8: entry key 'good' is used twice (first on line 2)" in message
    assert "refs.bib:9: entry 'open' cannot be read:" in message and "closing" in message
    assert [line for line, _ in error.problems] == sorted(line for line, _ in error.problems)


def test_a_url_of_another_scheme_is_skipped_with_a_warning_not_an_error():
    article = bibtex.parse("@misc{f, url = {ftp://ftp.a.example/data.csv}}\n@misc{h, url = {https://a.example/}}\n")
    assert [c.id for c in article.citations] == ["h"]
    assert any(w.kind == "not_http" and "ftp:" in w.message for w in article.warnings)


def test_write_back_adds_archiveurl_and_archivedate_in_each_entrys_layout():
    article = bibtex.parse(BIB)
    copies = {c.id: copy_of(c.url) for c in article.citations}
    result = bibtex.annotate(BIB, copies)
    assert result.written == tuple(copies) and not result.left
    out = result.text
    # aligned `=` and a trailing comma: both kept
    assert (
        "  urldate   = {2022-07-20},\n"
        "  langid    = {british},\n"
        "  archiveurl = {https://web.archive.org/web/20230201093000/https://www.morningledger.example/climate/2022/jul/19/river-temperatures-heatwave},\n"
        "  archivedate = {2023-02-01},\n"
        "}\n"
    ) in out
    # no trailing comma: none added after the new fields either
    assert (
        "  note         = {Accessed: 2022-08-30},\n"
        "  archiveurl   = {https://web.archive.org/web/20230201093000/https://blog.riverfly.example/2022/08/mayfly-counts-july-heat/},\n"
        "  archivedate  = {2023-02-01}\n"
        "}\n"
    ) in out
    # the closing brace on the last field's line, `Key = {…}` spacing
    assert (
        "  Urldate = {2022-08-12},\n  archiveurl = {https://web.archive.org/web/20230201093000/https://www.lequotidienducentre.example/"
        in out
    )
    assert "_4523.html},\n  archivedate = {2023-02-01}}\n" in out
    # an @online( … ) entry keeps its closing parenthesis
    assert (
        "  urldate = {2022-12},\n  archiveurl = {https://web.archive.org/web/20230201093000/https://www.metoffice"
        in out
    )
    assert "  archivedate = {2023-02-01}\n)\n" in out
    # a one-line entry stays on one line
    assert (
        "version = {2023-01}, archiveurl = {https://web.archive.org/web/20230201093000/https://nrfa.example.ac.uk/data/station-info/39001}, archivedate = {2023-02-01}}\n"
    ) in out
    again = bibtex.parse(out)
    assert [c.known_captures[0].url for c in again.citations] == [copies[c.id].capture_url for c in again.citations]
    assert {c.known_captures[0].date for c in again.citations} == {"2023-02-01"}


def test_windows_line_endings_stay_windows_line_endings():
    text = "@online{a,\r\n  url = {https://a.example/},\r\n  urldate = {2021-05-05}\r\n}\r\n"
    out = bibtex.annotate(text, {"a": copy_of("https://a.example/")}).text
    assert out == (
        "@online{a,\r\n  url = {https://a.example/},\r\n  urldate = {2021-05-05},\r\n"
        "  archiveurl = {https://web.archive.org/web/20230201093000/https://a.example/},\r\n"
        "  archivedate = {2023-02-01}\r\n}\r\n"
    )


def test_braces_in_a_capture_url_cannot_break_the_entry():
    copy = ArchivedCopy("https://web.archive.org/web/2023/https://a.example/{x}", WHEN, "https://a.example/")
    out = bibtex.annotate("@online{a, url = {https://a.example/}}", {"a": copy}).text
    assert (
        bibtex.parse(out).citations[0].known_captures[0].url
        == "https://web.archive.org/web/2023/https://a.example/%7Bx%7D"
    )


def test_entries_without_a_usable_copy_are_left_as_they_are_and_listed():
    text = (
        "@online{none, url = {https://a.example/none}}\n"
        "@online{other, url = {https://a.example/other}}\n"
        "@online{done, url = {https://a.example/done},\n"
        "  archiveurl = {https://web.archive.org/web/2020/https://a.example/done}, archivedate = {2020-01-01}}\n"
    )
    copies = {
        "other": copy_of("https://elsewhere.example/"),
        "done": copy_of("https://a.example/done"),
    }
    result = bibtex.annotate(text, copies)
    assert result.text == text and result.written == ()
    assert {(left.id, left.reason) for left in result.left} == {
        ("none", LeftReason.NO_COPY),
        ("other", LeftReason.OTHER_URL),
        ("done", LeftReason.ALREADY_ARCHIVED),
    }


def test_bounds_on_size_and_entries_are_named():
    many = "".join(f"@online{{e{i}, url = {{https://a.example/{i}}}}}\n" for i in range(6))
    with pytest.raises(SourceError, match="6 citations, over the limit of 5"):
        bibtex.parse(many, "many.bib", Limits(max_citations=5))
    with pytest.raises(SourceError, match=r"big\.bib: .* bytes, over the limit of 100"):
        bibtex.parse(many, "big.bib", Limits(max_bytes=100))
