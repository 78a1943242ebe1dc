"""Where a page's main text sat, and a fingerprint of it: what lets a re-check skip trafilatura.

On the real web an unchanged article is rarely byte-identical (ads, timestamps, nonces and teasers
change on every answer), so "the same bytes are not extracted again" almost never applies. What does
hold: the article's own region of the page. After a full extraction, `locate` finds the smallest
element that holds the whole extracted text (the common ancestor of the elements holding its first
and last lines: trafilatura's text follows document order) and fingerprints three things:

- `path`: where the element is (lxml's `getpath`, positions among siblings included);
- `content`: the region's text, split where its elements split it (a paragraph cut in two, a line
  break added, a word edited all show), and which elements hold text, with their tag, class, id,
  role, itemprop and style (what trafilatura prunes by); scripts, styles and empty elements (an ad
  container waiting for its script) are not part of it;
- `shape`: the page around the region: each ancestor's children (tag and class), so a block added
  beside the article (an update box, a correction) is a change of shape.

A re-check whose page has an element at `path` with the same content in the same shape holds the same
text; anything else is extracted in full, which records the region anew. The test suite runs both
roads over the shared corpus of real pages, served with fresh boilerplate and real edits, and
compares the versions stored (tests/test_region.py); the benchmark's re-check pass checks it at
scale. Pure CPU on an lxml tree; the tree is read, never changed for good.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from lxml import etree

from archiver.detect.page import TEXT_NODES, UNSEEN, unseen_set_aside

MIN_CHARS = 300  # shorter texts (bot walls, error pages) are cheap to extract: no region is kept
NEEDLE_WORDS = 6  # a line is found in the markup by a run of this many of its words
SKIPPED_WORDS = 2  # or, failing that, by a run starting up to this many words later (ending earlier)
LIST_MARK = "- "  # what trafilatura's text puts before a list item
_TEXT_HOLDERS = etree.XPath("descendant-or-self::*[text()[normalize-space()]]")
SEPARATOR = "\x1f"


@dataclass(frozen=True)
class Region:
    """The main text's place in a page (see the module's docstring); `encode` is what the store keeps."""

    path: str
    content: str
    shape: str

    def encode(self) -> str:
        return SEPARATOR.join((self.path, self.content, self.shape))

    @classmethod
    def decode(cls, stored: str) -> Region | None:
        parts = stored.split(SEPARATOR)
        return cls(*parts) if len(parts) == 3 and all(parts) else None


def locate(tree: Any, text: str) -> Region | None:
    """The region holding an extracted text, after a full extraction; None when the text is short,
    when its first or last line cannot be found in the markup, or when the region is the whole body."""
    body = tree.find("body") if tree is not None else None
    if body is None or len(text) < MIN_CHARS:
        return None
    lines = text.split("\n")
    ends = [_unmarked(lines[0]), _unmarked(lines[-1])]
    nodes = TEXT_NODES(body)
    first, last = _holder(body, nodes, ends[0], first=True), _holder(body, nodes, ends[-1], first=False)
    if first is None or last is None:
        return None
    region = _holding(_common_ancestor(first, last), ends, body)
    if region is None or region is body or region.tag in ("html", "body"):
        return None
    return Region(region.getroottree().getpath(region), _content(region), _shape(region, body))


def _unmarked(line: str) -> str:
    """A line of trafilatura's text as the page writes it: without the "- " it puts before a list item."""
    return line[2:] if line.startswith(LIST_MARK) else line


def _holding(element: Any, lines: list[str], body: Any) -> Any:
    """The element, or its nearest ancestor up to the body, whose text holds these lines whole (spaces
    aside: trafilatura joins what elements split): a needle found past a line's first words (see
    `_holder`) must not leave the words before it outside the region."""
    wanted = ["".join(line.split()) for line in lines]
    while element is not None:
        flat = "".join("".join(TEXT_NODES(element)).split())
        if all(line in flat for line in wanted):
            return element
        if element is body:
            return None
        element = element.getparent()
    return None


def holds(tree: Any, region: Region) -> bool:
    """Whether a page still holds the region's text, in the same place and the same shape."""
    body = tree.find("body") if tree is not None else None
    if body is None:
        return False
    try:
        found = tree.xpath(region.path)
    except etree.XPathError:
        return False
    if len(found) != 1 or not isinstance(found[0], etree._Element):
        return False
    element = found[0]
    return _content(element) == region.content and _shape(element, body) == region.shape


def _holder(body: Any, nodes: list[str], line: str, first: bool) -> Any:
    """The element holding the start of the text's first line (its first occurrence in the page), or
    the end of its last line (the last occurrence), found by a run of its first or last words: fewer
    when the run crosses an element (a link, a bold word), and then a run that starts a word or two
    later (ends a word or two earlier), when the line's first word is glued to another element's
    ("(CNN)President") or its last words are a link. Another occurrence than the text's own can only
    widen the region; `_holding` widens it to the whole line."""
    words = line.split()
    runs = (
        words[skip : skip + size] if first else words[len(words) - skip - size : len(words) - skip]
        for skip in range(SKIPPED_WORDS + 1)
        for size in dict.fromkeys(min(n, len(words) - skip) for n in (NEEDLE_WORDS, 3, 2) if len(words) > skip)
    )
    for run in runs:
        needle, hint = " ".join(run), run[0]
        order = range(len(nodes)) if first else range(len(nodes) - 1, -1, -1)
        for index in order:
            node = nodes[index]
            if hint not in node or (needle not in node and needle not in " ".join(node.split())):
                continue  # (a needle in the node as is is in it folded: its spaces are single ones)
            # the node itself, now with its element: the position written in, which libxml2 stops at
            # (a $n variable makes it collect every text node of the page first)
            (found,) = body.xpath(f"descendant::text()[{index + 1}]")
            owner = found.getparent()
            if owner is not None and found.is_tail:
                owner = owner.getparent()
            if owner is not None and owner.tag not in UNSEEN:
                return owner
    return None


def _common_ancestor(a: Any, b: Any) -> Any:
    above = {id(a): a, **{id(e): e for e in a.iterancestors()}}
    for element in (b, *b.iterancestors()):
        if id(element) in above:
            return element
    return None


def _content(region: Any) -> str:
    """The region's text as its elements split it, and the elements holding text (see the module)."""
    with unseen_set_aside(region):
        chunks = SEPARATOR.join(TEXT_NODES(region))  # itertext's strings, without an object per element
        holders = [  # tag, class, id, role, itemprop, style: what trafilatura prunes by
            (
                el.tag,
                el.get("class") or "",
                el.get("id") or "",
                el.get("role") or "",
                el.get("itemprop") or "",
                el.get("style") or "",
            )
            for el in _TEXT_HOLDERS(region)
            if el.tag not in UNSEEN
        ]
    digest = hashlib.sha256(" ".join(chunks.split()).encode("utf-8", "surrogatepass"))
    digest.update(repr(holders).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _shape(region: Any, body: Any) -> str:
    """The children (tag and class) of every ancestor of the region, up to the body."""
    digest = hashlib.sha256()
    for ancestor in region.iterancestors():
        row = [(tag, child.get("class") or "") for child in ancestor if _shown(tag := child.tag)]
        digest.update(repr(row).encode("utf-8", "surrogatepass"))
        if ancestor is body:
            break
    return digest.hexdigest()


def _shown(tag: Any) -> bool:
    return isinstance(tag, str) and tag not in UNSEEN
