"""Main text and metadata of a page, with trafilatura. Never returns None: an empty Extraction says why."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import trafilatura
from charset_normalizer import from_bytes
from trafilatura.utils import load_html

from archiver.models import Extraction

HTML_TYPES = {"", "text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml"}

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.I)
_HTML_LANG = re.compile(r"""<html[^>]*\slang\s*=\s*["']?([A-Za-z]{2,3})""", re.I)
_WORD = re.compile(r"[a-zà-öø-ÿ']+")

# A few of the commonest function words of each language: enough to tell them apart on a page.
_STOPWORDS = {
    "en": [
        "the",
        "of",
        "and",
        "to",
        "in",
        "is",
        "that",
        "for",
        "it",
        "was",
        "on",
        "with",
        "as",
        "by",
        "be",
        "are",
        "this",
        "from",
        "at",
        "have",
        "not",
    ],
    "fr": [
        "le",
        "la",
        "les",
        "de",
        "des",
        "du",
        "et",
        "est",
        "un",
        "une",
        "que",
        "qui",
        "dans",
        "pour",
        "pas",
        "sur",
        "au",
        "avec",
        "par",
        "ce",
        "plus",
    ],
    "de": [
        "der",
        "die",
        "das",
        "und",
        "ist",
        "nicht",
        "ein",
        "eine",
        "zu",
        "den",
        "mit",
        "von",
        "sich",
        "auf",
        "des",
        "dem",
        "im",
        "für",
        "auch",
    ],
    "es": [
        "el",
        "la",
        "los",
        "las",
        "de",
        "del",
        "y",
        "que",
        "en",
        "un",
        "una",
        "por",
        "con",
        "para",
        "es",
        "se",
        "no",
        "lo",
        "al",
    ],
    "it": [
        "il",
        "di",
        "che",
        "la",
        "per",
        "un",
        "non",
        "una",
        "sono",
        "del",
        "della",
        "le",
        "si",
        "con",
        "da",
        "gli",
        "nel",
        "anche",
    ],
}


def decode(body: bytes, content_type_header: str = "") -> str:
    """Bytes to text: the declared charset when it decodes cleanly, else the page's own meta, else a guess."""
    candidates = []
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_:.-]+)", content_type_header, re.I)
    if match:
        candidates.append(match.group(1))
    meta = _META_CHARSET.search(body[:4096])
    if meta:
        candidates.append(meta.group(1).decode("ascii", "replace"))
    candidates.append("utf-8")
    for name in candidates:
        try:
            return body.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    guess = from_bytes(body).best()
    if guess is not None:
        return str(guess)
    return body.decode("utf-8", "replace")


def guess_language(text: str, html: str = "") -> str:
    """Two-letter language of `text` from its function words; falls back to the page's `lang`."""
    counts: Counter[str] = Counter()
    words = _WORD.findall(text[:20000].lower())
    vocab = {lang: set(ws) for lang, ws in _STOPWORDS.items()}
    for w in words:
        for lang, ws in vocab.items():
            if w in ws:
                counts[lang] += 1
    if counts:
        lang, hits = counts.most_common(1)[0]
        if hits >= 5 and hits >= 0.03 * len(words):
            return lang
    declared = _HTML_LANG.search(html[:5000])
    return declared.group(1).lower() if declared else ""


def extract(body: bytes, url: str = "", content_type: str = "", parsed: tuple[str, Any] | None = None) -> Extraction:
    """Extract the main text and metadata of an HTML body; `parsed` is the (text, tree) of
    `parse_html` when the caller has it already (trafilatura works on its own copy of the tree)."""
    media_type = content_type.split(";")[0].strip().lower()
    if not body.strip():
        return Extraction(note="empty body")
    if media_type not in HTML_TYPES:
        return Extraction(note=f"not HTML ({media_type}); content kept as raw bytes")
    if body[:5] == b"%PDF-" or b"\x00" in body[:1024]:
        return Extraction(note="binary body; content kept as raw bytes")
    html, tree = parsed if parsed is not None else (decode(body, content_type), None)
    if media_type == "text/plain":
        text = _normalise(html)
        return Extraction(text=text, language=guess_language(text), extracted=bool(text))
    try:
        doc = trafilatura.bare_extraction(
            tree if tree is not None else html,
            url=url or None,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
        )
    except (ValueError, TypeError, AttributeError) as exc:  # lxml or trafilatura choking on garbage
        return Extraction(note=f"extraction failed: {type(exc).__name__}: {exc}")
    if doc is None:
        return Extraction(note="no main text found", language=guess_language("", html))
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    text = _normalise(data.get("text") or "")
    return Extraction(
        text=text,
        title=(data.get("title") or "").strip(),
        author=(data.get("author") or "").strip(),
        date=(data.get("date") or "").strip(),
        language=(data.get("language") or "") or guess_language(text, html),
        description=(data.get("description") or "").strip(),
        sitename=(data.get("sitename") or "").strip(),
        canonical_url=(data.get("url") or "").strip(),
        extracted=bool(text),
        note="" if text else "no main text found",
    )


def _normalise(text: str) -> str:
    """One paragraph a line, inner whitespace folded, no trailing spaces: the form we hash and diff."""
    lines = (" ".join(line.split()) for line in text.replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def parse_html(body: bytes, content_type: str = "") -> tuple[str, Any]:
    """Decode and parse a page once, the way trafilatura would; (text, None) when it cannot be parsed."""
    html = decode(body, content_type)
    try:
        return html, load_html(html)
    except (ValueError, TypeError):
        return html, None
