"""Finding the citations of an article: markers, references and the sentences that carry them. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from archiver.errors import SourceError
from archiver.models import Citation
from archiver.sources import MAX_CELL_CHARS
from archiver.urls import canonical, tracking_params

_REFERENCE = re.compile(
    r"^\s*\[(\d+)\]\s*[.:)\-–]?\s*((?:https?:|www\.|\d+https?:|https?/)\S.*?|\S+\.\w{2,}/\S*)\s*$", re.I
)
_MARKER = re.compile(r"\[(\d+)\]")
# A sentence ends at . ! ? or … (possibly after a closing quote or a marker) before a capital.
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[«\"“'‘(\[]?\s*[A-ZÀ-ÖØ-Þ0-9])")
# Openers that lean on the sentence before: its claim belongs to the same source.
_CONNECTIVES = re.compile(
    r"^(de plus|en outre|par ailleurs|en effet|ainsi|toutefois|cependant|moreover|in addition|"
    r"furthermore|also|however|besides)\b",
    re.I,
)


@dataclass(frozen=True)
class ImportWarning:
    """Something a careful editor would catch; it never stops an import."""

    kind: str  # missing_reference, uncited_reference, mangled_url, duplicate_url, tracking_params,
    # url_too_long, claim_clipped
    message: str
    line: int = 0
    citation_id: str = ""
    suggestion: str = ""


@dataclass
class ImportResult:
    citations: list[Citation] = field(default_factory=list)
    warnings: list[ImportWarning] = field(default_factory=list)


def split_sentences(paragraph: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(paragraph.strip()) if s.strip()]


def strip_markers(text: str) -> str:
    return " ".join(_MARKER.sub("", text).split())


def parse_text_article(text: str) -> ImportResult:
    """A plain-text article: bracketed markers [n] in the body, a numbered reference list `[n] URL`."""
    result = ImportResult()
    references: dict[str, tuple[str, int]] = {}
    body: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        ref = _REFERENCE.match(line)
        if ref:
            references.setdefault(ref.group(1), (ref.group(2), number))
        elif line.strip():
            body.append((number, line))
    claims: dict[str, tuple[str, int]] = {}
    for number, paragraph in body:
        sentences = split_sentences(paragraph)
        for i, sentence in enumerate(sentences):
            markers = _MARKER.findall(sentence)
            if not markers:
                continue
            claim = strip_markers(sentence)  # once per sentence, however many markers it carries
            if i > 0 and _CONNECTIVES.match(claim) and not _MARKER.search(sentences[i - 1]):
                claim = strip_markers(sentences[i - 1]) + " " + claim
            for marker in markers:
                claims.setdefault(marker, (claim, number))
    for marker, (_claim, number) in claims.items():
        if marker not in references:
            result.warnings.append(
                ImportWarning(
                    "missing_reference",
                    f"marker [{marker}] in the text has no entry in the reference list",
                    number,
                    marker,
                )
            )
    for marker, (url, number) in sorted(references.items(), key=lambda kv: int(kv[0])):
        if marker not in claims:
            result.warnings.append(
                ImportWarning("uncited_reference", f"reference [{marker}] is never cited in the text", number, marker)
            )
        claim = claims.get(marker, ("", 0))[0]
        result.citations.append(Citation(marker, url, claim, line=number))
    result.warnings.extend(url_warnings(result.citations))
    return result


def url_warnings(citations: list[Citation]) -> list[ImportWarning]:
    """Tracking parameters and duplicates: noted, never silently changed."""
    warnings = []
    first: dict[str, str] = {}
    for c in citations:
        problem, suggestion = mangled(c.url)
        if problem:
            warnings.append(
                ImportWarning(
                    "mangled_url",
                    f"[{c.id}] URL looks mangled ({problem}): {c.url!r}; did you mean {suggestion!r}? "
                    "(kept as written)",
                    c.line,
                    c.id,
                    suggestion,
                )
            )
        params = tracking_params(c.url)
        if params:
            warnings.append(
                ImportWarning(
                    "tracking_params",
                    f"[{c.id}] carries tracking parameter(s) {', '.join(params)}; "
                    f"kept as cited, canonical form {canonical(c.url)}",
                    c.line,
                    c.id,
                    canonical(c.url),
                )
            )
        key = canonical(suggestion or c.url)  # a mangled copy of a URL is still the same page
        if key in first:
            warnings.append(
                ImportWarning("duplicate_url", f"[{c.id}] cites the same page as [{first[key]}]", c.line, c.id)
            )
        else:
            first[key] = c.id
    return warnings


_TRAILING_JUNK = ")]}>.,;:!?'\"»”’…"
_GLUED_NUMBER = re.compile(r"(\.(?:s?html?|php|aspx?|jsp|cms))(\d{1,3})$", re.I)


def mangled(url: str) -> tuple[str, str]:
    """What looks wrong with a cited URL, and a suggested correction; ("", "") when it looks right.
    The suggestion is only ever shown: the URL is kept as written."""
    fixed = url.strip()
    problems = []
    if any(ch.isspace() for ch in fixed):
        problems.append("contains spaces")
        fixed = "".join(fixed.split())
    lead = re.match(r"^\d{1,3}(?=(https?:|www\.))", fixed, re.I)
    if lead:
        problems.append(f"footnote number {lead.group(0)} glued before it")
        fixed = fixed[lead.end() :]
    doubled = re.match(r"^(https?:/{1,3})+(?=https?:)", fixed, re.I)
    if doubled:
        problems.append("doubled scheme")
        fixed = fixed[doubled.end() :]
    broken = re.match(r"^(https?):/{0,1}(?!/)|^(https?)//|^(https?)/(?!/)", fixed, re.I)
    if broken:
        scheme = next(g for g in broken.groups() if g)
        problems.append("broken scheme")
        fixed = f"{scheme.lower()}://" + fixed[broken.end() :].lstrip(":/")
    if fixed.lower().startswith("www.") or (
        not re.match(r"^[a-z][a-z0-9+.-]*:", fixed, re.I) and "." in fixed.split("/")[0]
    ):
        problems.append("missing scheme")
        fixed = "https://" + fixed
    kept = fixed.rstrip(_TRAILING_JUNK)  # rstrip, not a regex: linear on a URL of any length
    junk = fixed[len(kept) :]
    if junk and not (junk == ")" and "(" in fixed):
        problems.append(f"stray {junk!r} after the page name")
        fixed = kept
    glued = _GLUED_NUMBER.search(fixed)
    if glued:
        problems.append(f"footnote number {glued.group(2)} glued after it")
        fixed = fixed[: glued.start(2)]
    return ("; ".join(problems), fixed) if problems else ("", "")


# --- Markdown ---------------------------------------------------------------------------------------

_MD_FOOTNOTE_DEF = re.compile(r"^\s*\[\^([^\]\s]+)\]:\s*(.*)$")
_MD_REF_DEF = re.compile(r"^\s{0,3}\[([^\]^][^\]]*)\]:\s*<?(\S+?)>?(?:\s+[\"'(].*[\"')])?\s*$")
# Every scan that starts at a bracket stops at the next bracket and never backtracks, so that a
# line of 2 MB of `[` (or of `[a](`) is read in linear time, not quadratic.
_MD_INLINE = re.compile(
    r"(?<!!)\[((?:[^\[\]]|\[[^\[\]]*\])*+)\]\(\s*+<?((?:[^()\s<>\[\]]|\([^()\s]*\))++)>?(?:\s++\"[^\"]*+\")?\s*+\)"
)
_MD_REFLINK = re.compile(r"(?<!!)\[([^\[\]]++)\]\[([^\[\]]*+)\]")
_MD_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_MD_FOOTNOTE = re.compile(r"\[\^([^\[\]\s]++)\]")
_URL_IN = re.compile(r"<?((?:https?:/{0,3}|www\.)[^\s<>\]]+)>?|\]\(([^)\s]+)\)", re.I)
_LINK_MARK = re.compile(r"\s?\u2060L(\d+)\u2060")


def link_id(url: str) -> str:
    """A stable id for a citation that has no footnote number: from its canonical URL."""
    import hashlib

    return "u-" + hashlib.sha1(canonical(url).encode("utf-8")).hexdigest()[:8]


def parse_markdown_article(text: str) -> ImportResult:
    """Markdown: footnotes `[^1]` with `[^1]: URL`, inline links, reference-style links, autolinks."""
    footnotes: dict[str, tuple[str, int]] = {}
    refdefs: dict[str, str] = {}
    body_lines: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        fn = _MD_FOOTNOTE_DEF.match(line)
        ref = _MD_REF_DEF.match(line)
        if fn:
            found = _URL_IN.search(fn.group(2))
            footnotes.setdefault(
                fn.group(1), ((found.group(1) or found.group(2)) if found else fn.group(2).strip(), number)
            )
        elif ref:
            refdefs[ref.group(1).strip().lower()] = ref.group(2)
        else:
            body_lines.append((number, line))
    links: list[str] = []

    def mark(url: str, label: str) -> str:
        links.append(url)
        return f"{label}\u2060L{len(links) - 1}\u2060"

    paragraphs = _paragraphs(body_lines)
    claims: dict[str, tuple[str, int]] = {}
    link_claims: dict[int, tuple[str, int]] = {}
    for number, paragraph in paragraphs:
        plain = _MD_INLINE.sub(lambda m: mark(m.group(2), m.group(1)), paragraph)
        plain = _MD_REFLINK.sub(
            lambda m: (
                mark(refdefs.get((m.group(2) or m.group(1)).lower(), ""), m.group(1))
                if (m.group(2) or m.group(1)).lower() in refdefs
                else m.group(0)
            ),
            plain,
        )
        plain = _MD_AUTOLINK.sub(lambda m: mark(m.group(1), ""), plain)
        plain = re.sub(r"[*_`]{1,3}", "", re.sub(r"^\s*(#+|>|[-*+]|\d+\.)\s+", "", plain))
        for sentence in split_sentences(plain):
            clean = " ".join(_MD_FOOTNOTE.sub("", _LINK_MARK.sub("", sentence)).split())
            for marker in _MD_FOOTNOTE.findall(sentence):
                claims.setdefault(marker, (clean, number))
            for index in _LINK_MARK.findall(sentence):
                link_claims.setdefault(int(index), (clean, number))
    result = ImportResult()
    for marker, (_claim, number) in claims.items():
        if marker not in footnotes:
            result.warnings.append(
                ImportWarning(
                    "missing_reference", f"marker [^{marker}] in the text has no footnote definition", number, marker
                )
            )
    for marker, (url, number) in footnotes.items():
        if marker not in claims:
            result.warnings.append(
                ImportWarning("uncited_reference", f"footnote [^{marker}] is never cited in the text", number, marker)
            )
        result.citations.append(Citation(marker, url, claims.get(marker, ("", 0))[0], line=number))
    seen = {c.url for c in result.citations}
    for index, url in enumerate(links):
        if not url or url in seen or url.startswith("#"):
            continue
        seen.add(url)
        claim, number = link_claims.get(index, ("", 0))
        result.citations.append(Citation(link_id(url), url, claim, line=number))
    result.warnings.extend(url_warnings(result.citations))
    return result


def _paragraphs(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    paragraphs: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    for number, line in [*lines, (0, "")]:
        if line.strip():
            if not current:
                start = number
            current.append(line.strip())
        elif current:
            paragraphs.append((start, " ".join(current)))
            current = []
    return paragraphs


# --- HTML -------------------------------------------------------------------------------------------

_BLOCKS = ("p", "li", "blockquote", "dd", "td", "h2", "h3", "h4", "figcaption")
_CHROME = ("nav", "header", "footer", "aside", "script", "style", "form", "noscript", "template")


def parse_html_article(html: str) -> ImportResult:
    """HTML: links inside the article body (not navigation, header, footer or asides), and footnote
    markers (`<a href="#fn1">1</a>`) whose target holds the reference's URL."""
    from lxml import html as lxml_html

    root = lxml_html.document_fromstring(html)
    container = next(
        (
            found[0]
            for xpath in ("//article", "//main", "//*[@role='main']", "//*[@itemprop='articleBody']", "//body")
            if (found := root.xpath(xpath))
        ),
        root,
    )
    for element in container.xpath(" | ".join(f".//{tag}" for tag in _CHROME)):
        element.getparent().remove(element)
    targets: dict[str, str] = {}
    target_elements = set()
    by_id: dict[str, object] = {}
    for element in root.iter():  # one walk, not one search of the document per footnote marker
        by_id.setdefault(element.get("id") or "", element)
    for anchor in container.xpath(".//a[starts-with(@href, '#')]"):
        ident = anchor.get("href")[1:]
        found = by_id.get(ident) if ident else None
        if found is not None and ident not in targets:
            link = found.xpath(".//a[starts-with(@href, 'http')]/@href")  # type: ignore[attr-defined]
            if link:
                targets[ident] = str(link[0])
                target_elements.add(found)
    in_targets = {node for target in target_elements for node in target.iter()}  # type: ignore[attr-defined]
    result = ImportResult()
    claims: dict[str, tuple[str, int]] = {}
    order: list[tuple[str, str]] = []  # (id, url) in reading order
    for block in container.iter(*_BLOCKS):
        if block in in_targets:
            continue
        if any(a.tag in _BLOCKS for a in block.iterancestors()):
            continue  # nested blocks are read with their parent
        pieces: list[str] = []
        found_links: list[tuple[str, str]] = []
        for node in block.iter():
            if node.tag == "a" and node.get("href", "").startswith("#") and node.get("href")[1:] in targets:
                ident = node.get("href")[1:]
                label = node.text_content().strip().strip("[]") or ident
                cid = label if re.fullmatch(r"[A-Za-z0-9._-]{1,64}", label) else ident
                found_links.append((cid, targets[ident]))
                pieces.append(f"\u2060L{len(found_links) - 1}\u2060")
                pieces.append(node.tail or "")
                continue
            if node.tag == "a" and node.get("href", "").startswith(("http://", "https://")):
                found_links.append(("", node.get("href")))
                pieces.append(node.text_content() + f"\u2060L{len(found_links) - 1}\u2060")
                pieces.append(node.tail or "")
                continue
            if any(p.tag == "a" for p in node.iterancestors()) and node is not block:
                pieces.append(node.tail or "")
                continue
            if node is block or node.tag != "a":
                pieces.append(node.text or "")
                if node is not block:
                    pieces.append(node.tail or "")
        text = " ".join("".join(pieces).split())
        line = block.sourceline or 0
        for sentence in split_sentences(text):
            clean = " ".join(_LINK_MARK.sub("", sentence).split())
            for index in _LINK_MARK.findall(sentence):
                cid, url = found_links[int(index)]
                key = cid or link_id(url)
                claims.setdefault(key, (clean, line))
                order.append((key, url))
    seen_ids: set[str] = set()
    for cid, url in order:
        if cid in seen_ids:
            continue
        seen_ids.add(cid)
        claim, line = claims[cid]
        result.citations.append(Citation(cid, url, claim, line=line))
    result.warnings.extend(url_warnings(result.citations))
    return result


