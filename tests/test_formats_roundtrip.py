"""Every format's write-back, on real-world files: the output re-imported gives the same citations,
a diff of input and output shows only the added archive data, and annotating twice changes nothing."""

from __future__ import annotations

import difflib
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archiver.formats import ArchivedCopy, Format, LeftReason, LinkStatus, annotate, parse
from archiver.formats.dates import DateStyle, write_date

DATA = Path(__file__).resolve().parent / "data"
SHARED_ARTICLE = Path(__file__).resolve().parent.parent.parent / "shared" / "article.txt"
FILES = [
    ("references.bib", Format.BIBTEX),
    ("zotero-export.json", Format.CSL_JSON),
    ("harrowgate-viaduct.wiki", Format.WIKITEXT),
    ("river-heat.md", Format.MARKDOWN),
    ("river-heat.html", Format.HTML),
]
STATUSES = [LinkStatus.LIVE, LinkStatus.DEAD, LinkStatus.USURPED]
# the only words a write-back adds besides URLs and dates
ARCHIVE_WORDS = {
    Format.BIBTEX: {"archiveurl", "archivedate"},
    Format.CSL_JSON: {"archive", "archive_location", "Internet", "Archive"},
    Format.WIKITEXT: {
        "archive-url",
        "archive-date",
        "url-status",
        "live",
        "dead",
        "usurped",
        "Webarchive",
        "url",
        "date",
    },
    Format.MARKDOWN: {"archived", "copy"},
    Format.HTML: {"data-originalurl", "data-versionurl", "data-versiondate"},
    Format.TEXT: {"archived", "copy"},
}


def load(name: str) -> str:
    if name == "article.txt":
        if not SHARED_ARTICLE.exists():
            pytest.skip(f"the shared article is not at {SHARED_ARTICLE}")
        return SHARED_ARTICLE.read_text("utf-8")
    return (DATA / name).read_text("utf-8")


def copies_for(text: str, name: str) -> dict[str, ArchivedCopy]:
    return {
        c.id: ArchivedCopy(
            f"https://web.archive.org/web/2024030{1 + i % 5}120000/{c.url}",
            datetime(2024, 3, 1 + i % 5, 12, tzinfo=UTC),
            c.url,
            STATUSES[i % 3],
        )
        for i, c in enumerate(parse(text, name).citations)
    }


def inserted_only(before: str, after: str) -> list[str]:
    """The pieces `after` adds to `before`; fails when anything of `before` was changed or removed."""
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    changed = [(tag, before[i1:i2], after[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]
    assert all(tag == "insert" for tag, _, _ in changed), [c for c in changed if c[0] != "insert"][:3]
    return [added for _, _, added in changed]


def identity(article):
    return [(c.id, c.url, c.cited_at, c.claim, c.title) for c in article.citations]


@pytest.mark.parametrize("name,fmt", [*FILES, ("article.txt", Format.TEXT)])
def test_annotated_output_reimports_to_the_same_citations_and_adds_only_archive_data(name, fmt):
    text = load(name)
    before = parse(text, name)
    assert before.format is fmt and before.citations
    copies = copies_for(text, name)
    result = annotate(text, copies, name)
    already = {c.id for c in before.citations if c.known_captures}
    assert set(result.written) == set(copies) - already
    assert {x.id for x in result.left} == already
    after = parse(result.text, name)
    assert identity(after) == identity(before)
    # every citation now names an archived copy: the one given for it, or the one it had
    for c in after.citations:
        assert c.known_captures
        if c.id not in already:
            assert copies[c.id].capture_url.replace("(", "%28").replace(")", "%29") in {k.url for k in c.known_captures}
    added = "".join(inserted_only(text, result.text))
    for cid in result.written:
        assert copies[cid].capture_url in added
    # nothing but archive data was added: removing every capture URL and date leaves only the format's markup
    leftover = added
    for copy in copies.values():
        leftover = leftover.replace(copy.capture_url, "").replace(copy.original_url, "")  # Robust Links repeat it
        for style in DateStyle:
            leftover = leftover.replace(write_date(copy.captured_at.date(), style), "")
    assert not any(ch.isdigit() for ch in leftover), leftover[:300]
    assert set(re.findall(r"[A-Za-z][A-Za-z_-]*", leftover)) <= ARCHIVE_WORDS[fmt], leftover[:300]
    # annotating twice changes nothing
    again = annotate(result.text, copies, name)
    assert again.text == result.text and again.written == ()
    assert {x.reason for x in again.left} == {LeftReason.ALREADY_ARCHIVED}


@pytest.mark.parametrize("name,fmt", FILES)
def test_citations_without_a_copy_are_left_and_listed_and_nothing_changes(name, fmt):
    text = load(name)
    result = annotate(text, {}, name)
    assert result.text == text and result.written == ()
    assert [x.id for x in result.left] == [c.id for c in parse(text, name).citations]


def test_half_the_copies_write_half_the_citations():
    text = load("references.bib")
    copies = copies_for(text, "references.bib")
    chosen = dict(list(copies.items())[::2])
    result = annotate(text, chosen, "references.bib")
    assert set(result.written) == set(chosen)
    assert {x.id for x in result.left} == set(copies) - set(chosen)
    inserted_only(text, result.text)


def test_wikitext_templates_only_change_the_bare_links_they_convert():
    text = load("harrowgate-viaduct.wiki")
    copies = copies_for(text, "w.wiki")
    result = annotate(text, copies, "w.wiki", templates=True)
    before, after = parse(text, "w.wiki"), parse(result.text, "w.wiki")
    assert [(c.id, c.url, c.cited_at, c.claim) for c in after.citations] == [
        (c.id, c.url, c.cited_at, c.claim) for c in before.citations
    ]
    changed = [
        (text[i1:i2], result.text[j1:j2])
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, text, result.text, autojunk=False).get_opcodes()
        if tag in ("replace", "delete")
    ]
    # the one bare link that is all its ref holds became a template; the link with prose after it did not
    assert result.text.count("{{cite web |url=https://www.railwaymagazine.example/news/harrowgate-deck-resurfaced") == 1
    assert "[https://www.bbc.co.uk/news/uk-england-york-north-yorkshire-48612345 " in result.text
    assert all(
        "railwaymagazine.example/news/harrowgate-deck-resurfaced" in old or not old.strip() for old, _ in changed
    )
