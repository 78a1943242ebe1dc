"""BibTeX and BibLaTeX: every entry with a URL is a citation (its key the id, `urldate` the date it
was cited), and archived copies are written back as `archiveurl` and `archivedate` fields.

bibtexparser 2 splits the file (blocks, nested braces, quotes, comments, @string and @preamble, error
recovery with line numbers); its default middleware is not used because it leaves `#` concatenations
unresolved, so field values are evaluated here, with the file's @string macros.

Why `archiveurl` / `archivedate`: biblatex has no archive field, BibTeX styles none either. The
fields a style prints for free (`note`, `addendum`, `howpublished`) hold prose the author wrote, so
writing there would change an existing field; `eprint` is taken by arXiv and the like. `archiveurl`
and `archivedate` are the names the biblatex community declares for exactly this (a two-line
datamodel, `\\DeclareDatamodelFields[type=field,datatype=uri]{archiveurl}`), they match Wikipedia's
`archive-url` / `archive-date`, every style that does not declare them ignores them, and they read
back unambiguously. Pure: no I/O."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.model import DuplicateBlockKeyBlock, DuplicateFieldKeyBlock, Entry, ParsingFailedBlock
from pylatexenc.latex2text import LatexNodes2Text
from pylatexenc.latexwalker import LatexWalker, get_default_latex_context_db

from archiver.errors import SourceError
from archiver.formats.dates import MONTHS, DateReading, read_date
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
    url_warnings,
)

ARCHIVE_URL_FIELD = "archiveurl"
ARCHIVE_DATE_FIELD = "archivedate"

# BibTeX predefines the month macros.
_MONTH_MACROS = {name[:3].lower(): name for name in MONTHS}
_URL_COMMAND = re.compile(r"\\(?:url|href)\s*\{([^{}]*)\}")
_LATEX_ESCAPE = re.compile(r"\\([_%&#~$])")
# Old BibTeX styles have no urldate; people write the access date into a note.
_ACCESSED_NOTE = re.compile(
    r"(?:last\s+)?(?:accessed|retrieved|visited|consulted)(?:\s+on)?\s*:?\s*(.+?)\s*\.?\s*$", re.I
)
_FIELD_LAYOUT = re.compile(r"([ \t]*)([A-Za-z][\w:.+-]*)([ \t]*)=([ \t]*)")
_BLOCK_KEY = re.compile(r"@\s*\w+\s*[{(]\s*([^,\s]+)")


@dataclass(frozen=True)
class _Entry:
    citation: ParsedCitation
    field_lines: tuple[int, ...]  # 1-based line of each field, in order


def parse(text: str, name: str = "references.bib", limits: Limits = DEFAULT_LIMITS) -> ParsedArticle:
    """Every entry with a URL, in file order. Raises SourceError naming every bad entry and line."""
    article, _, _ = _read(text, name, limits)
    return article


def annotate(
    text: str, copies: Mapping[str, ArchivedCopy], name: str = "references.bib", limits: Limits = DEFAULT_LIMITS
) -> Annotated:
    """The file with `archiveurl` and `archivedate` added to each entry that has a verified copy."""
    _, entries, lines = _read(text, name, limits)
    insertions: list[Insertion] = []
    written: list[str] = []
    left: list[Left] = []
    for entry in entries:
        outcome = decide(entry.citation, copies)
        if isinstance(outcome, Left):
            left.append(outcome)
            continue
        insertions.append(_insertion(text, lines, entry, outcome))
        written.append(entry.citation.id)
    return Annotated(apply(text, insertions), Format.BIBTEX, tuple(written), tuple(left))


def _read(text: str, name: str, limits: Limits) -> tuple[ParsedArticle, list[_Entry], Lines]:
    check_size(text, name, limits)
    library = bibtexparser.parse_string(text, parse_stack=[])  # type: ignore[attr-defined]
    lines = Lines(text)
    problems: list[tuple[int | None, str]] = []
    cursor = 0
    offsets: dict[int, int] = {}  # id(block) -> offset of its raw text
    for block in library.blocks:
        raw = block.raw or ""
        found = text.find(raw, cursor) if raw else -1
        if found >= 0:
            offsets[id(block)] = found
            cursor = found + len(raw)
    for failed in library.failed_blocks:
        problems.append((_line(lines, offsets, failed), _failure(failed, library)))
    strings, string_problems = _strings(library, lines, offsets)
    problems.extend(string_problems)
    entries: list[_Entry] = []
    warnings: list[ImportWarning] = []
    without_url: list[str] = []
    ids = IdAllocator()
    for entry in library.entries:
        line = _line(lines, offsets, entry)
        where = f"entry {entry.key!r}"
        values: dict[str, str] = {}
        for f in entry.fields:
            value, problem = _evaluate(str(f.value), strings)
            if problem:
                problems.append((line + _field_offset(entry, f.start_line), f"{where}: field {f.key}: {problem}"))
            values[f.key.lower()] = value
        url = _url(values)
        if not url:
            without_url.append(entry.key)
            continue
        kind, message = classify_cited_url(url)
        if kind == "error":
            problems.append((line, f"{where}: url {message}"))
            continue
        if kind == "skip":
            warnings.append(ImportWarning("not_http", f"{where}: url {message}", line, entry.key))
            continue
        cited_at = ""
        urldate = values.get("urldate", "")
        reading = read_date(urldate) if urldate else _accessed_note(values)
        if reading is not None:
            if reading.problem:
                problems.append((line, f"{where}: urldate {reading.problem}"))
            elif reading.partial:
                warnings.append(
                    ImportWarning(
                        "partial_date", f"{where}: urldate {urldate!r} names no day; cited_at left empty", line
                    )
                )
            cited_at = reading.iso
        known: tuple[KnownCapture, ...] = ()
        if values.get(ARCHIVE_URL_FIELD):
            archived = read_date(values.get(ARCHIVE_DATE_FIELD, ""))
            known = (KnownCapture(values[ARCHIVE_URL_FIELD], archived.iso),)
        start = offsets.get(id(entry), -1)
        spans = (Span(start, start + len(entry.raw or "")),) if start >= 0 else ()
        citation = ParsedCitation(
            id=ids.allocate(entry.key, url),
            url=url,
            title=_plain(values.get("title", "")),
            cited_at=cited_at,
            line=line,
            source=f"@{entry.entry_type.lower()}",
            spans=spans,
            known_captures=known,
        )
        entries.append(_Entry(citation, tuple(line + _field_offset(entry, f.start_line) for f in entry.fields)))
    if problems:
        raise SourceError(name, sorted(problems, key=lambda p: p[0] or 0))
    check_count(len(entries), name, limits)
    if without_url:
        shown = ", ".join(without_url[:10]) + (", …" if len(without_url) > 10 else "")
        warnings.append(ImportWarning("no_url", f"skipped {len(without_url)} entry/entries without a url: {shown}"))
    citations = tuple(e.citation for e in entries)
    warnings.extend(url_warnings([c.as_citation() for c in citations]))
    return ParsedArticle(Format.BIBTEX, citations, tuple(warnings)), entries, lines


def _line(lines: Lines, offsets: Mapping[int, int], block: object) -> int:
    offset = offsets.get(id(block))
    if offset is not None:
        return lines.line(offset)
    start = getattr(block, "start_line", None)
    return (start or 0) + 1  # bibtexparser counts lines from 0


def _field_offset(entry: Entry, field_line: int | None) -> int:
    """Lines from the entry's first line to one of its fields (both as bibtexparser counts them)."""
    return max(0, (field_line or 0) - (entry.start_line or 0))


