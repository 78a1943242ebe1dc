"""Wikitext: the citations of a wiki article. Every cite template with a `url` (cite web, cite news,
cite journal, cite book, cite magazine, citation, …) wherever it stands, and every bare external link
(`[https://… label]` or a plain URL) inside a `<ref>`; a named ref used again (`<ref name=x />`) is the
same citation, and its claim is the sentence the first use closes. `access-date` gives `cited_at`;
an `archive-url`, or a `{{webarchive}}` after a bare link, is kept as a known capture.

Archived copies are written back as Wikipedia's InternetArchiveBot writes them: `archive-url`,
`archive-date` and `url-status=live|dead|usurped` added to the cite template in its own layout, the
date in the article's `{{use dmy dates}}` / `{{use mdy dates}}` style, else in the style of the
template's access-date, else ISO; a bare link gets a `{{Webarchive}}` after it, or, with
`templates=True` and when it is all its ref holds, becomes a `{{cite web}}`. Pure: no I/O."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import mwparserfromhell
from mwparserfromhell.nodes import Comment, ExternalLink, Heading, Node, Tag, Template, Wikilink
from mwparserfromhell.parser import ParserError
from mwparserfromhell.wikicode import Wikicode

from archiver.errors import SourceError
from archiver.formats.dates import DateReading, DateStyle, read_date
from archiver.formats.records import (
    DEFAULT_LIMITS,
    Annotated,
    ArchivedCopy,
    Format,
    IdAllocator,
    ImportWarning,
    Insertion,
    KnownCapture,
    Left,
    LeftReason,
    Limits,
    Lines,
    ParsedArticle,
    ParsedCitation,
    Span,
    apply,
    check_count,
    check_size,
    classify_cited_url,
    decide,
    split_sentences,
    url_warnings,
)
from archiver.formats.wikitext_templates import (
    ARCHIVE_DATE,
    ARCHIVE_URL,
    cite_web,
    link_label,
    template_insertions,
    webarchive,
)

_USE_DMY = {"use dmy dates", "use dmy", "dmy", "use dmy date", "usedmy"}
_USE_MDY = {"use mdy dates", "use mdy", "mdy", "use mdy date", "usemdy"}
_WEBARCHIVE = {"webarchive", "web archive", "wayback", "webcite", "archive.is"}
_URL = ("url", "URL")
_ACCESS_DATE = ("access-date", "accessdate")
_REF = re.compile(r"<ref\b[^>]*/>|<ref\b[^>]*>.*?</ref\s*>", re.I | re.S)
_CLAIM_WINDOW = 4000  # characters looked back from a ref for the line it ends
_SENTENCE_WINDOW = 1200  # of which the last ones are parsed: a sentence is shorter


@dataclass
class _Site:
    """One place a citation is written: a cite template, or a bare link inside a ref."""

    node: Template | ExternalLink
    url: str
    offset: int
    ref: Tag | None
    archived: KnownCapture | None = None
    access: DateReading = field(default_factory=DateReading)


@dataclass
class _Cite:
    citation: ParsedCitation
    sites: list[_Site]


def parse(text: str, name: str = "article.wiki", limits: Limits = DEFAULT_LIMITS) -> ParsedArticle:
    """Every web citation of the article, in reading order. Raises SourceError naming each bad
    url or access-date with its line."""
    return _read(text, name, limits)[0]


def annotate(
    text: str,
    copies: Mapping[str, ArchivedCopy],
    name: str = "article.wiki",
    limits: Limits = DEFAULT_LIMITS,
    templates: bool = False,
) -> Annotated:
    """The article with each verified copy written into every template or bare link citing it."""
    _, cites, style = _read(text, name, limits)
    insertions: list[Insertion] = []
    written: list[str] = []
    left: list[Left] = []
    for cite in cites:
        outcome = decide(dataclasses.replace(cite.citation, known_captures=()), copies)
        if isinstance(outcome, Left):
            left.append(outcome)
            continue
        done = 0
        for site in cite.sites:
            if site.archived is not None or site.offset < 0:
                continue
            end = site.offset + len(str(site.node))
            if isinstance(site.node, Template):
                date_style = style or site.access.style or DateStyle.ISO
                added = template_insertions(site.node, outcome, date_style)
                insertions.extend(
                    Insertion(site.offset + i.at, i.text, i.end + site.offset if i.end >= 0 else -1) for i in added
                )
            elif templates and site.ref is not None and _only_child(site.ref, site.node):
                insertions.append(Insertion(site.offset, cite_web(site.node, outcome, style or DateStyle.ISO), end))
            else:
                insertions.append(Insertion(end, " " + webarchive(outcome, style or DateStyle.ISO)))
            done += 1
        if done:
            written.append(cite.citation.id)
        else:
            archived = any(site.archived is not None for site in cite.sites)
            reason = LeftReason.ALREADY_ARCHIVED if archived else LeftReason.NOT_WRITABLE
            left.append(Left(cite.citation.id, cite.citation.url, reason))
    return Annotated(apply(text, insertions), Format.WIKITEXT, tuple(written), tuple(left))


def _read(text: str, name: str, limits: Limits) -> tuple[ParsedArticle, list[_Cite], DateStyle | None]:
    check_size(text, name, limits)
    try:
        code = mwparserfromhell.parse(text)
    except ParserError as exc:
        raise SourceError(name, [(None, f"cannot be read as wikitext: {exc}")]) from None
    lines = Lines(text)
    offsets = _offsets(text, code)
    problems: list[tuple[int | None, str]] = []
    warnings: list[ImportWarning] = []
    style: DateStyle | None = None
    sites: list[_Site] = []
    claims_by_name: dict[str, str] = {}
    claims_by_ref: dict[int, str] = {}
    for level_nodes, ref, in_template in _levels(code):
        last: _Site | None = None
        for node in level_nodes:
            if isinstance(node, Tag) and _is_ref(node):
                claim = _claim_before(text, offsets.get(id(node), -1))
                claims_by_ref[id(node)] = claim
                ref_name = _ref_name(node)
                if ref_name and claim and ref_name not in claims_by_name:
                    claims_by_name[ref_name] = claim
            elif isinstance(node, Template):
                kind = _template_kind(node)
                if kind in _USE_DMY | _USE_MDY and style is None:
                    style = DateStyle.DMY if kind in _USE_DMY else DateStyle.MDY
                elif kind in _WEBARCHIVE and last is not None and last.archived is None:
                    last.archived = KnownCapture(_param(node, "url"), read_date(_param(node, "date")).iso)
                elif _is_cite(kind) and _param(node, *_URL):
                    last = _site(node, _param(node, *_URL), ref, offsets, lines, problems, warnings)
                    if last is not None:
                        sites.append(last)
            elif isinstance(node, ExternalLink) and ref is not None and not in_template:
                last = _site(node, str(node.url).strip(), ref, offsets, lines, problems, warnings)
                if last is not None:
                    sites.append(last)
    if problems:
        raise SourceError(name, problems)
    sites.sort(key=lambda s: s.offset)
    cites = _group(sites, lines, claims_by_ref, claims_by_name, warnings)
    check_count(len(cites), name, limits)
    citations = tuple(c.citation for c in cites)
    warnings.extend(url_warnings([c.as_citation() for c in citations]))
    return ParsedArticle(Format.WIKITEXT, citations, tuple(warnings)), cites, style


def _site(
    node: Template | ExternalLink,
    url: str,
    ref: Tag | None,
    offsets: Mapping[int, int],
    lines: Lines,
    problems: list[tuple[int | None, str]],
    warnings: list[ImportWarning],
) -> _Site | None:
    offset = offsets.get(id(node), -1)
    line = lines.line(offset) if offset >= 0 else 0
    what = f"{{{{{_template_kind(node)}}}}}" if isinstance(node, Template) else "link"
    if "{{" in url or "{{{" in url:
        warnings.append(ImportWarning("not_http", f"{what}: url {url!r} is made by a template; skipped", line))
        return None
    if url.startswith("//"):  # protocol-relative: MediaWiki serves it over https
        warnings.append(ImportWarning("protocol_relative", f"{what} url {url!r} read as https:{url}", line))
        url = "https:" + url
    kind, message = classify_cited_url(url)
    if kind == "error":
        problems.append((line, f"{what}: url {message}"))
        return None
    if kind == "skip":
        if isinstance(node, Template):
            warnings.append(ImportWarning("not_http", f"{what}: url {message}", line))
        return None
    site = _Site(node, url, offset, ref)
    if isinstance(node, Template):
        raw = _param(node, *_ACCESS_DATE)
        site.access = read_date(raw)
        if site.access.problem:
            problems.append((line, f"{what} {url}: access-date {site.access.problem}"))
        elif site.access.partial:
            warnings.append(
                ImportWarning(
                    "partial_date", f"{what} {url}: access-date {raw!r} names no day; cited_at left empty", line
                )
            )
        archive_url = _param(node, *ARCHIVE_URL)
        if archive_url:
            date = read_date(_param(node, *ARCHIVE_DATE)).iso
            site.archived = KnownCapture(archive_url, date, _param(node, "url-status"))
    return site


def _group(
    sites: list[_Site],
    lines: Lines,
    claims_by_ref: Mapping[int, str],
    claims_by_name: Mapping[str, str],
    warnings: list[ImportWarning],
) -> list[_Cite]:
    """One citation per URL: its first site gives the id (the ref's name, else a hash of the URL),
    the date and the claim; every site is where it is written."""
    ids = IdAllocator()
    by_url: dict[str, _Cite] = {}
    for site in sites:
        cite = by_url.get(site.url)
        if cite is not None:
            cite.sites.append(site)
            continue
        ref_name = _ref_name(site.ref) if site.ref is not None else ""
        claim = claims_by_ref.get(id(site.ref), "") if site.ref is not None else ""
        claim = claim or claims_by_name.get(ref_name, "")
        title = _param(site.node, "title") if isinstance(site.node, Template) else link_label(site.node)
        citation = ParsedCitation(
            id=ids.allocate(ref_name, site.url),
            url=site.url,
            title=title,
            cited_at=site.access.iso,
            claim=claim,
            line=lines.line(site.offset) if site.offset >= 0 else 0,
            source=_template_kind(site.node) if isinstance(site.node, Template) else "link",
        )
        by_url[site.url] = _Cite(citation, [site])
    cites = list(by_url.values())
    for cite in cites:
        spans = tuple(Span(s.offset, s.offset + len(str(s.node))) for s in cite.sites if s.offset >= 0)
        known = tuple(s.archived for s in cite.sites if s.archived is not None)
        cite.citation = dataclasses.replace(cite.citation, spans=spans, known_captures=known)
    return cites


# --- walking the tree -----------------------------------------------------------------------------------


def _levels(code: Wikicode) -> Iterator[tuple[list[Node], Tag | None, bool]]:
    """Every sequence of sibling nodes, in document order, with the ref around it and whether it
    sits inside a template within that ref (a cite template's url is no bare link)."""
    stack: list[tuple[Wikicode, Tag | None, bool]] = [(code, None, False)]
    while stack:
        level, ref, in_template = stack.pop(0)
        nodes = list(level.nodes)
        yield nodes, ref, in_template
        children: list[tuple[Wikicode, Tag | None, bool]] = []
        for node in nodes:
            if isinstance(node, Tag) and node.contents is not None and _is_ref(node):
                children.append((node.contents, node, False))  # a ref's own links, even inside {{efn}}
            elif isinstance(node, Tag) and node.contents is not None:
                children.append((node.contents, ref, in_template))
            elif isinstance(node, Template):
                children.extend((p.value, ref, True) for p in node.params)
            elif isinstance(node, Wikilink) and node.text is not None:
                children.append((node.text, ref, in_template))
            elif isinstance(node, Heading):
                children.append((node.title, ref, in_template))
        stack[0:0] = children


def _offsets(text: str, code: Wikicode) -> dict[int, int]:
    """Where each tag, template and external link starts in the text: found in document order, each
    search starting past the previous find, which never overshoots (a node starts after its parent's
    and its previous sibling's start)."""
    offsets: dict[int, int] = {}
    cursor = 0
    for node in code.filter(recursive=True):
        if not isinstance(node, Tag | Template | ExternalLink):
            continue
        found = text.find(str(node), cursor)
        if found >= 0:
            offsets[id(node)] = found
            cursor = found + 1
    return offsets


def _is_ref(node: Tag) -> bool:
    return str(node.tag).strip().lower() == "ref"


def _ref_name(ref: Tag) -> str:
    if not ref.has("name"):
        return ""
    return str(ref.get("name").value).strip().strip("\"'").strip()


def _template_kind(node: Template) -> str:
    """A template's name as MediaWiki compares them: first letter, underscores and spaces aside."""
    return " ".join(str(node.name).replace("_", " ").split()).lower()


def _is_cite(kind: str) -> bool:
    return kind == "citation" or kind.startswith("cite ")


def _param(node: Template, *names: str) -> str:
    """A parameter's value as plain text (comments dropped), the first of `names` that is set."""
    for param_name in names:
        if node.has(param_name):
            value = node.get(param_name).value
            kept = "".join(str(n) for n in value.nodes if not isinstance(n, Comment))
            if kept.strip():
                return kept.strip()
    return ""


def _claim_before(text: str, offset: int) -> str:
    """The sentence a ref closes: its line's text before it, refs and markup removed, last sentence."""
    if offset < 0:
        return ""
    window = _REF.sub("", text[max(0, offset - _CLAIM_WINDOW) : offset])
    cut = window.lower().rfind("</ref")
    if cut >= 0:  # a ref whose opening fell outside the window
        window = window[window.find(">", cut) + 1 :]
    line = window.rsplit("\n", 1)[-1][-_SENTENCE_WINDOW:]
    plain = " ".join(mwparserfromhell.parse(line).strip_code().split())
    sentences = split_sentences(plain)
    return sentences[-1] if sentences else ""


def _only_child(ref: Tag, node: Node) -> bool:
    contents = ref.contents
    return contents is not None and all(n is node or not str(n).strip() for n in contents.nodes)
