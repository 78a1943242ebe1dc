"""The re-check fast path (archiver.region) on real pages: the shared corpus served again with fresh
boilerplate (a request id and nonce, an empty ad container inside the article, ad slots, teasers in
a new order, a "generated at" time), some articles really edited, some pages changed in structure.
The fast path must be taken where only the boilerplate changed, and must never store anything else
than a full extraction stores: both roads run on the same answers and their versions are compared."""

from __future__ import annotations

import csv
import random
import re
import sqlite3
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import write_sources
from simweb import Response

from archiver import run_check
from archiver.analysis import Held, analyse
from archiver.extract import parse_html
from archiver.models import FetchResult, Outcome
from archiver.region import Region, holds, locate
from archiver.store import Store, content_hash

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
pytestmark = pytest.mark.skipif(
    not (CORPUS / "labels.csv").exists(),
    reason=f"the shared corpus is not at {CORPUS} (it lives beside the repository)",
)
T = datetime(2026, 1, 1, tzinfo=UTC)
_BODY_CLOSE = re.compile(rb"</body\s*>", re.I)
_HEAD_OPEN = re.compile(rb"<head\b[^>]*>", re.I)
_P_OPEN = re.compile(rb"<p[\s>]", re.I)


@dataclass(frozen=True)
class Page:
    file: str
    body: bytes


def articles() -> list[Page]:
    with (CORPUS / "labels.csv").open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["kind"] in ("free_article", "paywalled_article")]
    return [Page(r["file"], (CORPUS / "pages" / r["file"]).read_bytes()) for r in sorted(rows, key=lambda r: r["file"])]


