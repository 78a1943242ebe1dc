"""Reading citation lists. Pure: takes text, returns citations or a SourceError naming every bad line."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from archiver.cadence import parse_duration
from archiver.errors import ConfigError, SourceError
from archiver.models import Citation
from archiver.models.time import parse_date
from archiver.urls import canonical, is_http_url, url_problem

REQUIRED_COLUMNS = ("id", "url")
KNOWN_COLUMNS = ("id", "url", "claim", "cited_at", "expect", "interval")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

# What a citation list may hold: far past any real article's, small enough to read in a moment.
MAX_SOURCES_BYTES = 64 * 1024 * 1024
MAX_LINE_CHARS = 65_536
MAX_CELL_CHARS = 8_192  # a URL or a claim; `import` never writes a longer cell
MAX_COLUMNS = 64
MAX_CITATIONS = 100_000
MAX_PROBLEMS = 100  # named one by one; past this the list is plainly not a citation list


def select(citations: Sequence[Citation], only: Sequence[str] | None) -> list[Citation]:
    """The citations named by `only` (all when empty); an unknown id is an error, not a silent skip."""
    if not only:
        return list(citations)
    known = {c.id for c in citations}
    unknown = [i for i in only if i not in known]
    if unknown:
        raise ConfigError(f"no citation with id {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    wanted = set(only)
    return [c for c in citations if c.id in wanted]


def read_sources(path: str | Path) -> list[Citation]:
    """Read a `sources.csv` file. Raises SourceError (with line numbers) on any bad row."""
    return parse_sources(read_bounded(path, MAX_SOURCES_BYTES, "set --sources or ARCHIVER_SOURCES"), path)


def read_bounded(path: str | Path, limit: int, hint: str = "") -> bytes:
    """The bytes of a file of at most `limit` bytes; reading stops past it (`/dev/zero` included)."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = f.read(limit + 1)
    except FileNotFoundError:
        raise SourceError(path, [(None, "file not found" + (f" ({hint})" if hint else ""))]) from None
    except IsADirectoryError:
        raise SourceError(path, [(None, "is a directory, not a file")]) from None
    except OSError as exc:
        raise SourceError(path, [(None, f"cannot read: {exc.strerror}")]) from None
    if len(data) > limit:
        raise SourceError(path, [(None, f"larger than {_size(limit)}, the most accepted")])
    return data


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n >= 1024 * 1024 else f"{n} bytes"


def parse_sources(data: bytes, path: str | Path = "sources.csv") -> list[Citation]:
    """Parse the bytes of a citation list; every problem is collected before raising.
    Linear in the size of the list, and bounded: see the MAX_* limits above."""
    if len(data) > MAX_SOURCES_BYTES:
        raise SourceError(path, [(None, f"larger than {_size(MAX_SOURCES_BYTES)}, the most accepted")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceError(path, [(line, f"not UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8")]) from None
    lines = text.split("\n")
    long_line = next((n for n, line in enumerate(lines, 1) if len(line) > MAX_LINE_CHARS), None)
    if long_line is not None:
        raise SourceError(path, [(long_line, f"line longer than {MAX_LINE_CHARS} characters, the most accepted")])
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    problems: list[tuple[int | None, str]] = []
    citations: list[Citation] = []
    seen: dict[str, int] = {}
    start = 1  # the line the row being read begins on
    try:
        for row in reader:
            line, end = start, reader.line_num
            start = end + 1
            if not any(cell.strip() for cell in row):
                continue  # blank lines are allowed anywhere
            if end > line:
                quote = _runaway_quote(lines, line, end, row, header)
                if quote:
                    raise SourceError(path, [*problems, (line, quote)])
            if header is None:
                header = _header(row, line, path)
                continue
            if len(row) > len(header):
                problems.append((line, f"{len(row)} fields but the header names {len(header)} (an unquoted comma?)"))
            elif len(citations) >= MAX_CITATIONS:
                raise SourceError(path, [(line, f"more than {MAX_CITATIONS} citations, the most accepted")])
            else:
                values = {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(header) if name}
                citation, errors = _citation(values, line)
                problems.extend((line, e) for e in errors)
                if citation is not None and citation.id in seen:
                    problems.append((line, f"duplicate id {citation.id!r} (first on line {seen[citation.id]})"))
                elif citation is not None:
                    seen[citation.id] = line
                    citations.append(citation)
            if len(problems) >= MAX_PROBLEMS:
                problems.append((None, f"stopped after {MAX_PROBLEMS} problems: is this a citation list?"))
                break
    except csv.Error as exc:
        problems.append((reader.line_num, f"malformed CSV: {exc}"))
    if header is None:
        raise SourceError(path, [(None, "empty file: expected a header line 'id,url,claim'")])
    if problems:
        raise SourceError(path, problems)
    return citations


def _header(row: list[str], line: int, path: str | Path) -> list[str]:
    if len(row) > MAX_COLUMNS:
        raise SourceError(path, [(line, f"{len(row)} columns, more than the {MAX_COLUMNS} accepted")])
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
    dupes = sorted(c for c, n in Counter(header).items() if n > 1 and c)
    if dupes:
        raise SourceError(path, [(line, f"column named twice: {', '.join(dupes)}")])
    return header


def _runaway_quote(lines: list[str], first: int, last: int, row: list[str], header: list[str] | None) -> str:
    """Why a row read across lines `first`..`last` is a quote left open, or "" when it is a genuine
    multi-line cell: the quote is never closed, or the cell swallows lines that look like rows."""
    raw = "\n".join(lines[first - 1 : last])
    if raw.count('"') % 2:
        return f"a quote opened on line {first} is never closed: lines {first} to {last} would be one cell"
    url_at = header.index("url") if header else 1
    id_at = header.index("id") if header else 0
    for cell in row:
        for inner in cell.split("\n")[1:]:
            fields = next(csv.reader([inner]), [])
            if (
                len(fields) > max(url_at, id_at)
                and _ID.match(fields[id_at].strip())
                and is_http_url(fields[url_at].strip())
            ):
                return (
                    f"the quoted cell opened on line {first} runs to line {last} and swallows what looks like "
                    f"a row ({inner[:60]!r}); is a closing quote missing on line {first}?"
                )
    return ""


def _citation(values: dict[str, str], line: int) -> tuple[Citation | None, list[str]]:
    errors = []
    long = [name for name, value in values.items() if len(value) > MAX_CELL_CHARS]
    if long:
        return None, [f"cell in column {name!r} longer than {MAX_CELL_CHARS} characters" for name in long]
    cid, url = values.get("id", ""), values.get("url", "")
    if not cid:
        errors.append("id is empty")
    elif not _ID.match(cid):
        errors.append(f"id {cid!r} must be letters, digits, '.', '_' or '-' (at most 64)")
    if not url:
        errors.append("url is empty")
    elif problem := url_problem(url):
        errors.append(f"url {url!r} {problem}")
    cited_at = values.get("cited_at", "")
    if cited_at:
        try:
            parse_date(cited_at)
        except ValueError:
            errors.append(f"cited_at {cited_at!r} is not a date like 2025-04-28")
    interval = values.get("interval", "")
    if interval:
        try:
            parse_duration(interval)
        except ValueError as exc:
            errors.append(f"interval {exc}")
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
