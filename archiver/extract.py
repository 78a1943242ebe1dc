"""Main text and metadata of a page, with trafilatura. Never returns None: an empty Extraction says why.

trafilatura (with lxml's cleaner, jusText, htmldate, courlan and Babel: 17 MiB) and charset-normalizer
are imported on first use: the extraction runs in the workers, and the main process of a pass, which
imports this module for `decode` and the rare probe, does not carry them.
"""

from __future__ import annotations

import codecs
import functools
import re
from collections import Counter
from typing import Any

from archiver.models import Extraction

HTML_TYPES = {"", "text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml"}

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.I)
_HTML_LANG = re.compile(r"""<html[^>]*\slang\s*=\s*["']?([A-Za-z]{2,3})""", re.I)
_WORD = re.compile(r"[a-zà-öø-ÿ']+")
DETECT_BYTES = 256 * 1024  # detection reads this much of a body: enough to decide, bounded in time
CP1252_LEEWAY = 0.02  # how much more "chaos" (charset-normalizer's measure) windows-1252 may show and still win

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


# the languages each function word belongs to ("la" is French, Spanish and Italian), in the order above
_LANGUAGES_OF: dict[str, tuple[str, ...]] = {}
for _lang, _words in _STOPWORDS.items():
    for _w in dict.fromkeys(_words):
        _LANGUAGES_OF[_w] = (*_LANGUAGES_OF.get(_w, ()), _lang)


_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# Labels that browsers read as another encoding (WHATWG Encoding Standard): Latin-1 and ASCII
# labels mean windows-1252, whose five unassigned bytes map to the C1 controls.
_WINDOWS_1252 = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "ascii", "us-ascii", "cp819", "windows-1252"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\ufffd]")
# Python codecs no browser offers (UTF-7 was dropped for the scripts it smuggled past filters)
_NOT_WEB_CODECS = {"utf-7", "unicode-escape", "raw-unicode-escape", "punycode", "idna", "undefined", "mbcs"}
BINARY_SHARE = 0.05  # controls or undecodable bytes among the first characters: binary, not text


def _c1(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("archiver-c1", _c1)


def decode(body: bytes, content_type_header: str = "") -> str:
    """Bytes to text, as browsers do: a byte-order mark decides; else the charset declared by the
    Content-Type header, then by the page's `<meta>`, each only when the body decodes cleanly with it;
    else UTF-8 when it decodes cleanly; else detection (charset-normalizer), leaning to
    windows-1252, the web's commonest legacy encoding, among equally plausible single-byte guesses.
    NUL characters are dropped, as an HTML parser does."""
    return _decode(body, content_type_header).replace("\x00", "")


def _decode(body: bytes, content_type_header: str) -> str:
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, "replace")
    declared = []
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_:.-]+)", content_type_header, re.I)
    if match:
        declared.append(_codec(match.group(1), body))
    meta = _META_CHARSET.search(body[:4096])
    if meta:
        # a <meta> readable as ASCII cannot be in UTF-16: browsers read such a label as UTF-8
        codec = _codec(meta.group(1).decode("ascii", "replace"), body)
        declared.append("utf-8" if codec.startswith("utf-16") else codec)
    for codec in [*declared, "utf-8"]:
        if not codec:
            continue
        try:
            return body.decode(codec, "archiver-c1" if codec == "cp1252" else "strict")
        except (LookupError, UnicodeDecodeError):
            continue
    guess = _detect(body)
    if guess:
        return body.decode(guess, "archiver-c1" if guess == "cp1252" else "replace")
    return body.decode("utf-8", "replace")


def _codec(label: str, body: bytes) -> str:
    """A Python codec for a charset label; a UTF-16 label without a BOM gets the byte order its
    text shows (ASCII markup puts the zero bytes first in big-endian, second in little-endian)."""
    name = label.strip().lower()
    if name in _WINDOWS_1252:
        return "cp1252"
    if name in {"utf-16", "utf16", "ucs-2", "unicode"}:
        head = body[:2048]
        return "utf-16-be" if head[0::2].count(0) > head[1::2].count(0) else "utf-16-le"
    try:
        python_name = codecs.lookup(name).name
    except LookupError:
        return ""
    return "" if python_name in _NOT_WEB_CODECS else python_name


def _detect(body: bytes) -> str:
    from charset_normalizer import from_bytes  # see the module's docstring

    results = from_bytes(body[:DETECT_BYTES])
    best = results.best()
    if best is None:
        return ""
    calm = min(m.chaos for m in results)
    if any(m.encoding == "cp1252" and m.chaos <= calm + CP1252_LEEWAY for m in results):
        return "cp1252"  # short Western text fits several single-byte codepages equally well
    return str(best.encoding)