def with_boilerplate(body: bytes, rng: random.Random) -> bytes:
    """The page as a site serves it on another request: nothing a reader takes for the article differs."""
    nonce = f"{rng.getrandbits(64):016x}"
    head = _HEAD_OPEN.search(body)
    at = head.end() if head else 0
    body = (
        body[:at] + f'<meta name="request-id" content="{nonce}"><script>var rid="{nonce}"</script>'.encode() + body[at:]
    )
    paragraphs = [m.start() for m in _P_OPEN.finditer(body)]
    if paragraphs:  # an empty ad container inside the article, waiting for its script
        at = paragraphs[len(paragraphs) // 2]
        body = body[:at] + f'<div class="ad-container" id="ad-{nonce[:8]}"></div>'.encode() + body[at:]
    teasers = "".join(
        f'<li><a href="/promo/{rng.randrange(10**6)}">Story {n}</a></li>' for n in rng.sample(range(9), 9)
    )
    tail = f'<aside class="more"><ul>{teasers}</ul></aside><div class="gen">Generated {nonce[:6]}</div>'.encode()
    closes = list(_BODY_CLOSE.finditer(body))
    at = closes[-1].start() if closes else len(body)
    return body[:at] + tail + body[at:]


def edited(body: bytes, text: str) -> bytes | None:
    """The page with one paragraph of its article really changed (a sentence appended)."""
    for line in text.splitlines():
        if len(line.split()) >= 12:
            needle = line[-40:].encode("utf-8")
            if body.count(needle) >= 1:
                return body.replace(needle, needle + b" A correction was appended here.", 1)
    return None


def restructured(body: bytes, text: str) -> bytes | None:
    """The page with a block added beside the article's paragraphs (an update box)."""
    for line in text.splitlines()[1:]:
        needle = line[-40:].encode("utf-8")
        at = body.find(needle)
        end = body.find(b"</p>", at) if at != -1 else -1
        if end != -1:
            end += len(b"</p>")
            return (
                body[:end] + b'<div class="update"><p>Update: the council met again on Tuesday.</p></div>' + body[end:]
            )
    return None


def answer(body: bytes) -> FetchResult:
    return FetchResult(
        "http://news.test/a", Outcome.OK, T, "http://news.test/a", 200, (("Content-Type", "text/html"),), body
    )


def held_after(first: bytes) -> Held | None:
    """What a citation holds after a full extraction of `first`: None when no region was kept."""
    analysis = analyse(answer(first), [])
    if analysis.extraction is None or not analysis.region:
        return None
    return Held(frozenset({content_hash(analysis.extraction, first)}), analysis.extraction, analysis.region)


@pytest.fixture(scope="module")
def pages() -> list[tuple[Page, Held]]:
    rng = random.Random(18)
    kept = [(page, held_after(with_boilerplate(page.body, rng))) for page in articles()]
    return [(page, held) for page, held in kept if held is not None]


def test_most_real_articles_have_a_region_and_it_is_found_again(pages):
    """The fast path applies to most real articles (short texts and pages whose text the markup does
    not hold as such are left to full extraction, which is always right)."""
    assert len(pages) >= 20, [p.file for p, _ in pages]
    for _page, held in pages:
        region = Region.decode(held.region)
        assert region is not None and Region.decode(region.encode()) == region


def test_boilerplate_only_answers_take_the_fast_path_and_give_the_full_extraction_text(pages):
    rng = random.Random(7)
    fast = 0
    for page, held in pages:
        again = answer(with_boilerplate(page.body, rng))
        quick, full = analyse(again, [], held), analyse(again, [])
        assert quick.extraction is not None and full.extraction is not None
        assert content_hash(quick.extraction, again.body) == content_hash(full.extraction, again.body), page.file
        assert quick.packed is None and quick.boilerplate == frozenset()  # a version held: nothing to store
        fast += quick.fast
    assert fast == len(pages)  # counted: every one of them skipped trafilatura


def test_a_real_edit_or_a_new_block_beside_the_article_falls_back_to_full_extraction(pages):
    rng = random.Random(9)
    changed = 0
    for page, held in pages:
        assert held.extraction is not None
        for variant in (edited(page.body, held.extraction.text), restructured(page.body, held.extraction.text)):
            if variant is None:
                continue
            again = answer(with_boilerplate(variant, rng))
            quick, full = analyse(again, [], held), analyse(again, [])
            assert quick.extraction is not None and full.extraction is not None
            assert content_hash(quick.extraction, again.body) == content_hash(full.extraction, again.body), page.file
            if full.extraction.text != held.extraction.text:
                assert not quick.fast, page.file
                changed += 1
    assert changed >= len(pages)  # the edits did reach the text, and each was extracted in full


def test_holds_is_false_when_the_region_moved_or_the_page_is_not_html():
    text = " ".join(["word"] * 80)
    html = f"<html><body><nav>menu</nav><article><p>{text}</p><p>{text} end</p></article></body></html>"
    _, tree = parse_html(html.encode(), "text/html")
    region = locate(tree, f"{text}\n{text} end")
    assert region is not None and holds(tree, region)
    _, moved = parse_html(html.replace("<nav>menu</nav>", "<nav>menu</nav><div>new</div>").encode(), "text/html")
    assert not holds(moved, region)
    assert not holds(None, region)


_LOREM = "the council voted on the new budget after a long debate about schools and roads " * 3


def test_a_region_is_found_when_a_line_begins_glued_to_a_tag_or_ends_in_a_link():
    """A wire tag glued to the first word ("(CNN)President"), a list item's "- ", a closing link: the
    lines are still found in the markup, as on four corpus articles that used to be extracted in full
    on every re-check."""
    html = (
        "<html><body><nav>menu</nav><article><ul><li><cite>(CNN)</cite>President Alpha spoke on Monday "
        f"about {_LOREM}</li></ul><p>{_LOREM} for more, sign up for our newsletter, <a href='/n'>Posted</a>, "
        "here.</p></article><footer>about us</footer></body></html>"
    )
    _, tree = parse_html(html.encode(), "text/html")
    text = f"- (CNN)President Alpha spoke on Monday about {_LOREM}\n{_LOREM} for more, sign up for our newsletter, Posted, here."
    region = locate(tree, text)
    assert region is not None and region.path == "/html/body/article"


def test_a_region_holds_the_whole_first_line_even_when_its_first_word_sits_apart():
    """The first word in an element of its own outside the paragraphs (a kicker): the needle found
    past it must not leave it out, or a kicker edited later would go unseen by the fast path."""
    html = (
        f"<html><body><nav>menu</nav><article><div class='kicker'><b>Exclusive</b></div><div id='main'>"
        f"<p>Budget talks resumed as {_LOREM}</p><p>{_LOREM} and ended late.</p></div></article></body></html>"
    )
    _, tree = parse_html(html.encode(), "text/html")
    region = locate(tree, f"Exclusive Budget talks resumed as {_LOREM}\n{_LOREM} and ended late.")
    assert region is not None and region.path == "/html/body/article"  # not the paragraphs' div alone
    _, kicker_edited = parse_html(html.replace("Exclusive", "Updated").encode(), "text/html")
    assert not holds(kicker_edited, region)


def test_both_roads_store_the_same_versions_through_the_pipeline(web, settings, tmp_path):
    """Two stores check the same answers; the second is made to forget every region before the
    re-check, so it extracts everything in full. Their versions are the same, hash for hash."""
    rng = random.Random(18)
    chosen = articles()[:12]
    urls = [web.url(f"/story/{n}") for n in range(len(chosen))]
    write_sources(settings.sources, [{"id": str(n), "url": u} for n, u in enumerate(urls)])

    def serve(generation: int) -> None:
        for n, (page, url) in enumerate(zip(chosen, urls, strict=True)):
            body = page.body
            if generation and n % 3 == 0:
                body = edited(body, _text_of(body)) or body
            web.set(url, Response(200, with_boilerplate(body, rng), {"Content-Type": "text/html"}))

    full_dir = tmp_path / "full"
    stores = {"fast": settings, "full": replace(settings, data_dir=full_dir)}
    serve(0)
    for each in stores.values():
        run_check(each)
    with sqlite3.connect(full_dir / "archiver.db") as conn:
        assert conn.execute("SELECT count(*) FROM versions WHERE region != ''").fetchone()[0] > 0
        conn.execute("UPDATE versions SET region = ''")
    serve(1)
    for each in stores.values():
        run_check(each)
    stored = {}
    for name, each in stores.items():
        with Store.open(each.data_dir) as store:
            stored[name] = sorted((c.id, v.hash) for c in store.citations() for v in store.versions(c.id))
    assert stored["fast"] == stored["full"]
    assert len(stored["fast"]) > len(chosen)  # the edits were stored as new versions by both roads


def _text_of(body: bytes) -> str:
    extraction = analyse(answer(body), []).extraction
    return extraction.text if extraction else ""
