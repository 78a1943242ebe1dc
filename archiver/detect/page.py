"""The structured facts of an HTML page that detectors read: meta tags, JSON-LD, microdata, prompts."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from lxml import html as lxml_html

_ARTICLE_TYPE = re.compile(r"(article|posting)$", re.I)
_SIMPLE_SELECTOR = re.compile(r"^([a-zA-Z][a-zA-Z0-9]*)?([.#][A-Za-z0-9_-]+|\[[A-Za-z0-9_-]+(=[^\]]*)?\])*$")
# The elements most page facts are read from, found in one pass over the tree
_MARKED_TAGS = ("meta", "link", "title", "script", "h1", "h2", "h3")
# the elements with an itemscope or an itemprop=isAccessibleForFree, in document order, reached from
# the attributes: in libxml2 a third cheaper than one element test with `or` (0.4 against 0.6 ms)
_MICRODATA = etree.XPath(
    "descendant-or-self::*/@itemscope/.. | descendant-or-self::*/@itemprop[.='isAccessibleForFree']/.."
)
# the attribute as HTML writers spell it (lower, upper, React's camel case), and the one value read
_MICRODATA_HINTS = ("itemscope", "ITEMSCOPE", "itemScope", "isAccessibleForFree")
UNSEEN = ("script", "style", "noscript", "template")  # elements whose own text no reader sees
# Every text node under an element, as plain strings, in document order: what `itertext` yields
# (texts and tails, comments' content left out), without an element object made per element
TEXT_NODES = etree.XPath(".//text()", smart_strings=False)
_UPPER = str.maketrans("CANONICAL", "canonical")
_JSON = str.maketrans("JSON", "json")
_META_FIELDS = {
    "og:url": ("og_url", False),
    "og:type": ("og_type", True),
    "article:content_tier": ("content_tier", True),
    "article:published_time": ("published_time", False),
}


@dataclass
class Page:
    """A parsed page. Build with `Page.parse(html)`; every field is empty when absent."""

    title: str = ""
    canonical: str = ""
    og_url: str = ""
    og_type: str = ""
    content_tier: str = ""
    json_ld: list[dict[str, Any]] = field(default_factory=list)
    microdata_free: list[str] = field(default_factory=list)  # itemprop=isAccessibleForFree values
    microdata_types: list[str] = field(default_factory=list)  # itemtype values, e.g. https://schema.org/NewsArticle
    published_time: str = ""  # meta article:published_time (Open Graph's article namespace)
    visible_text: str = ""  # the body's text, folded, scripts and styles removed
    headings: list[str] = field(default_factory=list)  # h1-h3 texts, folded
    size: int = 0
    raw_head: str = ""  # the first 20,000 characters of the markup, scripts included
    _root: Any = None
    _links: list[str] | None = None

    @classmethod
    def parse(cls, html: str) -> Page:
        if not html.strip():
            return cls(size=len(html), raw_head=html[:20_000])
        try:
            root = lxml_html.document_fromstring(html)
        except (etree.ParserError, ValueError):
            return cls(size=len(html), raw_head=html[:20_000])
        return cls.from_tree(root, html)

    @classmethod
    def from_tree(cls, root: Any, html: str) -> Page:
        """The facts of an already parsed page, in one walk of the tree (lxml's, in C) for the marked
        elements and one for the body's text; the tree is left as it was found."""
        page = cls(size=len(html), raw_head=html[:20_000])
        if root is None:
            return page
        page._root = root
        titles: list[str] = []  # text pieces of the head's titles, else of any title (an SVG's)
        head_titles: list[str] = []
        seen: set[str] = set()  # the facts whose first occurrence was read
        for el in root.iter(*_MARKED_TAGS):
            tag = el.tag
            if tag == "meta":
                _meta(page, el, seen)
            elif tag == "link":
                href = el.get("href")
                if (
                    "canonical" not in seen
                    and href is not None
                    and (el.get("rel") or "").translate(_UPPER) == "canonical"
                ):
                    page.canonical = href.strip()
                    seen.add("canonical")
            elif tag == "title":
                (head_titles if _parent_tag(el) == "head" else titles).extend(el.itertext())
            elif tag == "script" and "ld+json" in (el.get("type") or "").translate(_JSON):
                page.json_ld.extend(_json_objects(el.text or ""))
            elif tag in ("h1", "h2", "h3") and len(page.headings) < 50:
                page.headings.append(_fold(el.text_content()))
        if any(hint in html for hint in _MICRODATA_HINTS):  # most pages have no microdata: skip a tree walk
            _microdata(page, root)
        page.title = _fold(" ".join(head_titles or titles))
        body = root.find("body")
        if body is not None:
            page.visible_text = _visible_text(body)
        return page

    def matches(self, selector: str) -> bool | None:
        """Whether a simple CSS selector (`.cls`, `#id`, `[attr]`, `tag.cls`, lists with `,`) matches
        an element; None when the selector is too complex to judge."""
        if self._root is None:
            return False
        answers = []
        for part in selector.split(","):
            xpath = _selector_xpath(part.strip())
            if xpath is None:
                return None
            answers.append(bool(self._root.xpath(xpath)))
        return any(answers)

    @property
    def article_evidence(self) -> str:
        """What in the markup says this page is one article ("" when nothing does): og:type article,
        a schema.org Article/NewsArticle/BlogPosting (JSON-LD, or the one such microdata item of the
        page: a list of teasers carries many), or an article:published_time. Markup, so it holds on
        any site whatever its language; a home or error page rarely claims it (and when it does, its
        own title, heading or canonical still says what it is)."""
        if self.og_type == "article":
            return "og:type article"
        for obj in articles_in(self.json_ld):
            types = obj.get("@type", "")
            names = types if isinstance(types, list) else [types]
            found = next((t for t in names if isinstance(t, str) and _ARTICLE_TYPE.search(t)), None)
            if found:
                return f"schema.org {found} (JSON-LD)"
        items = [t for t in self.microdata_types if _ARTICLE_TYPE.search(t)]
        if len(items) == 1:
            return f"schema.org {items[0].rsplit('/', 1)[-1]} (microdata)"
        if self.published_time:
            return "article:published_time"
        return ""

    def link_texts(self) -> list[str]:
        """The text of every link, folded: teasers, menus, buttons. Read once, for every detector."""
        if self._links is None:
            self._links = [] if self._root is None else [t for a in self._root.iter("a") if (t := _link_text(a))]
        return self._links


def _meta(page: Page, el: Any, seen: set[str]) -> None:
    """The first meta naming a fact, with a content, gives its value (Open Graph's by property only)."""
    content = el.get("content")
    if content is None:
        return
    for attribute in ("property", "name"):
        key = el.get(attribute)
        if key not in _META_FIELDS or (attribute == "name" and key.startswith("og:")):
            continue
        name, lower = _META_FIELDS[key]
        if name not in seen:
            seen.add(name)
            setattr(page, name, content.strip().lower() if lower else content.strip())


def _microdata(page: Page, root: Any) -> None:
    for el in _MICRODATA(root):
        if el.get("itemprop") == "isAccessibleForFree":
            content = el.get("content")
            found = [content] if content is not None else el.xpath("text()")
            page.microdata_free += [str(v).strip().lower() for v in found]
        itemtype = el.get("itemtype")
        if el.get("itemscope") is not None and itemtype is not None and len(page.microdata_types) < 200:
            page.microdata_types.append(itemtype.strip())


def _parent_tag(el: Any) -> str:
    parent = el.getparent()
    return str(parent.tag) if parent is not None else ""


def articles_in(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every JSON-LD object, with @graph members flattened in."""
    out: list[dict[str, Any]] = []
    for obj in objects:
        out.append(obj)
        graph = obj.get("@graph")
        if isinstance(graph, list):
            out.extend(g for g in graph if isinstance(g, dict))
    return out


def truth(value: Any) -> bool | None:
    """schema.org booleans as sites write them: true, "True", "http://schema.org/False", ..."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower().rsplit("/", 1)[-1]
        if text in {"true", "yes", "1"}:
            return True
        if text in {"false", "no", "0"}:
            return False
    return None


def _json_objects(text: str) -> list[dict[str, Any]]:
    text = text.strip().removeprefix("<!--").removesuffix("-->").strip()
    try:
        data = json.loads(text)
    except ValueError:
        try:  # some sites leave raw newlines or trailing commas; try the lenient road once
            data = json.loads(re.sub(r",\s*([}\]])", r"\1", text.replace("\n", " ")))
        except ValueError:
            return []
    items = data if isinstance(data, list) else [data]
    return [i for i in items if isinstance(i, dict)]


def _visible_text(body: Any) -> str:
    """The body's text as a reader sees it: every text and tail, joined by spaces and folded, but
    not what scripts, styles, templates and comments hold (their tails are read). The skipped
    elements' texts are set aside for one C-level `itertext` and put back."""
    with unseen_set_aside(body):
        return _fold(" ".join(TEXT_NODES(body)))[:200_000]


@contextmanager
def unseen_set_aside(root: Any) -> Iterator[None]:
    """The own texts of the scripts, styles and templates under `root` set aside (their tails stay),
    so that one C-level read of the text nodes sees what a reader does; put back on leaving."""
    hidden = [(el, el.text) for el in root.iter(*UNSEEN) if el.text]
    for el, _ in hidden:
        el.text = None
    try:
        yield
    finally:
        for el, text in hidden:
            el.text = text


def _link_text(a: Any) -> str:
    """A link's text pieces joined by spaces, folded; most links hold only their own text."""
    return _fold(" ".join(TEXT_NODES(a)) if len(a) else a.text or "")


def _selector_xpath(selector: str) -> str | None:
    if not selector or not _SIMPLE_SELECTOR.match(selector):
        return None
    m = re.match(r"^([a-zA-Z][a-zA-Z0-9]*)?(.*)$", selector)
    assert m is not None
    tag, rest = m.group(1) or "*", m.group(2)
    conditions = []
    for kind, name, value in re.findall(r"([.#]|\[)([A-Za-z0-9_-]+)(?:=([^\]]*))?\]?", rest):
        if kind == ".":
            conditions.append(f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')")
        elif kind == "#":
            conditions.append(f"@id='{name}'")
        elif value:
            conditions.append(f"@{name}='{value.strip(chr(34) + chr(39))}'")
        else:
            conditions.append(f"@{name}")
    return f"//{tag}" + "".join(f"[{c}]" for c in conditions)


def _first(values: list[Any]) -> str:
    return str(values[0]).strip() if values else ""


def _fold(text: str) -> str:
    """Whitespace runs to one space, none at the ends (str.split knows the same Unicode spaces as re's
    \\s, at a quarter of the cost)."""
    return " ".join(text.split())
