"""Decoding as browsers do (issue 16, item 11): a byte-order mark, then a declared charset that
decodes cleanly, then detection; each case through a real pass against a real server, and as a table."""

from __future__ import annotations

import pytest
from conftest import write_sources
from simweb import LOREM, Response, article

from archiver import Store, run_check
from archiver.extract import decode, extract

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
