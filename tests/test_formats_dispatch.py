"""Picking the format of a file (by extension, else by content), reading a file within its bound,
and what every format yields fitting the citation list."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from archiver.errors import SourceError
from archiver.formats import Format, Limits, detect_format, parse, read_article
from archiver.sources import parse_sources

DATA = Path(__file__).resolve().parent / "data"
FILES = {
    "references.bib": Format.BIBTEX,
    "zotero-export.json": Format.CSL_JSON,
    "harrowgate-viaduct.wiki": Format.WIKITEXT,
    "river-heat.md": Format.MARKDOWN,
    "river-heat.html": Format.HTML,
}


@pytest.mark.parametrize("name,fmt", FILES.items())
def test_the_extension_names_the_format_and_the_content_does_without_it(name, fmt):
    text = (DATA / name).read_text("utf-8")
    assert detect_format(text, name) is fmt
    assert detect_format(text, "") is fmt  # pasted, or saved as .txt
    assert detect_format(text, "export.txt") is fmt


@pytest.mark.parametrize(
    "name,fmt",
    [
        ("refs.BIB", Format.BIBTEX),
        ("library.csl.json", Format.CSL_JSON),
        ("Article.mediawiki", Format.WIKITEXT),
        ("post.markdown", Format.MARKDOWN),
        ("page.xhtml", Format.HTML),
    ],
)
def test_extensions_are_case_blind(name, fmt):
    assert detect_format("", name) is fmt


def test_plain_text_stays_plain_text():
    text = "Troops were sent[1].\n[1] https://a.example/one\n"
    assert detect_format(text, "article.txt") is Format.TEXT
    assert parse(text, "article.txt").format is Format.TEXT


@pytest.mark.parametrize(
    "text",
    [
        "Write to press@a.example {or call}.\n[1] https://a.example/\n",
        "@john (the editor) wrote it[1].\n[1] https://a.example/\n",
    ],
)
def test_an_email_address_or_a_mention_is_not_bibtex(text):
    assert detect_format(text) is Format.TEXT


@pytest.mark.parametrize("name", FILES)
def test_every_citation_of_every_format_is_a_row_sources_csv_accepts(name):
    article = parse((DATA / name).read_text("utf-8"), name)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "url", "claim", "cited_at"])
    for c in article.as_import_result().citations:
        writer.writerow([c.id, c.url, c.claim, c.cited_at])
    rows = parse_sources(out.getvalue().encode("utf-8"), name)
    assert [(r.id, r.url, r.cited_at) for r in rows] == [(c.id, c.url, c.cited_at) for c in article.citations]


def test_reading_a_file_is_bounded_before_it_is_read(tmp_path):
    big = tmp_path / "big.bib"
    big.write_bytes(b"%" * 2001)
    with pytest.raises(SourceError, match="over the limit of 2,000 bytes"):
        read_article(big, Limits(max_bytes=2000))
    assert read_article(big, Limits(max_bytes=2001)) == "%" * 2001


def test_reading_a_file_names_what_is_wrong_with_it(tmp_path):
    latin1 = tmp_path / "refs.bib"
    latin1.write_bytes("@online{a,\n  title = {Qualité}}\n".encode("latin-1"))
    with pytest.raises(SourceError, match=r"refs\.bib:2: not UTF-8 \(byte 0xe9\)"):
        read_article(latin1)
    with pytest.raises(SourceError, match="cannot read"):
        read_article(tmp_path / "missing.json")
    bom = tmp_path / "bom.wiki"
    bom.write_bytes("\ufeffText.<ref>https://a.example/</ref>".encode())
    assert read_article(bom).startswith("Text.")