def looks_binary(text: str) -> bool:
    """Text whose first characters are too often control characters or undecodable bytes."""
    head = text[:4096]
    return bool(head) and len(_CONTROL.findall(head)) > BINARY_SHARE * len(head)


def guess_language(text: str, html: str = "") -> str:
    """Two-letter language of `text` from its function words; falls back to the page's `lang`."""
    counts: Counter[str] = Counter()
    words = _WORD.findall(text[:20000].lower())
    # each distinct word once, in order of first appearance (so ties go to the language met first)
    for w, n in Counter(words).items():
        for lang in _LANGUAGES_OF.get(w, ()):
            counts[lang] += n
    if counts:
        lang, hits = counts.most_common(1)[0]
        if hits >= 5 and hits >= 0.03 * len(words):
            return lang
    declared = _HTML_LANG.search(html[:5000])
    return declared.group(1).lower() if declared else ""


def run_trafilatura(source: Any, url: str = "") -> Any:
    """trafilatura with the options of every extraction (the benchmark's floor runs this very call):
    metadata for the version row, no reader comments (not the cited text), tables (often the cited
    figures). `source` is HTML text or an lxml tree."""
    import trafilatura  # see the module's docstring

    return trafilatura.bare_extraction(
        source, url=url or None, with_metadata=True, include_comments=False, include_tables=True
    )


def extract(body: bytes, url: str = "", content_type: str = "", parsed: tuple[str, Any] | None = None) -> Extraction:
    """Extract the main text and metadata of an HTML body; `parsed` is the (text, tree) of
    `parse_html` when the caller has it already (trafilatura works on its own copy of the tree)."""
    media_type = content_type.split(";")[0].strip().lower()
    if not body.strip():
        return Extraction(note="empty body")
    if media_type not in HTML_TYPES:
        return Extraction(note=f"not HTML ({media_type}); content kept as raw bytes")
    if body[:5] == b"%PDF-":
        return Extraction(note="binary body; content kept as raw bytes")
    html, tree = parsed if parsed is not None else (decode(body, content_type), None)
    if looks_binary(html):
        return Extraction(note="binary body; content kept as raw bytes")
    if media_type == "text/plain":
        text = _normalise(html)
        return Extraction(text=text, language=guess_language(text), extracted=bool(text))
    try:
        doc = run_trafilatura(tree if tree is not None else html, url)
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
        return html, html_tree(html)
    except (ValueError, TypeError):
        return html, None


def html_tree(html: str) -> Any:
    """`trafilatura.utils.load_html` for text, step for step, with a parser whose elements are made
    without calling Python (`_parser`): the same tree, for trafilatura (and its copy of the tree),
    the page facts and the region alike."""
    from lxml.html import fromstring
    from trafilatura.utils import is_dubious_html, repair_faulty_html

    parser = _parser()
    beginning = html[:50].lower()
    html = repair_faulty_html(html, beginning)
    tree, fallback = None, False
    try:
        tree = fromstring(html, parser=parser)
    except ValueError:  # "Unicode strings with encoding declaration are not supported."
        tree, fallback = _from_bytes(html, parser), True
    if (tree is None or len(tree) < 1) and not fallback:
        tree = _from_bytes(html, parser)
    if tree is not None and is_dubious_html(beginning) and len(tree) < 2:
        return None
    return tree


def _from_bytes(html: str, parser: Any) -> Any:
    from lxml.html import fromstring

    try:
        return fromstring(html.encode("utf8", "surrogatepass"), parser=parser)
    except Exception:  # noqa: BLE001 -- as trafilatura's own fallback: any lxml failure is "no tree"
        return None


@functools.cache
def _parser() -> Any:
    """trafilatura's HTML parser (`trafilatura.utils.HTML_PARSER`: same options), except how lxml
    picks each element's class. lxml.html's parser asks a Python method for every element lxml
    hands to Python (5,000 a page and more, each time trafilatura or the detectors walk the tree),
    only to give form fields their own classes, which nothing here uses; this parser gives every
    element `HtmlElement` in C. On every corpus page the same extraction (tests/test_corpus.py), and
    trafilatura on the tree 0.85 ms a page faster (14.8 against 15.7, `profile_real.py stages`)."""
    from lxml import etree
    from lxml import html as lxml_html

    parser = lxml_html.HTMLParser(
        collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True
    )
    parser.set_element_class_lookup(
        etree.ElementDefaultClassLookup(
            element=lxml_html.HtmlElement,
            comment=lxml_html.HtmlComment,
            pi=lxml_html.HtmlProcessingInstruction,
            entity=lxml_html.HtmlEntity,
        )
    )
    return parser
