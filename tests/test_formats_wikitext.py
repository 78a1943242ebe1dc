"""Wikitext: cite templates and bare links in <ref> tags become citations (ref name as id,
access-date as cited_at, the sentence a ref closes as claim); archived copies are written back as
InternetArchiveBot writes them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from archiver.errors import SourceError
from archiver.formats import ArchivedCopy, LeftReason, LinkStatus, wikitext

DATA = Path(__file__).resolve().parent / "data"
ARTICLE = (DATA / "harrowgate-viaduct.wiki").read_text("utf-8")
WHEN = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def copy_of(url: str, status: LinkStatus = LinkStatus.LIVE) -> ArchivedCopy:
    return ArchivedCopy(f"https://web.archive.org/web/20240301120000/{url}", WHEN, url, status)


def test_a_wikipedia_article_gives_its_web_citations_once_each():
    article = wikitext.parse(ARTICLE, "harrowgate-viaduct.wiki")
    got = [(c.id, c.source, c.cited_at, c.line) for c in article.citations]
    assert got == [
        ("HE-listing", "cite web", "2018-03-03", 16),  # accessdate (old alias), mdy
        ("gazette-reopening", "cite news", "2019-06-20", 16),  # used again later as <ref name=… />
        ("u-79d8eacb", "cite book", "2021-02-02", 19),  # the cite book without url before it is no web citation
        ("u-3aa02e42", "link", "", 19),  # [url label] with text after it
        ("gov-heritage", "cite web", "2012-01-12", 21),  # already archived
        ("u-0678df86", "link", "", 21),  # bare link + {{webarchive}}
        ("0", "cite magazine", "2015-04-09", 24),  # VisualEditor's name ":0"
        ("u-6d07d448", "cite press release", "2017-03-10", 24),  # ISO access-date
        ("u-3e3d62d4", "link", "", 24),  # a plain URL in a ref
        ("ice", "cite journal", "2019-01-15", 26),  # one parameter a line
        ("u-c8cfeec1", "citation", "2021-02-01", 45),
        ("Ure-Valley-Way", "cite web", "2021-05-05", 45),  # the same URL in a second ref: one citation
        ("ldr", "cite web", "2021-05-01", 49),  # list-defined in {{Reflist|refs=}}
        ("u-b76b050e", "cite web", "", 54),  # a cite template outside any ref
    ]
    by_id = article.by_id()
    assert by_id["HE-listing"].url == "https://historicengland.example.org.uk/listing/the-list/list-entry/1190321"
    assert by_id["HE-listing"].claim == (
        "The Harrowgate Viaduct is a masonry railway viaduct of 21 arches that carries the former "
        "Harrowgate and Ledsham Railway over the River Ure near Harrowgate."
    )
    assert by_id["u-6d07d448"].claim == (
        "Repairs to the 21 arches cost £4.2 million, of which the National Lottery Heritage Fund gave £2.9 million."
    )
    assert by_id["ldr"].claim == "The viaduct is now listed at Grade II*."  # from where the named ref is used
    assert by_id["u-b76b050e"].claim == ""
    assert by_id["u-3aa02e42"].title == '"The navvies who built the dales railways"'
    assert len(by_id["Ure-Valley-Way"].spans) == 2
    assert by_id["gov-heritage"].known_captures[0].url.startswith("https://web.archive.org/web/20120115093000/")
    assert (by_id["gov-heritage"].known_captures[0].date, by_id["gov-heritage"].known_captures[0].status) == (
        "2012-01-15",
        "dead",
    )
    assert by_id["u-0678df86"].known_captures[0].date == "2009-03-01"
    urls = {c.url for c in article.citations}
    assert "https://removed-source.example/page" not in urls  # inside an HTML comment
    assert "https://www.harrowgate-viaduct.example/" not in urls  # external links and infobox: no citations
    for c in article.citations:
        assert ARTICLE[c.spans[0].start : c.spans[0].end].startswith(("{{", "[", "http"))


def test_write_back_adds_archive_parameters_in_each_templates_own_layout():
    article = wikitext.parse(ARTICLE)
    copies = {c.id: copy_of(c.url) for c in article.citations}
    copies["0"] = copy_of(article.by_id()["0"].url, LinkStatus.DEAD)
    copies["ice"] = copy_of(article.by_id()["ice"].url, LinkStatus.USURPED)
    result = wikitext.annotate(ARTICLE, copies)
    out = result.text
    # {{Use dmy dates}}: dates as "1 March 2024"; compact layout stays compact
    assert (
        "|accessdate=March 3, 2018|archive-url=https://web.archive.org/web/20240301120000/"
        "https://historicengland.example.org.uk/listing/the-list/list-entry/1190321|archive-date=1 March 2024"
        "|url-status=live}}</ref>"
    ) in out
    assert (
        " |access-date=9 April 2015 |archive-url=https://web.archive.org/web/20240301120000/"
        "https://www.railwaymagazine.example/features/the-one-pound-viaduct |archive-date=1 March 2024 |url-status=dead}}"
    ) in out
    # one parameter a line: the empty archive parameters are filled, url-status follows in the same layout
    assert (
        " | access-date = 2019-01-15\n"
        " | archive-url = https://web.archive.org/web/20240301120000/https://www.icevirtuallibrary.example/doi/full/10.1680/jenhh.17.00012\n"
        " | archive-date = 1 March 2024\n"
        " | url-status = usurped\n"
        "}}</ref>"
    ) in out
    # bare links get a {{Webarchive}} right after them, inside their ref
    assert (
        '"The navvies who built the dales railways"] {{Webarchive |url=https://web.archive.org/web/20240301120000/'
        "https://www.bbc.co.uk/news/uk-england-york-north-yorkshire-48612345 |date=1 March 2024}}, BBC News, 2 May 2019.</ref>"
    ) in out
    assert (
        "<ref>https://www.railwaymagazine.example/news/harrowgate-deck-resurfaced {{Webarchive |url=https://web.archive.org/"
        "web/20240301120000/https://www.railwaymagazine.example/news/harrowgate-deck-resurfaced |date=1 March 2024}}</ref>"
    ) in out
    assert out.count("https://web.archive.org/web/20240301120000/https://www.walkingyorkshire.example/") == 2
    assert set(result.written) == set(copies) - {"gov-heritage", "u-0678df86"}
    assert {(x.id, x.reason) for x in result.left} == {
        ("gov-heritage", LeftReason.ALREADY_ARCHIVED),
        ("u-0678df86", LeftReason.ALREADY_ARCHIVED),
    }
    assert "|archive-date=15 January 2012 |url-status=dead}}" in out  # the bot's earlier work untouched


@pytest.mark.parametrize(
    "use,access_date,written",
    [
        ("{{Use mdy dates|date=May 2021}}\n", "5 May 2021", "March 1, 2024"),  # the article's style wins
        ("", "May 5, 2021", "March 1, 2024"),  # else the template's access-date style
        ("", "5 May 2021", "1 March 2024"),
        ("", "2021-05-05", "2024-03-01"),
        ("", "", "2024-03-01"),  # else ISO
    ],
)
def test_the_archive_date_follows_the_articles_date_style(use, access_date, written):
    text = f"{use}Text.<ref>{{{{cite web |url=https://a.example/ |title=A |access-date={access_date}}}}}</ref>\n"
    out = wikitext.annotate(text, {"u-" + _hash("https://a.example/"): copy_of("https://a.example/")}).text
    assert f" |archive-date={written} |url-status=live}}}}" in out


def _hash(url: str) -> str:
    from archiver.formats.records import link_id

    return link_id(url).removeprefix("u-")


def test_an_existing_url_status_takes_the_verdict():
    text = "X.<ref>{{cite web |url=https://a.example/ |title=A |url-status=live}}</ref>"
    cid = "u-" + _hash("https://a.example/")
    out = wikitext.annotate(text, {cid: copy_of("https://a.example/", LinkStatus.DEAD)}).text
    assert out == (
        "X.<ref>{{cite web |url=https://a.example/ |title=A |url-status=dead"
        " |archive-url=https://web.archive.org/web/20240301120000/https://a.example/ |archive-date=2024-03-01}}</ref>"
    )


def test_templates_true_turns_a_bare_link_ref_into_a_cite_web():
    text = (
        "A.<ref>[https://a.example/story The story]</ref> B.<ref name=b>https://b.example/</ref>"
        " C.<ref>[https://c.example/ C], 2020.</ref>\n"
    )
    article = wikitext.parse(text)
    copies = {c.id: copy_of(c.url, LinkStatus.DEAD) for c in article.citations}
    out = wikitext.annotate(text, copies, templates=True).text
    assert out == (
        "A.<ref>{{cite web |url=https://a.example/story |title=The story |archive-url=https://web.archive.org/web/"
        "20240301120000/https://a.example/story |archive-date=2024-03-01 |url-status=dead}}</ref>"
        " B.<ref name=b>{{cite web |url=https://b.example/ |title=Archived copy |archive-url=https://web.archive.org/"
        "web/20240301120000/https://b.example/ |archive-date=2024-03-01 |url-status=dead}}</ref>"
        # a link with more text in its ref stays a link: the ref is the author's prose
        " C.<ref>[https://c.example/ C] {{Webarchive |url=https://web.archive.org/web/20240301120000/https://c.example/"
        " |date=2024-03-01}}, 2020.</ref>\n"
    )
    again = wikitext.parse(out)
    assert [(c.id, c.url, c.claim) for c in again.citations] == [(c.id, c.url, c.claim) for c in article.citations]


def test_a_bad_access_date_or_url_is_named_with_its_line():
    text = (
        "One.<ref>{{cite web |url=https://a.example/ |access-date=yesterday}}</ref>\n"
        "Two.<ref>{{cite news |url=www.b.example/page |title=B}}</ref>\n"
        "Three.<ref>{{cite web |url=https://c.example/ |access-date=31 February 2021}}</ref>\n"
    )
    with pytest.raises(SourceError) as raised:
        wikitext.parse(text, "bad.wiki")
    message = str(raised.value)
    assert "bad.wiki:1: {{cite web}} https://a.example/: access-date 'yesterday' is not a date" in message
    assert "bad.wiki:2: {{cite news}}: url 'www.b.example/page' is not an absolute http:// or https:// URL" in message
    assert "bad.wiki:3: {{cite web}} https://c.example/: access-date '31 February 2021' is not a real day" in message


def test_protocol_relative_and_other_schemes_are_warnings():
    text = (
        "A.<ref>{{cite web |url=//www.a.example/page |title=A}}</ref>"
        " B.<ref>{{cite web |url=ftp://ftp.b.example/file.pdf |title=B}}</ref>"
        " C.<ref>[mailto:press@c.example Press office]</ref>"
    )
    article = wikitext.parse(text)
    assert [c.url for c in article.citations] == ["https://www.a.example/page"]
    kinds = [w.kind for w in article.warnings]
    assert "protocol_relative" in kinds and "not_http" in kinds


def test_a_wikitext_file_over_the_bound_is_refused():
    from archiver.formats import Limits

    with pytest.raises(SourceError, match="over the limit of 1,000"):
        wikitext.parse("x" * 1001, "big.wiki", Limits(max_bytes=1000))


def test_url_aliases_and_template_made_urls():
    text = (
        "A.<ref>{{Cite_Web |URL=https://a.example/ |title=A}}</ref>"
        " B.<ref>{{cite book |url={{Google books|abc|page=12}} |title=B}}</ref>\n"
    )
    article = wikitext.parse(text)
    assert [(c.url, c.source) for c in article.citations] == [("https://a.example/", "cite web")]
    assert any(w.kind == "not_http" and "made by a template" in w.message for w in article.warnings)


def test_a_ref_inside_a_note_template_is_read_with_its_bare_link():
    text = "Claim.{{efn|A note.<ref>[https://a.example/note The note]</ref>}}\n"
    article = wikitext.parse(text)
    assert [(c.url, c.title, c.source) for c in article.citations] == [("https://a.example/note", "The note", "link")]
