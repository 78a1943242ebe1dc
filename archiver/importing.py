"""`archiver import`: a publication's articles read (files, folders walked recursively, article URLs
fetched through the guarded fetcher) and merged into a citation list. Nothing is written here: the
caller writes the merged text, and only when every article was read without a problem.

Bounds are the formats' (`formats.Limits`, one rule for every input: 16 MiB and 20,000 citations a
file); on top of them a claim is clipped and an over-long URL left out, both said, so the list written
is one that `check` reads."""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from archiver import aio
from archiver.config import FetchSettings
from archiver.errors import SourceError
from archiver.extract import decode
from archiver.fetch import Fetcher, Resolver
from archiver.formats import DEFAULT_LIMITS, Format, Limits, detect_format, parse, read_article
from archiver.formats.describe import describe
from archiver.formats.records import ImportResult, ImportWarning
from archiver.merge import ArticleIds, Imported, merge_articles, read_rows
from archiver.models import LIST_ARTICLE, Article, Outcome
from archiver.sources import MAX_CELL_CHARS, MAX_SOURCES_BYTES, parse_sources, read_bounded
from archiver.urls import canonical, is_http_url, mangled, why_unfetchable

LIMITS: Limits = DEFAULT_LIMITS
MAX_CLAIM_CHARS = 2_000  # a sentence; a longer "sentence" is a run of links or markup
MAX_FILES = 100_000  # files of one import: a folder past this is not an archive of articles
# in a folder, the files that are articles (a file named on the command line is read whatever its name)
ARTICLE_SUFFIXES = frozenset(
    {".txt", ".md", ".markdown", ".html", ".htm", ".xhtml", ".bib", ".bibtex", ".json", ".wiki", ".wikitext"}
)


@dataclass
class ReadArticle:
    """One article as read: what it is, where it came from, its citations and the editor's warnings."""

    article: Article
    name: str  # the file or URL, as messages name it
    result: ImportResult = field(default_factory=ImportResult)


@dataclass(frozen=True)
class ImportOutcome:
    """What `import` read, and the merged list to write."""

    articles: list[ReadArticle]
    merged: str
    notes: list[str]


def import_articles(
    inputs: Sequence[str | Path],
    target: Path,
    *,
    fetch: FetchSettings | None = None,
    resolver: Resolver | None = None,
) -> ImportOutcome:
    """Read every article (files, folders, `http(s)://` URLs) and merge them into the list at
    `target`. Every problem of every file is collected; any problem means nothing to write."""
    existing = read_bounded(target, MAX_SOURCES_BYTES) if target.exists() else None
    if existing is not None:
        parse_sources(existing, target)  # refuse to merge into a list we cannot read: name its bad lines
    _, rows = read_rows(existing)
    read: list[ReadArticle] = []
    failures: list[SourceError] = []
    urls = [str(i) for i in inputs if is_http_url(str(i))]
    for path in expand([Path(i) for i in inputs if not is_http_url(str(i))]):
        try:
            read.append(read_file(path))
        except SourceError as exc:
            failures.append(exc)
    if urls:
        if fetch is None:
            raise SourceError(urls[0], [(None, "article URLs need the fetch settings")])
        fetched, url_failures = aio.run(read_urls(urls, fetch, resolver))
        read += fetched
        failures += url_failures
    if failures:
        raise SourceError.many(failures)
    ids = ArticleIds(rows)
    for one in read:
        if one.article.id != LIST_ARTICLE:
            one.article = replace(one.article, id=ids.assign(one.article.source, one.article.id))
        one.result.citations = [replace(c, article=one.article.id) for c in one.result.citations]
    canonicals = {
        c.url: form
        for one in read
        for c in one.result.citations
        if (form := canonical(c.url)) != c.url and len(form) <= MAX_CELL_CHARS
    }
    merged, notes = merge_articles(existing, [Imported(r.article, r.result.citations) for r in read], canonicals)
    return ImportOutcome(read, merged, notes)