def parse_article(text: str, name: str = "") -> ImportResult:
    """Pick the reader by the file name, or by the content when the name says nothing; then keep
    the result within what a citation list accepts (see `bounded`)."""
    lowered = name.lower()
    if lowered.endswith((".html", ".htm", ".xhtml")) or re.match(r"\s*(<!doctype html|<html)", text, re.I):
        return bounded(parse_html_article(text), name)
    if lowered.endswith((".md", ".markdown")) or _MD_FOOTNOTE_DEF.search(text) or _MD_INLINE.search(text):
        return bounded(parse_markdown_article(text), name)
    return bounded(parse_text_article(text), name)


MAX_ARTICLE_BYTES = 16 * 1024 * 1024
MAX_CITATIONS_PER_ARTICLE = 10_000
MAX_CLAIM_CHARS = 2_000  # a sentence; a longer "sentence" is a run of links or markup


def bounded(result: ImportResult, name: str = "article") -> ImportResult:
    """Never more citations than `MAX_CITATIONS_PER_ARTICLE` (an error), never a cell that
    `check` would refuse: a URL over the cell limit is left out, a claim is clipped; both are said."""
    if len(result.citations) > MAX_CITATIONS_PER_ARTICLE:
        raise SourceError(
            name or "article",
            [(None, f"{len(result.citations)} citations, more than the {MAX_CITATIONS_PER_ARTICLE} accepted")],
        )
    kept, clipped = [], 0
    for c in result.citations:
        if len(c.url) > MAX_CELL_CHARS or len(c.id) > MAX_CELL_CHARS:
            result.warnings.append(
                ImportWarning(
                    "url_too_long",
                    f"[{c.id[:20]}] URL of {len(c.url)} characters left out (at most {MAX_CELL_CHARS}): "
                    f"{c.url[:80]!r}…",
                    c.line,
                    c.id[:20],
                )
            )
            continue
        if len(c.claim) > MAX_CLAIM_CHARS:
            clipped += 1
            c = replace(c, claim=c.claim[: MAX_CLAIM_CHARS - 1].rstrip() + "…")
        kept.append(c)
    if clipped:
        result.warnings.append(
            ImportWarning("claim_clipped", f"{clipped} claim(s) longer than {MAX_CLAIM_CHARS} characters were clipped")
        )
    result.citations = kept
    return result
