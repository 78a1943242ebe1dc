"""Merging imported articles into a citation list (the CSV text of `sources.csv`). Pure: text and
records in, text and notes out.

Existing rows keep their ids, their order and every hand-written cell; a citation is matched within
its article by id and URL, or by canonical URL; new ones are appended; an empty `claim` or `cited_at`
is filled, a written one never overwritten; rows an article no longer cites are kept (their history
stays in the store) and named. Each article other than the list's own is written with its id in the
`article` column, and its title, source and publication day in `article_title`, `article_source` and
`article_published`."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from archiver.errors import SourceError
from archiver.models import LIST_ARTICLE, Article, Citation
from archiver.urls import canonical

BASE_COLUMNS = ["id", "url", "claim"]
_NOT_ID = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Imported:
    """One article to merge: what it is, and its citations as read."""

    article: Article
    citations: Sequence[Citation]


def merge_sources(
    existing: bytes | None,
    imported: list[Citation],
    canonical_of: Mapping[str, str] | None = None,
    article: Article | None = None,
) -> tuple[str, list[str]]:
    """One article's citations merged into a list (None: a new list); the list's own article unless
    `article` names another. Returns the new CSV text and notes for the user, a tally first."""
    return merge_articles(existing, [Imported(article or Article(LIST_ARTICLE), imported)], canonical_of)


def merge_articles(
    existing: bytes | None, articles: Sequence[Imported], canonical_of: Mapping[str, str] | None = None
) -> tuple[str, list[str]]:
    """Every article's citations merged into the list, in order (see the module's docstring)."""
    header, rows = read_rows(existing)
    notes: list[str] = []
    added = kept = 0
    by_article: dict[str, list[dict[str, str]]] = {}  # one walk of the rows: a publication has many articles
    for row in rows:
        by_article.setdefault(article_of(row), []).append(row)
    for one in articles:
        own = by_article.setdefault(one.article.id, [])
        a, k = _merge_one(header, rows, own, one, canonical_of or {}, notes, existing is not None)
        added, kept = added + a, kept + k
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({h: row.get(h) or "" for h in header})
    notes.insert(0, f"{added} new, {kept} already listed, {len(rows)} in all")
    return out.getvalue(), notes


def read_rows(existing: bytes | None) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of a list's CSV text (a list `parse_sources` has read without a problem)."""
    if not existing:
        return list(BASE_COLUMNS), []
    reader = csv.DictReader(io.StringIO(existing.decode("utf-8-sig"), newline=""))
    header = [h for h in (reader.fieldnames or []) if h] or list(BASE_COLUMNS)
    rows = [dict(r) for r in reader if any((v or "").strip() for v in r.values() if isinstance(v, str))]
    return header, rows


def article_of(row: Mapping[str, str | None]) -> str:
    return (row.get("article") or "").strip() or LIST_ARTICLE


class ArticleIds:
    """The ids articles get in a list: an article read from a source the list knows keeps the id it
    has; another gets its name made an id (letters, digits, `.`, `_`, `-`), numbered when another
    article has it (`story-2`). Indexed once: a publication has up to a hundred thousand articles."""

    def __init__(self, rows: Sequence[Mapping[str, str | None]]) -> None:
        self.by_source: dict[str, str] = {}
        self.taken = {LIST_ARTICLE}
        for row in rows:
            self.taken.add(article_of(row))
            self.by_source.setdefault(row.get("article_source") or "", article_of(row))
        self.by_source.pop("", None)

    def assign(self, source: str, name: str) -> str:
        if source and source in self.by_source:
            return self.by_source[source]
        wanted = _NOT_ID.sub("-", name).strip("-._")[:60] or "article"
        candidate, n = wanted, 1
        while candidate in self.taken:
            n += 1
            candidate = f"{wanted}-{n}"
        self.taken.add(candidate)
        if source:
            self.by_source[source] = candidate
        return candidate


def _merge_one(
    header: list[str],
    rows: list[dict[str, str]],
    own: list[dict[str, str]],
    one: Imported,
    canonical_of: Mapping[str, str],
    notes: list[str],
    existed: bool,
) -> tuple[int, int]:
    art = one.article
    before = list(own)  # the article's rows already listed
    described = {
        "article_title": art.title,
        "article_source": art.source,
        "article_published": art.published,
    }
    wanted = [*BASE_COLUMNS]
    if any(c.cited_at for c in one.citations):
        wanted.append("cited_at")
    if any(canonical_of.get(c.url) for c in one.citations):
        wanted.append("canonical")
    if art.id != LIST_ARTICLE:
        wanted += ["article", *(k for k, v in described.items() if v)]
    for column in wanted:
        if column not in header:
            if column in BASE_COLUMNS:
                header.insert(BASE_COLUMNS.index(column), column)
            else:
                header.append(column)
    by_id = {r.get("id", ""): r for r in own}
    by_canonical = {_canon(r.get("url", "")): r for r in own}
    matched: set[int] = set()
    added = kept = 0
    for c in one.citations:
        row = by_id.get(c.id)
        if row is not None and _canon(row.get("url", "")) != _canon(c.url):
            other = by_canonical.get(_canon(c.url))
            if other is None:
                new_id = _free_id(c.id, by_id)
                label = "" if art.id == LIST_ARTICLE else f"{art.id}'s "
                notes.append(
                    f"id {c.id} already names {row.get('url')}; the article's [{c.id}] {c.url} was added as {new_id}"
                    if not label
                    else f"{label}id {c.id} already names {row.get('url')}; [{c.id}] {c.url} was added as {new_id}"
                )
                row = None
                c = Citation(new_id, c.url, c.claim, c.cited_at, line=c.line, article=c.article)
            else:
                row = other
        elif row is None:
            row = by_canonical.get(_canon(c.url))
        if row is None:
            row = {h: "" for h in header}
            row.update({"id": c.id, "url": c.url, "claim": c.claim, "cited_at": c.cited_at})
            if art.id != LIST_ARTICLE:
                row["article"] = art.id
            rows.append(row)
            own.append(row)
            by_id[c.id] = row
            added += 1
        else:
            kept += 1
            for column, value in (("claim", c.claim), ("cited_at", c.cited_at), ("canonical", canonical_of.get(c.url))):
                if value and not (row.get(column) or "").strip():
                    row[column] = value  # fill an empty cell, never overwrite a written one
        if canonical_of.get(c.url) and not (row.get("canonical") or "").strip():
            row["canonical"] = canonical_of[c.url]
        matched.add(id(row))
    if art.id != LIST_ARTICLE:
        for row in own:
            for column, value in described.items():
                if value and not (row.get(column) or "").strip():
                    row[column] = value
    whose = "the article" if art.id == LIST_ARTICLE else f"article {art.id}"
    for row in before:
        if id(row) not in matched and existed:
            notes.append(f"[{row.get('id')}] {row.get('url')} is no longer cited by {whose}; kept")
    return added, kept


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
