"""Decoding as browsers do (issue 16, item 11): a byte-order mark, then a declared charset that
decodes cleanly, then detection; each case through a real pass against a real server, and as a table."""

from __future__ import annotations

import pytest
from conftest import write_sources
from simweb import LOREM, Response, article
from trafilatura.utils import load_html

from archiver import Store, run_check
from archiver.extract import decode, extract, parse_html

SENTENCE = "Le café coûte cher à Zürich, où les terrasses débordent en été comme en hiver."
PAGE = article("Café crème", SENTENCE, *LOREM)
UNLABELLED = PAGE.replace('<meta charset="utf-8">', "")

CASES = {
    "latin-1 labelled UTF-8": (PAGE.encode("latin-1"), "text/html; charset=utf-8"),
    "latin-1 unlabelled": (UNLABELLED.encode("latin-1"), "text/html"),
    "latin-1 declared": (UNLABELLED.encode("latin-1"), "text/html; charset=iso-8859-1"),
    "UTF-16 declared, no BOM": (UNLABELLED.encode("utf-16-le"), "text/html; charset=utf-16"),
    "UTF-16BE declared, no BOM": (UNLABELLED.encode("utf-16-be"), "text/html; charset=utf-16"),
    "UTF-16 with a BOM, unlabelled": (UNLABELLED.encode("utf-16"), "text/html"),
    "UTF-8 BOM over a wrong label": (b"\xef\xbb\xbf" + PAGE.encode("utf-8"), "text/html; charset=iso-8859-1"),
    "a NUL byte in UTF-8": (PAGE.replace("Zürich,", "Zürich,\x00").encode("utf-8"), "text/html; charset=utf-8"),
    "windows-1252 quotes": (UNLABELLED.replace("hiver.", "hiver “déjà”.").encode("cp1252"), "text/html"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_decode_reads_each_encoding_right(case):
    body, content_type = CASES[case]
    text = decode(body, content_type)
    assert SENTENCE.removesuffix(".") in text and "\x00" not in text
    extraction = extract(body, "http://news.test/a", content_type)
    assert extraction.words > 100 and "Zürich" in extraction.text, extraction.note


def test_binary_is_still_binary_but_a_stray_nul_is_not():
    noise = bytes(range(256)) * 40
    assert extract(noise, "", "text/html").note == "binary body; content kept as raw bytes"
    body, content_type = CASES["a NUL byte in UTF-8"]
    assert extract(body, "", content_type).note == ""


def test_each_page_is_stored_as_its_text_not_mojibake_nor_binary(web, settings):
    rows = []
    for n, (body, content_type) in enumerate(CASES.values()):
        rows.append({"id": str(n), "url": web.set(f"/p{n}", Response(200, body, {"Content-Type": content_type}))})
    write_sources(settings.sources, rows)
    summary = run_check(settings)
    assert all(c.new_version for c in summary.checks)
    with Store.open(settings.data_dir) as store:
        for row, case in zip(rows, CASES, strict=True):
            (version,) = store.versions(row["id"])
            text = store.read_text(version)
            assert SENTENCE.removesuffix(".") in text, (case, text[:200])
            assert version.words > 100 and not version.hash.startswith("raw-"), case


@pytest.mark.parametrize(
    "text,codec",
    [
        ("Władze miasta ogłosiły, że ścieżki rowerowe będą zamknięte aż do środy, bo trwają prace.", "cp1250"),
        ("Войска были переброшены в Курскую область, заявили официальные лица в Сеуле.", "cp1251"),
    ],
)
def test_leaning_to_windows_1252_still_lets_detection_read_other_codepages(text, codec):
    body = f"<html><body><p>{text}</p></body></html>".encode(codec)
    assert text in decode(body, "text/html")


# --- what extraction returns: never None, always a reason when there is no text --------------------


@pytest.mark.parametrize(
    "body,content_type,note",
    [
        (b"", "text/html", "empty body"),
        (b"   \n", "text/html", "empty body"),
        (b"%PDF-1.7\n...", "text/html", "binary body; content kept as raw bytes"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "image/png", "not HTML (image/png); content kept as raw bytes"),
        (bytes(range(32)) * 200, "text/html", "binary body; content kept as raw bytes"),
        (
            b"<html><head><title>x</title></head><body><script>app()</script></body></html>",
            "text/html",
            "no main text found",
        ),
    ],
)
def test_a_page_without_text_says_why(body, content_type, note):
    extraction = extract(body, "https://a.example/", content_type)
    assert extraction.text == "" and not extraction.extracted and extraction.note == note


def test_an_article_gives_its_text_title_author_date_and_language():
    extraction = extract(PAGE.encode("utf-8"), "https://a.example/cafe", "text/html; charset=utf-8")
    assert extraction.extracted and extraction.note == ""
    assert SENTENCE in extraction.text and LOREM[0] in extraction.text
    assert extraction.title == "Café crème" and extraction.author == "Jane Reporter"
    assert extraction.date == "2025-04-28" and extraction.language == "en"
    assert extraction.words == len(extraction.text.split())
    assert "\n\n" not in extraction.text and not any(line != line.strip() for line in extraction.text.split("\n"))


def test_plain_text_is_its_own_text_normalised_one_paragraph_a_line():
    extraction = extract("Le café   coûte cher.\r\n\r\n  Les terrasses débordent.  ".encode(), "", "text/plain")
    assert extraction.text == "Le café coûte cher.\nLes terrasses débordent." and extraction.extracted


@pytest.mark.parametrize(
    "text,html,language",
    [
        (" ".join(LOREM), "", "en"),
        ("Le gouvernement a annoncé que les troupes de la région sont arrivées dans la ville pour la fête.", "", "fr"),
        ("Die Regierung hat mitgeteilt, dass die Truppen in der Region sind und auch nicht zurück kommen.", "", "de"),
        ("ok", '<html lang="pt-BR"><body>ok</body></html>', "pt"),  # too little text: the page's own lang
        ("ok", "", ""),
        # words of several languages count for each: "el", "y", "con" make it Spanish ...
        ("la de que la de que el y con la de que", "", "es"),
        # ... and a tie (French and Spanish both read "la de que") goes to the first in the table
        ("la de que la de que", "", "fr"),
    ],
)
def test_the_language_is_read_from_function_words_else_from_the_page(text, html, language):
    from archiver.extract import guess_language

    assert guess_language(text, html) == language


# The service parses each page once (`parse_html`, with a parser of its own whose elements lxml makes
# without calling Python) and hands that tree to trafilatura: what it extracts must be what trafilatura
# gives from the page's text with its own parser. Pages with what that parser treats apart: forms
# (lxml.html's own element classes), an XML declaration (a text lxml refuses to parse as such), a
# fragment without <html>, comments and processing instructions (dropped by both parsers).
FORM = article("Café crème", SENTENCE, *LOREM).replace(
    "</article>",
    '<form action="/s"><label>Mail <input name="m"></label><select name="c"><option>a</option></select>'
    "<textarea name=t>Say</textarea><button>Go</button></form></article>",
)
SAME_EXTRACTION = {
    "an article": PAGE,
    "an article with a form": FORM,
    "an XML declaration": '<?xml version="1.0" encoding="utf-8"?>\n' + PAGE,
    "comments and a processing instruction": PAGE.replace("<article>", "<!-- ad slot --><?php x ?><article>").replace(
        "Zürich, où", "Zürich,<!-- ad --> <?ad x ?>où"
    ),
    "a fragment": "<div><p>" + " ".join(LOREM) + "</p></div>",
    "a table": PAGE.replace("</article>", "<table><tr><td>Figure</td><td>42 %</td></tr></table></article>"),
}


@pytest.mark.parametrize("case", list(SAME_EXTRACTION))
def test_the_services_own_parse_gives_what_trafilatura_extracts_from_the_text(case):
    body = SAME_EXTRACTION[case].encode("utf-8")
    content_type = "text/html; charset=utf-8"
    from_text = extract(body, "https://a.example/cafe", content_type)
    html, tree = parse_html(body, content_type)
    assert (tree is None) == (load_html(html) is None) == (case == "a fragment")  # trafilatura's rule
    assert extract(body, "https://a.example/cafe", content_type, (html, tree)) == from_text
    assert from_text.extracted or case == "a fragment"
