"""CSL-JSON (Zotero, Mendeley, pandoc): items with a URL become citations (`accessed` as cited_at);
archived copies are written back as the CSL variables `archive` and `archive_location`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archiver.errors import SourceError
from archiver.formats import ArchivedCopy, LeftReason, Limits, csljson

DATA = Path(__file__).resolve().parent / "data"
ZOTERO = (DATA / "zotero-export.json").read_text("utf-8")
WHEN = datetime(2023, 2, 1, 9, 30, tzinfo=UTC)
# The item variables of CSL 1.0.2's csl-data.json schema that a write-back may add ("additionalProperties": false)
CSL_ARCHIVE_VARIABLES = {"archive", "archive_location", "archive-place", "archive_collection"}


def copy_of(url: str) -> ArchivedCopy:
    return ArchivedCopy(f"https://web.archive.org/web/20230201093000/{url}", WHEN, url)


def test_a_zotero_export_gives_every_item_with_a_url():
    article = csljson.parse(ZOTERO, "zotero-export.json")
    got = [(c.id, c.cited_at, c.title, c.source, c.line) for c in article.citations]
    assert got == [
        (
            "8TQ9MYWE",
            "2022-07-20",
            "Heatwave pushes river temperatures past 25°C for the first time",
            "article-newspaper",
            2,
        ),
        ("2QZ8ZRCI", "2022-09-02", "Qualité des cours d’eau : bilan de l’été 2022", "webpage", 36),
        (
            "JX7HD2KE",
            "2023-01-11",
            "Thermal tolerance of brown trout (Salmo trutta) in lowland rivers",
            "article-journal",
            54,
        ),
        ("Q3CWEV8A", "2022-11-30", "Water temperature monitoring in England, 2000–2021", "report", 121),
        ("VN6B2T5R", "2022-08-30", "What the July heat did to our mayfly counts", "post-weblog", 149),  # accessed.raw
        (
            "C9R2LMXD",
            "2022-08-12",
            "Canicule : la Loire à son plus bas niveau depuis 1976",
            "article-newspaper",
            174,
        ),  # EDTF
        ("H2YU7QWS", "", "July 2022 heatwave: a record-breaking event", "webpage", 198),  # only a month
        ("T8XK3PZ4", "", "Daily mean river flow, gauging station 39001 (Thames at Kingston)", "dataset", 214),
    ]
    assert (
        article.citations[0].url == "https://www.morningledger.example/climate/2022/jul/19/river-temperatures-heatwave"
    )
    kinds = {(w.kind, w.citation_id) for w in article.warnings}
    assert ("partial_date", "H2YU7QWS") in kinds and ("tracking_params", "2QZ8ZRCI") in kinds
    assert any(w.kind == "no_url" and "MPK4Z3NB" in w.message for w in article.warnings)  # the book


@pytest.mark.parametrize(
    "text,named",
    [
        (
            '[\n  {"id": "a", "URL": "https://a.example/"},\n  {"id": "b" "URL": "https://b.example/"}\n]',
            "x.json:3: not valid JSON: Expecting ',' delimiter (column 14)",
        ),
        ('{"items": []}', "x.json:1: CSL-JSON is an array of items"),
        ('[\n  "https://a.example/"\n]', "x.json:2: item 1 is a str, not an object"),
        ('[\n  {"URL": "https://a.example/"}\n]', "x.json:2: item 1 has no id"),
        (
            '[{"id": "a", "URL": "https://a.example/"},\n {"id": "a", "URL": "https://b.example/"}]',
            "x.json:2: item 2 (id 'a'): the id is already used by item 1",
        ),
        (
            '[{"id": "a", "URL": ["https://a.example/"]}]',
            "x.json:1: item 1 (id 'a'): URL ['https://a.example/'] is not a string",
        ),
        (
            '[{"id": "a", "URL": "a.example/page"}]',
            "item 1 (id 'a'): URL 'a.example/page' is not an absolute http:// or https:// URL",
        ),
        (
            '[{"id": "a", "URL": "https://a.example/", "accessed": {"date-parts": [[2021, 2, 30]]}}]',
            "item 1 (id 'a'): accessed '[2021, 2, 30]' is not a real day",
        ),
        (
            '[{"id": "a", "URL": "https://a.example/", "accessed": {"raw": "last week"}}]',
            "item 1 (id 'a'): accessed 'last week' is not a date",
        ),
        ("[" * 100_000 + "]" * 100_000, "x.json: not valid CSL-JSON: nested too deeply"),
    ],
)
def test_a_malformed_file_names_the_item_its_line_and_the_problem(text, named):
    with pytest.raises(SourceError) as raised:
        csljson.parse(text, "x.json")
    assert named in str(raised.value) and raised.value.exit_code == 3


def test_write_back_follows_zoteros_tab_layout_and_stays_valid_csl():
    article = csljson.parse(ZOTERO)
    copies = {c.id: copy_of(c.url) for c in article.citations}
    result = csljson.annotate(ZOTERO, copies)
    assert result.written == tuple(copies) and not result.left
    assert (
        '\t\t"issued": {\n\t\t\t"date-parts": [\n\t\t\t\t[\n\t\t\t\t\t"2022",\n\t\t\t\t\t7,\n\t\t\t\t\t19\n\t\t\t\t]\n\t\t\t]\n\t\t},\n'
        '\t\t"archive": "Internet Archive",\n'
        '\t\t"archive_location": "https://web.archive.org/web/20230201093000/https://www.morningledger.example/climate/2022/jul/19/river-temperatures-heatwave"\n'
        "\t},\n"
    ) in result.text
    items = json.loads(result.text)
    original = json.loads(ZOTERO)
    for before, after in zip(original, items, strict=True):
        added = set(after) - set(before)
        assert all(after[k] == v for k, v in before.items())
        assert added <= CSL_ARCHIVE_VARIABLES
        if before.get("URL"):
            assert after["archive_location"] == copies[before["id"].rsplit("/", 1)[-1]].capture_url
    assert [c.known_captures[0].url for c in csljson.parse(result.text).citations] == [
        copies[c.id].capture_url for c in article.citations
    ]


def test_a_one_line_item_gets_the_members_on_its_line():
    text = '[{"id": "a", "URL": "https://a.example/"}, {"id":"b","URL":"https://b.example/"}]\n'
    result = csljson.annotate(text, {"a": copy_of("https://a.example/"), "b": copy_of("https://b.example/")})
    assert result.text == (
        '[{"id": "a", "URL": "https://a.example/", "archive": "Internet Archive", '
        '"archive_location": "https://web.archive.org/web/20230201093000/https://a.example/"}, '
        '{"id":"b","URL":"https://b.example/","archive":"Internet Archive",'
        '"archive_location":"https://web.archive.org/web/20230201093000/https://b.example/"}]\n'
    )


def test_an_item_whose_archive_fields_are_taken_is_left_and_listed():
    text = json.dumps(
        [
            {
                "id": "held",
                "URL": "https://a.example/letter",
                "archive": "Bodleian Library",
                "archive_location": "MS 123",
            },
            {
                "id": "done",
                "URL": "https://a.example/done",
                "archive_location": "https://web.archive.org/web/2020/https://a.example/done",
            },
            {"id": "none", "URL": "https://a.example/none"},
        ],
        indent=2,
    )
    copies = {"held": copy_of("https://a.example/letter"), "done": copy_of("https://a.example/done")}
    result = csljson.annotate(text, copies)
    assert result.text == text
    assert {(x.id, x.reason) for x in result.left} == {
        ("held", LeftReason.FIELDS_TAKEN),
        ("done", LeftReason.ALREADY_ARCHIVED),
        ("none", LeftReason.NO_COPY),
    }


def test_a_bom_is_read_and_kept():
    text = '\ufeff[{"id": 7, "URL": "https://a.example/", "accessed": "2021-05-05"}]'
    article = csljson.parse(text)
    assert [(c.id, c.cited_at) for c in article.citations] == [("7", "2021-05-05")]
    assert csljson.annotate(text, {"7": copy_of("https://a.example/")}).text.startswith("\ufeff[{")


def test_bounds_on_items_are_named():
    items = json.dumps([{"id": str(i), "URL": f"https://a.example/{i}"} for i in range(4)])
    with pytest.raises(SourceError, match="4 citations, over the limit of 3"):
        csljson.parse(items, "x.json", Limits(max_citations=3))
