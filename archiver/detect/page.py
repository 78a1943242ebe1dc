"""The structured facts of an HTML page that detectors read: meta tags, JSON-LD, microdata, prompts."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from lxml import html as lxml_html

_SPACE = re.compile(r"\s+")
_ARTICLE_TYPE = re.compile(r"(article|posting)$", re.I)
_SIMPLE_SELECTOR = re.compile(r"^([a-zA-Z][a-zA-Z0-9]*)?([.#][A-Za-z0-9_-]+|\[[A-Za-z0-9_-]+(=[^\]]*)?\])*$")


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
        """The facts of an already parsed page (the tree is only read)."""
        page = cls(size=len(html), raw_head=html[:20_000])
        if root is None:
            return page
        page._root = root
        page.title = _fold(" ".join(root.xpath("//head/title//text()") or root.xpath("//title//text()")))
        page.canonical = _first(root.xpath("//link[translate(@rel,'CANONICAL','canonical')='canonical']/@href"))
        page.og_url = _first(root.xpath("//meta[@property='og:url']/@content"))
        page.og_type = _first(root.xpath("//meta[@property='og:type']/@content")).lower()
        page.content_tier = _first(
            root.xpath("//meta[@property='article:content_tier' or @name='article:content_tier']/@content")
        ).lower()
        page.microdata_free = [
            str(v).strip().lower()
            for v in root.xpath(
                "//*[@itemprop='isAccessibleForFree']/@content | //*[@itemprop='isAccessibleForFree'][not(@content)]/text()"
            )
        ]
        page.microdata_types = [str(t).strip() for t in root.xpath("//*[@itemscope]/@itemtype")][:200]
        page.published_time = _first(
            root.xpath("//meta[@property='article:published_time' or @name='article:published_time']/@content")
        )
        for script in root.xpath("//script[contains(translate(@type,'JSON','json'),'ld+json')]"):
            page.json_ld.extend(_json_objects(script.text or ""))
        page.headings = [_fold(h.text_content()) for h in root.xpath("//h1 | //h2 | //h3")][:50]
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
        """The text of every link, folded: teasers, menus, buttons."""
        if self._root is None:
            return []
        return [t for a in self._root.iter("a") if (t := _fold(" ".join(a.itertext())))]

    def links_text(self) -> str:
        """Text inside links: navigation, teasers and buttons, which prompts in articles are not."""
        if self._root is None:
            return ""
        return _fold(" ".join(t for a in self._root.iter("a") for t in a.itertext()))


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
    parts = []
    for el in body.iter():
        if el.tag in ("script", "style", "noscript", "template") or not isinstance(el.tag, str):
            continue
        if el.text and el.getparent() is not None:
            parts.append(el.text)
        if el.tail:
            parts.append(el.tail)
    # texts of skipped elements were not added, but their tails were: that is what a reader sees
    return _fold(" ".join(parts))[:200_000]


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
    return _SPACE.sub(" ", text).strip()