def _failure(block: ParsingFailedBlock, library: Library) -> str:
    key = _BLOCK_KEY.match(block.raw or "")
    where = f"entry {key.group(1)!r}" if key else "block"
    if isinstance(block, DuplicateBlockKeyBlock):
        previous = block.previous_block.start_line
        first = f" (first on line {previous + 1})" if previous is not None else ""
        return f"entry key {block.key!r} is used twice{first}"
    if isinstance(block, DuplicateFieldKeyBlock):
        return f"{where} has the field(s) {', '.join(sorted(block.duplicate_keys))} twice"
    reason = getattr(block.error, "abort_reason", "") or str(block.error)
    return f"{where} cannot be read: {' '.join(str(reason).split())}"


def _strings(
    library: Library, lines: Lines, offsets: Mapping[int, int]
) -> tuple[dict[str, str], list[tuple[int | None, str]]]:
    """The @string macros, each evaluated with those defined before it (as BibTeX reads them)."""
    strings: dict[str, str] = dict(_MONTH_MACROS)
    problems: list[tuple[int | None, str]] = []
    for block in library.strings:
        value, problem = _evaluate(str(block.value), strings)
        if problem:
            problems.append((_line(lines, offsets, block), f"@string {block.key!r}: {problem}"))
        strings[block.key.lower()] = value
    return strings, problems


