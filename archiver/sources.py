"""Reading citation lists. Pure: takes text, returns citations or a SourceError naming every bad line."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from archiver.cadence import parse_duration
from archiver.errors import ConfigError, SourceError
from archiver.models import LIST_ARTICLE, Article, Citation
from archiver.models.time import parse_date
from archiver.urls import is_http_url, why_unfetchable

REQUIRED_COLUMNS = ("id", "url")
KNOWN_COLUMNS = ("id", "url", "claim", "cited_at", "expect", "interval", "article")
# what a list says of its articles, on their rows (kept in `Citation.extra`; see `articles_of`)
ARTICLE_COLUMNS = ("article_title", "article_source", "article_published")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

# What a citation list may hold: far past any real article's, small enough to read in a moment.
MAX_SOURCES_BYTES = 64 * 1024 * 1024
MAX_LINE_CHARS = 65_536
MAX_CELL_CHARS = 8_192  # a URL or a claim; `import` never writes a longer cell
MAX_COLUMNS = 64
MAX_CITATIONS = 100_000
MAX_PROBLEMS = 100  # named one by one; past this the list is plainly not a citation list


def select(citations: Sequence[Citation], only: Sequence[str] | None, article: str | None = None) -> list[Citation]:
    """The citations named by `only` (keys: an id, or ARTICLE:ID) of the article named by `article`
    (all when empty); an unknown key or article is an error, not a silent skip."""
    if article:
        known_articles = sorted({c.article for c in citations})
        if article not in known_articles:
            raise ConfigError(f"no article {article!r} (known: {_some(known_articles)})")
        citations = [c for c in citations if c.article == article]
    if not only:
        return list(citations)
    known = {c.key for c in citations} | {c.id for c in citations}
    unknown = [i for i in only if i not in known]
    if unknown:
        raise ConfigError(f"no citation with id {', '.join(unknown)} (known: {_some(sorted(known))})")
    wanted = set(only)
    return [c for c in citations if c.key in wanted or (article and c.id in wanted)]


def _some(names: Sequence[str], shown: int = 20) -> str:
    return ", ".join(names[:shown]) + (f", … ({len(names)} in all)" if len(names) > shown else "")


def articles_of(citations: Sequence[Citation]) -> list[Article]:
    """The articles a list's citations belong to, in order of first appearance, each described by the
    first non-empty `article_title`, `article_source` and `article_published` cells of its rows."""
    found: dict[str, dict[str, str]] = {}
    for c in citations:
        known = found.setdefault(c.article, {})
        for column in ARTICLE_COLUMNS:
            if c.extra.get(column) and not known.get(column):
                known[column] = c.extra[column]
    return [
        Article(
            article,
            cells.get("article_title", ""),
            cells.get("article_source", ""),
            cells.get("article_published", ""),
        )
        for article, cells in found.items()
    ]


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
                if citation is not None and citation.key in seen:
                    where = "" if citation.article == LIST_ARTICLE else f" in article {citation.article!r}"
                    problems.append((line, f"duplicate id {citation.id!r}{where} (first on line {seen[citation.key]})"))
                elif citation is not None:
                    seen[citation.key] = line
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
    elif problem := why_unfetchable(url):
        errors.append(f"url {url!r} {problem}")
    article = values.get("article", "")
    if article and not _ID.match(article):
        errors.append(f"article {article!r} must be letters, digits, '.', '_' or '-' (at most 64)")
    cited_at = values.get("cited_at", "")
    for column in ("cited_at", "article_published"):
        if values.get(column, ""):
            try:
                parse_date(values[column])
            except ValueError:
                errors.append(f"{column} {values[column]!r} is not a date like 2025-04-28")
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
    return Citation(
        cid, url, values.get("claim", ""), cited_at, expect, interval, line, extra, article or LIST_ARTICLE
    ), []
