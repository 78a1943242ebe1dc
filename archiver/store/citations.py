"""The `articles` and `article_citations` tables: a publication's articles and their citations as the
list gives them (id, URL as cited, claim, date, phrases to keep, check interval, other columns),
each citation pointing at the watched URL of its page; kept after the list drops them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from archiver.models import LIST_ARTICLE, Article, Citation
from archiver.models.records import footnote_order
from archiver.models.rows import CitationRow, WatchedRow
from archiver.store import watched
from archiver.store.db import Database, Row
from archiver.urls import is_http_url


def sync(db: Database, listed: Iterable[Citation], articles: Iterable[Article], now: datetime) -> None:
    """Make the tables match the list: articles and citations written, each citation pointing at the
    watched URL of its page (made when none is watched yet), the dropped ones marked removed."""
    stamp = now.isoformat()
    citations = list(listed)
    with db.transaction():
        kept = []
        for a in articles:
            kept.append(a.id)
            db.execute(
                """INSERT INTO articles (id, title, source, published, added_at) VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT(id) DO UPDATE SET title=excluded.title, source=excluded.source,
                     published=excluded.published, removed_at=NULL""",
                [a.id, a.title, a.source, a.published, stamp],
            )
        listed_articles = set(kept)  # compared here, not in SQL: a publication has more ids than SQL has variables
        for r in db.query("SELECT id FROM articles WHERE removed_at IS NULL"):
            if r["id"] not in listed_articles:
                db.execute("UPDATE articles SET removed_at = ? WHERE id = ?", [stamp, r["id"]])
        keys: list[tuple[str, str]] = []
        for c in citations:
            keys.append((c.article, c.id))
            db.execute(
                """INSERT INTO article_citations (article_id, id, url, watched_id, claim, cited_at, expect, interval,
                                                  extra, added_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(article_id, id) DO UPDATE SET url=excluded.url, watched_id=excluded.watched_id,
                     claim=excluded.claim, cited_at=excluded.cited_at, expect=excluded.expect,
                     interval=excluded.interval, extra=excluded.extra, removed_at=NULL""",
                [
                    c.article,
                    c.id,
                    c.url,
                    _watched_id(db, c, now),
                    c.claim,
                    c.cited_at,
                    json.dumps(list(c.expect)),
                    c.interval,
                    json.dumps(c.extra, ensure_ascii=False),
                    stamp,
                ],
            )
        listed_now = {k for k in keys}
        for r in db.query("SELECT article_id, id FROM article_citations WHERE removed_at IS NULL"):
            if (r["article_id"], r["id"]) not in listed_now:
                db.execute(
                    "UPDATE article_citations SET removed_at = ? WHERE article_id = ? AND id = ?",
                    [stamp, r["article_id"], r["id"]],
                )
        watched.refresh(db, now)


def _watched_id(db: Database, c: Citation, now: datetime) -> str:
    """The watched URL of a citation's page: the first one made for that page (a store made before
    articles may watch one page under two ids: the later one's history is kept, and grows no more),
    else a new one named after the citation (see `watched.create`)."""
    found = watched.find(db, watched.canonical_key(c.url))
    return found.id if found is not None else watched.create(db, c.key, c.url, now)


def all_citations(db: Database, include_removed: bool = False, article: str | None = None) -> list[CitationRow]:
    """Citations of every article (or of `article`), the list's own article first, then by article,
    each article's in footnote order."""
    where = ["1 = 1"] + ([] if include_removed else ["removed_at IS NULL"]) + (["article_id = ?"] if article else [])
    rows = db.query(f"SELECT * FROM article_citations WHERE {' AND '.join(where)}", [article] if article else [])
    return sorted((_row(r) for r in rows), key=lambda c: (c.article != LIST_ARTICLE, c.article, footnote_order(c)))


def watching(db: Database, watched_id: str) -> list[CitationRow]:
    """The citations, still listed, of one watched URL."""
    rows = db.query("SELECT * FROM article_citations WHERE watched_id = ? AND removed_at IS NULL", [watched_id])
    return sorted((_row(r) for r in rows), key=lambda c: (c.article != LIST_ARTICLE, c.article, footnote_order(c)))


def find(db: Database, key: str, article: str | None = None) -> CitationRow | None:
    """A citation by its key (`1`, `ARTICLE:ID`), by its id within `article`, or by its URL as cited or
    in canonical form (tracking parameters, case of the host, a default port and a fragment make no
    difference); removed ones included, listed ones first."""
    if article is not None:
        row = db.one("SELECT * FROM article_citations WHERE article_id = ? AND id = ?", [article, key])
        if row is not None:
            return _row(row)
    else:
        art, _, cid = key.rpartition(":") if ":" in key and not is_http_url(key) else (LIST_ARTICLE, "", key)
        row = db.one("SELECT * FROM article_citations WHERE article_id = ? AND id = ?", [art, cid])
        if row is not None:
            return _row(row)
    if not is_http_url(key):
        return None
    wanted = watched.canonical_key(key)
    rows = sorted(all_citations(db, include_removed=True, article=article), key=lambda c: c.removed_at is not None)
    return next((r for r in rows if r.url == key), None) or next(
        (r for r in rows if watched.canonical_key(r.url) == wanted), None
    )


def articles(db: Database, include_removed: bool = False) -> list[Article]:
    where = "" if include_removed else " WHERE removed_at IS NULL"
    rows = db.query(f"SELECT * FROM articles{where} ORDER BY id")
    found = [Article(r["id"], r["title"], r["source"], r["published"]) for r in rows]
    return sorted(found, key=lambda a: (a.id != LIST_ARTICLE, a.id))


def _row(r: Row) -> CitationRow:
    return CitationRow(
        id=r["id"],
        url=r["url"],
        claim=r["claim"],
        cited_at=r["cited_at"],
        expect=tuple(json.loads(r["expect"])),
        interval=r["interval"],
        extra=json.loads(r["extra"]),
        article=r["article_id"],
        added_at=r["added_at"],
        removed_at=r["removed_at"],
        watched_id=r["watched_id"],
    )


class Publication:
    """The store's articles, their citations and the watched URLs (a part of `Store`)."""

    db: Database

    def sync_citations(self, listed: Iterable[Citation], now: datetime, articles: Iterable[Article] = ()) -> None:
        """Make the articles and citations match the list (each citation watching its page's watched
        URL); removed ones keep their history. `articles` describes them (by default, ids alone)."""
        listed = list(listed)
        described = {a.id: a for a in articles}
        every = [described.get(a, Article(a)) for a in dict.fromkeys(c.article for c in listed)]
        sync(self.db, listed, every, now)

    def citations(self, include_removed: bool = False, article: str | None = None) -> list[CitationRow]:
        """Every article's citations (or one article's): the list's own article first, each in footnote order."""
        return all_citations(self.db, include_removed, article)

    def citation(self, key: str, article: str | None = None) -> CitationRow | None:
        """A citation by key (`3`, `ARTICLE:3`), by id within `article`, or by URL as cited or
        canonical; None when the store does not know it."""
        return find(self.db, key, article)

    def articles(self, include_removed: bool = False) -> list[Article]:
        return articles(self.db, include_removed)

    def watching(self, watched_id: str) -> list[CitationRow]:
        """The listed citations, in every article, of one watched URL."""
        return watching(self.db, watched_id)

    def watched(self, watched_id: str) -> WatchedRow | None:
        return watched.get(self.db, watched_id)
