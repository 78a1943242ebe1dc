"""CSL-JSON, what Zotero, Mendeley and pandoc export: an array of items; every item with a `URL` is a
citation (`id` its id, `accessed` the date it was cited). Archived copies are written back as the
CSL variables `archive` (the archive's name) and `archive_location` (the capture's URL): CSL 1.0.2
has no archive-URL variable (one is proposed, not adopted), its schema allows no other key, and these
two are what Zotero maps its own "Archive" and "Loc. in Archive" fields to.

The items are located with the standard library's JSON decoder, one value at a time, so a write-back
adds two members in the item's own layout (indent, `": "`) and leaves every other byte alone.
Pure: no I/O."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from archiver.errors import SourceError
from archiver.formats.dates import DateReading, read_date, read_date_parts
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
    archive_name,
    check_count,
    check_size,
    classify_cited_url,
    decide,
    url_warnings,
)
from archiver.urls import is_http_url

_DECODER = json.JSONDecoder()
_TAG = re.compile(r"</?(?:i|b|sup|sub|span)\b[^>]*>", re.I)


@dataclass(frozen=True)
class _Member:
    key: str
    lead: str  # the whitespace before the key
    colon: str  # from the end of the key to the value: `": "`
    end: int  # offset just after the value


@dataclass(frozen=True)
class _Item:
    citation: ParsedCitation
    taken: bool  # `archive` or `archive_location` already hold something


def parse(text: str, name: str = "references.json", limits: Limits = DEFAULT_LIMITS) -> ParsedArticle:
    """Every item with a URL, in file order. Raises SourceError naming the item, its line and the problem."""
    return _read(text, name, limits)[0]


def annotate(
    text: str, copies: Mapping[str, ArchivedCopy], name: str = "references.json", limits: Limits = DEFAULT_LIMITS
) -> Annotated:
    """The file with `archive` and `archive_location` added to each item that has a verified copy."""
    _, items = _read(text, name, limits)
    insertions: list[Insertion] = []
    written: list[str] = []
    left: list[Left] = []
    for item in items:
        outcome = decide(item.citation, copies)
        if isinstance(outcome, Left):
            left.append(outcome)
        elif item.taken:
            left.append(Left(item.citation.id, item.citation.url, LeftReason.FIELDS_TAKEN))
        else:
            insertions.append(_insertion(text, item, outcome))
            written.append(item.citation.id)
    return Annotated(apply(text, insertions), Format.CSL_JSON, tuple(written), tuple(left))


def _read(text: str, name: str, limits: Limits) -> tuple[ParsedArticle, list[_Item]]:
    check_size(text, name, limits)
    start = 1 if text.startswith("\ufeff") else 0
    try:
        data = json.loads(text[start:])
    except json.JSONDecodeError as exc:
        raise SourceError(name, [(exc.lineno, f"not valid JSON: {exc.msg} (column {exc.colno})")]) from None
    except RecursionError:
        raise SourceError(name, [(None, "not valid CSL-JSON: nested too deeply")]) from None
    if not isinstance(data, list):
        kind = type(data).__name__
        raise SourceError(name, [(1, f"CSL-JSON is an array of items ([{{…}}, …]); this file holds a {kind}")])
    check_count(len(data), name, limits)
    lines = Lines(text)
    problems: list[tuple[int | None, str]] = []
    items: list[_Item] = []
    warnings: list[ImportWarning] = []
    without_url: list[str] = []
    seen: dict[str, int] = {}
    ids = IdAllocator()
    for number, (value, span) in enumerate(_items(text, start), 1):
        line = lines.line(span.start)
        if not isinstance(value, dict):
            problems.append((line, f"item {number} is a {type(value).__name__}, not an object"))
            continue
        raw_id = value.get("id")
        where = f"item {number} (id {raw_id!r})"
        if isinstance(raw_id, bool) or not isinstance(raw_id, str | int) or str(raw_id).strip() == "":
            problems.append((line, f"item {number} has no id (a string or a number)"))
            continue
        key = str(raw_id)
        if key in seen:
            problems.append((line, f"{where}: the id is already used by item {seen[key]}"))
            continue
        seen[key] = number
        url = value.get("URL", value.get("url"))
        if url is None or url == "":
            without_url.append(key)
            continue
        if not isinstance(url, str):
            problems.append((line, f"{where}: URL {url!r} is not a string"))
            continue
        kind, message = classify_cited_url(url.strip())
        if kind == "error":
            problems.append((line, f"{where}: URL {message}"))
            continue
        if kind == "skip":
            warnings.append(ImportWarning("not_http", f"{where}: URL {message}", line, key))
            continue
        cid = ids.allocate(key, url.strip())
        reading = _accessed(value.get("accessed"))
        if reading.problem:
            problems.append((line, f"{where}: accessed {reading.problem}"))
        elif reading.partial:
            warnings.append(
                ImportWarning("partial_date", f"{where}: accessed names no day; cited_at left empty", line, cid)
            )
        location = value.get("archive_location")
        known = (KnownCapture(location.strip()),) if isinstance(location, str) and is_http_url(location.strip()) else ()
        title = value.get("title")
        citation = ParsedCitation(
            id=cid,
            url=url.strip(),
            title=_plain(title) if isinstance(title, str) else "",
            cited_at=reading.iso,
            line=line,
            source=str(value.get("type", "item")),
            spans=(span,),
            known_captures=known,
        )
        taken = bool(value.get("archive") or value.get("archive_location"))
        items.append(_Item(citation, taken))
    if problems:
        raise SourceError(name, problems)
    if without_url:
        shown = ", ".join(without_url[:10]) + (", …" if len(without_url) > 10 else "")
        warnings.append(ImportWarning("no_url", f"skipped {len(without_url)} item(s) without a URL: {shown}"))
    citations = tuple(i.citation for i in items)
    warnings.extend(url_warnings([c.as_citation() for c in citations]))
    return ParsedArticle(Format.CSL_JSON, citations, tuple(warnings)), items


def _items(text: str, start: int) -> list[tuple[Any, Span]]:
    """Each top-level item with its span. The text is already known to be a valid JSON array."""
    pos = _skip(text, start) + 1  # past the "["
    found: list[tuple[Any, Span]] = []
    while True:
        pos = _skip(text, pos)
        if text[pos] == "]":
            return found
        value, end = _DECODER.raw_decode(text, pos)
        found.append((value, Span(pos, end)))
        pos = _skip(text, end)
        if text[pos] == ",":
            pos += 1


def _skip(text: str, pos: int) -> int:
    """The offset of the next character that is not JSON whitespace."""
    while pos < len(text) and text[pos] in " \t\n\r":
        pos += 1
    return pos


def _members(text: str, pos: int) -> tuple[_Member, ...]:
    """The members of the object at `pos`, each with the whitespace and colon written around it."""
    members: list[_Member] = []
    pos += 1  # past the "{"
    while True:
        lead_end = _skip(text, pos)
        if text[lead_end] == "}":
            return tuple(members)
        key, key_end = _DECODER.raw_decode(text, lead_end)
        value_start = _skip(text, _skip(text, key_end) + 1)  # past the ":"
        _, value_end = _DECODER.raw_decode(text, value_start)
        members.append(_Member(key, text[pos:lead_end], text[key_end:value_start], value_end))
        pos = _skip(text, value_end)
        if text[pos] == ",":
            pos += 1


def _plain(rich: str) -> str:
    """A CSL rich-text value (`<i>`, `<sup>`, `<span class="nocase">`) as plain text."""
    return " ".join(html.unescape(_TAG.sub("", rich)).split())


def _accessed(value: object) -> DateReading:
    """CSL dates: `{"date-parts": [[2021, 5, 5]]}`, `{"raw": "…"}`, `{"literal": "…"}`, or an EDTF string."""
    if value is None or value == "" or value == {}:
        return DateReading()
    if isinstance(value, str):
        return read_date(value)
    if not isinstance(value, dict):
        return DateReading(problem=f"{value!r} is not a CSL date")
    parts = value.get("date-parts")
    if parts is not None:
        if not isinstance(parts, list) or not parts or not isinstance(parts[0], list):
            return DateReading(problem=f"date-parts {parts!r} is not a list of [year, month, day]")
        return read_date_parts(parts[0])
    for key in ("raw", "literal", "edtf"):
        if isinstance(value.get(key), str):
            return read_date(value[key])
    return DateReading(problem=f"{value!r} has no date-parts, raw or literal")


def _insertion(text: str, item: _Item, copy: ArchivedCopy) -> Insertion:
    """The two members, after the item's last one, in its layout (indent and `": "`)."""
    members = _members(text, item.citation.spans[0].start)
    last = members[-1]
    lead = last.lead if len(members) > 1 or "\n" in last.lead else " "
    added = "".join(
        f",{lead}{json.dumps(key, ensure_ascii=False)}{last.colon}{json.dumps(value, ensure_ascii=False)}"
        for key, value in (("archive", archive_name(copy.capture_url)), ("archive_location", copy.capture_url))
    )
    return Insertion(last.end, added)
