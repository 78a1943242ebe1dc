"""What an article says of itself: its title and the day it was published, where its format writes
them (an HTML page's `<title>` and `article:published_time`, a Markdown file's front matter or first
heading, a text's first line). Bibliographies name no article: "" for both. Pure: no I/O."""

from __future__ import annotations

import re

from lxml import html as lxml_html

from archiver.formats.dates import read_date
from archiver.formats.records import Format

MAX_TITLE_CHARS = 300
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.S)
_FRONT_FIELD = re.compile(r"^(title|date|published)[ \t]*:[ \t]*(.+?)[ \t]*$", re.M | re.I)
_HEADING = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.M)
_PUBLISHED = (
    "//meta[@property='article:published_time']/@content",
    "//meta[@name='date']/@content",
    "//meta[@itemprop='datePublished']/@content",
    "//time[@datetime]/@datetime",
)


def describe(text: str, fmt: Format) -> tuple[str, str]:
    """(title, ISO day of publication) of an article; "" for what it does not say."""
    if fmt is Format.HTML:
        return _html(text)
    if fmt is Format.MARKDOWN:
        return _markdown(text)
    if fmt is Format.TEXT:
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        return _clip(first), ""
    return "", ""


def _html(text: str) -> tuple[str, str]:
    try:
        root = lxml_html.document_fromstring(text)
    except (ValueError, lxml_html.etree.ParserError):
        return "", ""
    # og:title, else the headline, else <title> (which usually carries the site's name too)
    found = (root.xpath(path) for path in ("//meta[@property='og:title']/@content", "//h1", "//title"))
    texts = (t if isinstance(t, str) else t.text_content() for hits in found for t in hits)
    title = next((" ".join(str(t).split()) for t in texts if str(t).strip()), "")
    published = next((day for path in _PUBLISHED for v in root.xpath(path) if (day := _day(str(v)))), "")
    return _clip(title), published


def _markdown(text: str) -> tuple[str, str]:
    title = published = ""
    front = _FRONT_MATTER.match(text)
    if front:
        for name, value in _FRONT_FIELD.findall(front.group(1)):
            value = value.strip().strip("\"'")
            if name.lower() == "title" and not title:
                title = value
            elif name.lower() in ("date", "published") and not published:
                published = _day(value)
    if not title and (heading := _HEADING.search(text)):
        title = heading.group(1)
    return _clip(title), published


def _day(value: str) -> str:
    return read_date(value[:10] if re.match(r"\d{4}-\d{2}-\d{2}", value) else value).iso


def _clip(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 1] + "…"
