"""Reading citation lists. Pure: takes text, returns citations or a SourceError naming every bad line."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from pathlib import Path

from archiver.errors import SourceError
from archiver.models import Citation
from archiver.urls import canonical, is_http_url

REQUIRED_COLUMNS = ("id", "url")
KNOWN_COLUMNS = ("id", "url", "claim", "cited_at", "expect", "interval")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ][0-9:.+Z-]*)?$")
_INTERVAL = re.compile(r"^\d+(\.\d+)?\s*[smhdw]$")


def read_sources(path: str | Path) -> list[Citation]:
    """Read a `sources.csv` file. Raises SourceError (with line numbers) on any bad row."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SourceError(path, [(None, "file not found (set --sources or ARCHIVER_SOURCES)")]) from None
    except OSError as exc:
        raise SourceError(path, [(None, f"cannot read: {exc.strerror}")]) from None
    return parse_sources(data, path)


def parse_sources(data: bytes, path: str | Path = "sources.csv") -> list[Citation]:
    """Parse the bytes of a citation list; every problem is collected before raising."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceError(path, [(line, f"not UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8")]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    problems: list[tuple[int | None, str]] = []
    citations: list[Citation] = []
    seen: dict[str, int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue  # blank lines are allowed anywhere
            if header is None:
                header = [cell.strip().lower() for cell in row]
                missing = [c for c in REQUIRED_COLUMNS if c not in header]
                if missing:
                    raise SourceError(
                        path,
                        [
                            (
                                line,
                                f"header must name the columns {', '.join(REQUIRED_COLUMNS)}; "
                                f"missing {', '.join(missing)} (first line read: {','.join(row)[:80]!r})",
                            )
                        ],
                    )
                dupes = {c for c in header if header.count(c) > 1 and c}
                if dupes:
                    raise SourceError(path, [(line, f"column named twice: {', '.join(sorted(dupes))}")])
                continue
            if len(row) > len(header):
                problems.append((line, f"{len(row)} fields but the header names {len(header)} (an unquoted comma?)"))
                continue
            values = {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(header) if name}
            citation, errors = _citation(values, line)
            problems.extend((line, e) for e in errors)
            if citation is None:
                continue
            if citation.id in seen:
                problems.append((line, f"duplicate id {citation.id!r} (first on line {seen[citation.id]})"))
                continue
            seen[citation.id] = line
            citations.append(citation)
    except csv.Error as exc:
        problems.append((reader.line_num, f"malformed CSV: {exc}"))
    if header is None:
        raise SourceError(path, [(None, "empty file: expected a header line 'id,url,claim'")])
    if problems:
        raise SourceError(path, problems)
    return citations


def _citation(values: dict[str, str], line: int) -> tuple[Citation | None, list[str]]:
    errors = []
    cid, url = values.get("id", ""), values.get("url", "")
    if not cid:
        errors.append("id is empty")
    elif not _ID.match(cid):
        errors.append(f"id {cid!r} must be letters, digits, '.', '_' or '-' (at most 64)")
    if not url:
        errors.append("url is empty")
    elif url != url.strip() or any(c.isspace() for c in url):
        errors.append(f"url {url!r} contains spaces")
    elif not is_http_url(url):
        errors.append(f"url {url!r} is not an absolute http:// or https:// URL")
    cited_at = values.get("cited_at", "")
    if cited_at and not _DATE.match(cited_at):
        errors.append(f"cited_at {cited_at!r} is not a date like 2025-04-28")
    interval = values.get("interval", "")
    if interval and not _INTERVAL.match(interval):
        errors.append(f"interval {interval!r} is not a duration like 6h, 30m or 2d")
    if errors:
        return None, errors
    expect = tuple(p.strip() for p in values.get("expect", "").split("|") if p.strip())
    extra = {k: v for k, v in values.items() if k not in KNOWN_COLUMNS}
    return Citation(cid, url, values.get("claim", ""), cited_at, expect, interval, line, extra), []


def merge_sources(
    existing: bytes | None, imported: list[Citation], canonical_of: dict[str, str] | None = None
) -> tuple[str, list[str]]:
    """Merge imported citations into an existing list (CSV text, or None for a new file).

    Existing rows keep their ids, their order and every hand-written cell; a citation is matched by
    id and URL, or by canonical URL; new ones are appended. Rows the article no longer cites are
    kept (their history stays in the store). Returns the new CSV text and notes for the user."""
    canonical_of = canonical_of or {}
    header: list[str] = ["id", "url", "claim"]
    rows: list[dict[str, str]] = []
    if existing:
        text = existing.decode("utf-8-sig")
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = [h for h in (reader.fieldnames or []) if h] or header
        rows = [dict(r) for r in reader if any((v or "").strip() for v in r.values() if isinstance(v, str))]
    if any(canonical_of.values()) and "canonical" not in header:
        header.append("canonical")
    for column in ("id", "url", "claim"):
        if column not in header:
            header.insert(["id", "url", "claim"].index(column), column)
    by_id = {r.get("id", ""): r for r in rows}
    by_canonical = {_canon(r.get("url", "")): r for r in rows}
    notes: list[str] = []
    matched: set[int] = set()
    added = kept = 0
    for c in imported:
        row = by_id.get(c.id)
        if row is not None and _canon(row.get("url", "")) != _canon(c.url):
            other = by_canonical.get(_canon(c.url))
            if other is None:
                new_id = _free_id(c.id, by_id)
                notes.append(
                    f"id {c.id} already names {row.get('url')}; the article's [{c.id}] {c.url} was added as {new_id}"
                )
                row = None
                c = Citation(new_id, c.url, c.claim, line=c.line)
            else:
                row = other
        elif row is None:
            row = by_canonical.get(_canon(c.url))
        if row is None:
            row = {h: "" for h in header}
            row.update({"id": c.id, "url": c.url, "claim": c.claim})
            rows.append(row)
            by_id[c.id] = row
            added += 1
        else:
            kept += 1
            if not (row.get("claim") or "").strip() and c.claim:
                row["claim"] = c.claim  # fill an empty cell, never overwrite a written one
        if canonical_of.get(c.url) and not (row.get("canonical") or "").strip():
            row["canonical"] = canonical_of[c.url]
        matched.add(id(row))
    for row in rows:
        if id(row) not in matched and existing:
            notes.append(f"[{row.get('id')}] {row.get('url')} is no longer cited by the article; kept")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({h: row.get(h) or "" for h in header})
    notes.insert(0, f"{added} new, {kept} already listed, {len(rows)} in all")
    return out.getvalue(), notes


def _canon(url: str) -> str:
    try:
        return canonical(url)
    except ValueError:
        return url


def _free_id(wanted: str, taken: Mapping[str, object]) -> str:
    for suffix in "bcdefghijklmnopqrstuvwxyz":
        if f"{wanted}{suffix}" not in taken:
            return f"{wanted}{suffix}"
    raise SourceError("sources.csv", [(None, f"no free id near {wanted}")])
