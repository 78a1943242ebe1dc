"""Markdown, HTML and plain-text articles: read as `archiver import` reads them, and written back
with an "archived copy" link (Markdown, text) or the Robust Links attributes (HTML)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from archiver.formats import ArchivedCopy, LeftReason, html, markdown, plaintext
from archiver.formats.html import read_citations as parse_html_article
from archiver.formats.markdown import read_citations as parse_markdown_article

DATA = Path(__file__).resolve().parent / "data"
WHEN = datetime(2023, 2, 1, 9, 30, tzinfo=UTC)


def copy_of(url: str) -> ArchivedCopy:
    return ArchivedCopy(f"https://web.archive.org/web/20230201093000/{url}", WHEN, url)


def test_markdown_reads_what_the_article_importer_reads():
    text = (DATA / "river-heat.md").read_text("utf-8")
    expected = parse_markdown_article(text)
    article = markdown.parse(text)
    assert [c.as_citation() for c in article.citations] == expected.citations
    assert [c.source for c in article.citations] == ["footnote"] * 3 + ["link"] * 3


def test_markdown_footnotes_and_links_get_an_archived_copy_link_with_its_date():
    text = (
        "Rivers warmed.[^1] See the [report](https://a.example/report) and <https://b.example/data>.\n"
        "\n"
        "[^1]: Okonkwo, *Ledger*, https://c.example/story  \n"
    )
    copies = {c.id: copy_of(c.url) for c in markdown.parse(text).citations}
    result = markdown.annotate(text, copies)
    assert result.text == (
        "Rivers warmed.[^1] See the [report](https://a.example/report) ([archived copy]"
        "(https://web.archive.org/web/20230201093000/https://a.example/report), 2023-02-01) and "
        "<https://b.example/data> ([archived copy](https://web.archive.org/web/20230201093000/https://b.example/data), "
        "2023-02-01).\n"
        "\n"
        "[^1]: Okonkwo, *Ledger*, https://c.example/story ([archived copy](https://web.archive.org/web/20230201093000/"
        "https://c.example/story), 2023-02-01)  \n"
    )
    assert markdown.parse(result.text).citations[1].known_captures[0].date == "2023-02-01"
    # the importer itself would take the archive links for new citations: the annotation is set aside on reading
    assert len(parse_markdown_article(result.text).citations) > len(markdown.parse(result.text).citations)


def test_a_capture_url_with_parentheses_cannot_break_the_markdown_link():
    text = "A river.[^1]\n\n[^1]: https://en.wikipedia.example/wiki/Ure_(river)\n"
    url = "https://en.wikipedia.example/wiki/Ure_(river)"
    assert [c.url for c in markdown.parse(text).citations] == [url]
    out = markdown.annotate(text, {"1": ArchivedCopy(f"https://web.archive.org/web/2023/{url}", WHEN, url)}).text
    assert out.endswith(
        "[^1]: https://en.wikipedia.example/wiki/Ure_(river) ([archived copy]"
        "(https://web.archive.org/web/2023/https://en.wikipedia.example/wiki/Ure_%28river%29), 2023-02-01)\n"
    )
    assert [(c.id, c.url) for c in markdown.parse(out).citations] == [("1", url)]


def test_html_links_get_robust_links_attributes_and_nothing_else_changes():
    text = (DATA / "river-heat.html").read_text("utf-8")
    article = html.parse(text)
    assert [c.as_citation() for c in article.citations] == parse_html_article(text).citations
    copies = {c.id: copy_of(c.url) for c in article.citations}
    out = html.annotate(text, copies).text
    report = "https://www.gov.example/government/publications/water-temperature-monitoring-2000-2021"
    assert (
        f'<a href="{report}" target="_blank" rel="noopener" data-originalurl="{report}" '
        f'data-versionurl="https://web.archive.org/web/20230201093000/{report}" data-versiondate="2023-02-01">report</a>'
    ) in out
    # the same URL in the site navigation is no citation link: left alone
    assert f'<li><a href="{report}">Our sources</a></li>' in out
    # unquoted, single-quoted and self-closing tags keep their own syntax
    assert (
        "<a href=https://www.lequotidienducentre.example/environnement/canicule-la-loire-a-son-plus-bas-niveau-depuis-1976_4523.html data-originalurl="
        in out
    )
    assert "<a href='https://blog.riverfly.example/2022/08/mayfly-counts-july-heat/' data-originalurl=" in out
    assert 'data-versiondate="2023-02-01"/>Thermal tolerance' in out
    # a footnote's link (reached through its marker) is the citation's link
    assert (
        'href="https://www.morningledger.example/climate/2022/jul/19/river-temperatures-heatwave" data-originalurl='
        in out
    )


def test_html_keeps_an_authors_own_robust_links():
    text = (
        '<article><p>Claim <a href="https://a.example/" data-originalurl="https://a.example/">A</a>.'
        ' Other <a href="https://b.example/" data-versionurl="https://web.archive.org/web/2020/https://b.example/"'
        ' data-versiondate="2020-01-01">B</a>.</p></article>'
    )
    article = html.parse(text)
    copies = {c.id: copy_of(c.url) for c in article.citations}
    result = html.annotate(text, copies)
    assert result.text.count("data-originalurl") == 1  # A's own attribute kept, not doubled
    assert (
        'data-originalurl="https://a.example/" data-versionurl="https://web.archive.org/web/20230201093000/'
        in result.text
    )
    assert [(x.url, x.reason) for x in result.left] == [("https://b.example/", LeftReason.ALREADY_ARCHIVED)]
    assert html.parse(result.text).citations[1].known_captures[0].date == "2020-01-01"


def test_a_plain_text_reference_gets_its_archived_copy_at_the_end_of_its_line():
    text = "Troops were sent[1]. It was costly[2].\n[1] https://a.example/one\n[2] https://b.example/two \n"
    copies = {"1": copy_of("https://a.example/one")}
    result = plaintext.annotate(text, copies)
    assert result.text == (
        "Troops were sent[1]. It was costly[2].\n"
        "[1] https://a.example/one (archived copy: https://web.archive.org/web/20230201093000/https://a.example/one, 2023-02-01)\n"
        "[2] https://b.example/two \n"
    )
    assert [(x.id, x.reason) for x in result.left] == [("2", LeftReason.NO_COPY)]
    assert [c.url for c in plaintext.parse(result.text).citations] == ["https://a.example/one", "https://b.example/two"]