def _evaluate(raw: str, strings: Mapping[str, str]) -> tuple[str, str]:
    """A field value as BibTeX reads it: `{…}` and `"…"` literals, numbers and macros joined by `#`."""
    pieces: list[str] = []
    for part in _split_concatenation(raw):
        part = part.strip()
        if len(part) >= 2 and (part[0], part[-1]) in {("{", "}"), ('"', '"')}:
            pieces.append(part[1:-1])
        elif part.isdigit():
            pieces.append(part)
        elif part.lower() in strings:
            pieces.append(strings[part.lower()])
        elif part:
            return "", f"undefined @string macro {part!r}"
    return "".join(pieces), ""


def _split_concatenation(raw: str) -> list[str]:
    parts: list[str] = []
    depth, quoted, start, i = 0, False, 0, 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == '"' and depth == 0:
            quoted = not quoted
        elif ch == "#" and depth == 0 and not quoted:
            parts.append(raw[start:i])
            start = i + 1
        i += 1
    parts.append(raw[start:])
    return parts


def _url(values: Mapping[str, str]) -> str:
    """The entry's URL: `url`, or a `\\url{…}` in `howpublished` (how BibTeX styles without a url
    field are fed one). LaTeX escapes people put in URLs (`\\_`, `\\%`) are undone."""
    url = values.get("url", "").strip()
    if not url:
        found = _URL_COMMAND.search(values.get("howpublished", ""))
        url = found.group(1).strip() if found else ""
    wrapped = _URL_COMMAND.fullmatch(url)
    if wrapped:
        url = wrapped.group(1).strip()
    url = url.strip("{}").strip()
    return _LATEX_ESCAPE.sub(r"\1", url)


def _accessed_note(values: Mapping[str, str]) -> DateReading | None:
    """An access date written as prose in `note` or `addendum` ("Accessed: 2021-05-05"), when it
    reads as a date; prose that does not is left alone (it is the author's, not a field)."""
    for fieldname in ("note", "addendum", "howpublished"):
        found = _ACCESSED_NOTE.search(_plain(values.get(fieldname, "")))
        if found:
            reading = read_date(found.group(1))
            if reading.iso:
                return reading
    return None


_LATEX = LatexNodes2Text()
_LATEX_CONTEXT = get_default_latex_context_db()  # built once: pylatexenc rebuilds it per call otherwise
_LATEX_MARKUP = re.compile(r"[\\$~]|--|``|''")


def _plain(value: str) -> str:
    """A field's text with its LaTeX (accents, protective braces, commands) turned into Unicode."""
    if not _LATEX_MARKUP.search(value):  # only protective braces: most titles, and much faster
        return " ".join(value.replace("{", "").replace("}", "").split())
    try:
        nodes, _, _ = LatexWalker(value, latex_context=_LATEX_CONTEXT, tolerant_parsing=True).get_latex_nodes()
        return " ".join(_LATEX.nodelist_to_text(nodes).split())
    except (ValueError, IndexError, RecursionError):  # pylatexenc on malformed LaTeX: keep it as written
        return " ".join(value.split())


def _insertion(text: str, lines: Lines, entry: _Entry, copy: ArchivedCopy) -> Insertion:
    """The two fields, written in the entry's own layout (indent, alignment of `=`, trailing comma)."""
    span = entry.citation.spans[0]
    body_end = span.end - 1  # the closing } or )
    last = body_end - 1
    while last > span.start and text[last].isspace():
        last -= 1
    newline = "\r\n" if "\r\n" in text[span.start : span.end] else "\n"
    layouts = [
        found
        for line in entry.field_lines
        if lines.start(line) > span.start and (found := _FIELD_LAYOUT.match(text, lines.start(line)))
    ]
    if layouts:  # one field a line: follow the most common indent, `=` column and spacing
        indent, before_eq, after_eq = Counter((m.group(1), m.group(3), m.group(4)) for m in layouts).most_common(1)[0][
            0
        ]
        width = Counter(len(m.group(2)) + len(m.group(3)) for m in layouts).most_common(1)[0][0]
        sep = newline + indent
    else:  # everything on the entry's first line
        before_eq, after_eq, width, sep = " ", " ", 0, " "

    def field(name: str, value: str) -> str:
        pad = " " * max(1 if before_eq else 0, width - len(name))
        return f"{name}{pad}={after_eq}{{{value}}}"

    url = copy.capture_url.replace("{", "%7B").replace("}", "%7D")
    fields = [field(ARCHIVE_URL_FIELD, url), field(ARCHIVE_DATE_FIELD, copy.day)]
    trailing_comma = text[last] == ","
    added = "".join(f"{sep}{f}," for f in fields) if trailing_comma else "," + ",".join(f"{sep}{f}" for f in fields)
    return Insertion(last + 1, added)