def expand(paths: Sequence[Path]) -> list[Path]:
    """The files to read: each file named, and every article file under each folder named (recursively,
    hidden ones aside), in name order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in ARTICLE_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            files += found
        else:
            files.append(path)
        if len(files) > MAX_FILES:
            raise SourceError(path, [(None, f"more than {MAX_FILES:,} files, the most one import reads")])
    return files


def read_file(path: Path) -> ReadArticle:
    """One article file, in the format its name (else its content) says."""
    text = read_article(path, LIMITS)
    return _read(text, str(path), detect_format(text, path.name), Article(path.stem, source=str(path)))


async def read_urls(
    urls: Sequence[str], settings: FetchSettings, resolver: Resolver | None
) -> tuple[list[ReadArticle], list[SourceError]]:
    """Article pages fetched through the guarded fetcher (its limits, address guard and deadlines)
    and read as HTML."""
    read: list[ReadArticle] = []
    failures: list[SourceError] = []
    async with Fetcher(settings, resolver=resolver) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch(url) for url in urls))
    for url, fetched in zip(urls, results, strict=True):
        if fetched.outcome != Outcome.OK:
            why = fetched.error or f"HTTP {fetched.status}"
            failures.append(SourceError(url, [(None, f"could not be fetched ({fetched.outcome}: {why})")]))
            continue
        if len(fetched.body) > LIMITS.max_bytes:
            failures.append(SourceError(url, [(None, f"over the limit of {LIMITS.max_bytes:,} bytes")]))
            continue
        text = decode(fetched.body, fetched.header("content-type"))
        segments = [s for s in urlsplit(fetched.final_url or url).path.split("/") if s]
        name = Path(segments[-1]).stem if segments else (urlsplit(url).hostname or "article")
        try:
            read.append(_read(text, url, Format.HTML, Article(name, source=url)))
        except SourceError as exc:
            failures.append(exc)
    return read, failures


def _read(text: str, shown: str, fmt: Format, article: Article) -> ReadArticle:
    parsed = parse(text, shown, fmt, LIMITS)
    result = bounded(parsed.as_import_result(), shown)
    if not result.citations:
        raise SourceError(
            shown,
            [
                (
                    None,
                    "no citation found (no [n] markers with a reference list, no footnotes, no links in the "
                    "article body, no entry with a url)",
                )
            ],
        )
    title, published = describe(text, parsed.format)
    return ReadArticle(replace(article, title=title, published=published, format=str(parsed.format)), shown, result)


def parse_article(text: str, name: str = "") -> ImportResult:
    """The citations of an article in any format (see `formats.detect_format`), kept within what a
    citation list accepts (see `bounded`)."""
    return bounded(parse(text, name, limits=LIMITS).as_import_result(), name)


def bounded(result: ImportResult, name: str = "article") -> ImportResult:
    """Never a cell that `check` would refuse: a URL it cannot fetch as written or over the cell
    limit is left out, a claim is clipped; each is said."""
    kept, clipped = [], 0
    told = {w.citation_id for w in result.warnings if w.kind == "mangled_url"}
    for c in result.citations:
        if (problem := why_unfetchable(c.url)) and len(c.url) <= MAX_CELL_CHARS:
            # never a URL `check` refuses: left out, said, with a correction when one is plain
            if c.id not in told:
                hint = suggest(c.url)
                result.warnings.append(
                    ImportWarning(
                        "unfetchable_url",
                        f"[{c.id[:20]}] URL {c.url[:200]!r} {problem}"
                        + (f"; did you mean {hint!r}?" if hint else "")
                        + " (left out: fix it in the article)",
                        c.line,
                        c.id[:20],
                        hint,
                    )
                )
            continue
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


def suggest(url: str) -> str:
    """A plain correction of an unfetchable cited URL ("" when none): the mangled-URL rule's, or a
    misspelt scheme (`htp:`, `htps:`) put right."""
    fixed = mangled(url)[1]
    if fixed and not why_unfetchable(fixed):
        return fixed
    scheme, sep, rest = url.partition(":")
    close = difflib.get_close_matches(scheme.lower(), ["http", "https"], n=1, cutoff=0.6)
    if sep and close:
        candidate = f"{close[0]}://{rest.lstrip('/')}"
        return "" if why_unfetchable(candidate) else candidate
    return ""
