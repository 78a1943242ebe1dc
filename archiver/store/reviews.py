"""The `reviews` table: editors' decisions on citations (accept, not_rot, ignore), kept for good; an
undo marks a decision undone (who, when) and never deletes it. Which decisions bear on a citation's
health is this module's one rule (`bearing`): its own, and the `not_rot` ones made on any citation of
its watched URL (rot is the page's, whichever article cites it)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from archiver.models import Decision
from archiver.models.rows import ReviewRow
from archiver.store.db import Database, Row


def add(db: Database, review: ReviewRow) -> ReviewRow:
    """Keep a decision; the same decision in force on the citation before is replaced (undone by
    the new one's author), so one of each kind is in force at most."""
    with db.transaction():
        db.execute(
            """UPDATE reviews SET undone_at = ?, undone_by = ? WHERE article_id = ? AND citation_id = ?
               AND decision = ? AND undone_at IS NULL""",
            [review.at, review.by, review.article, review.citation_id, str(review.decision)],
        )
        new_id = db.insert(
            "reviews",
            {
                "article_id": review.article,
                "citation_id": review.citation_id,
                "watched_id": review.watched_id,
                "decision": str(review.decision),
                "at": review.at,
                "by_user": review.by,
                "note": review.note,
                "version_hash": review.version_hash,
                "rot_kind": review.rot_kind,
            },
        )
    return replace(review, id=new_id or 0)


def undo(
    db: Database, article: str, citation_id: str, decision: Decision | None, by: str, now: datetime
) -> ReviewRow | None:
    """Undo the newest decision in force on the citation (of `decision`'s kind, when given); the
    decision undone, or None when none was in force."""
    kind = "AND decision = ?" if decision else ""
    params: list[object] = [article, citation_id, *([str(decision)] if decision else [])]
    row = db.one(
        f"""SELECT * FROM reviews WHERE article_id = ? AND citation_id = ? {kind} AND undone_at IS NULL
            ORDER BY at DESC, id DESC LIMIT 1""",
        params,
    )
    if row is None:
        return None
    with db.transaction():
        db.update("reviews", {"id": row["id"]}, {"undone_at": now.isoformat(), "undone_by": by})
    return _row({**row, "undone_at": now.isoformat(), "undone_by": by})


def bearing(db: Database, article: str, citation_id: str, watched_id: str) -> list[ReviewRow]:
    """The decisions in force that bear on a citation's health, oldest first."""
    rows = db.query(
        """SELECT * FROM reviews WHERE undone_at IS NULL AND ((article_id = ? AND citation_id = ?)
           OR (watched_id = ? AND decision = ?)) ORDER BY at, id""",
        [article, citation_id, watched_id, str(Decision.NOT_ROT)],
    )
    return [_row(r) for r in rows]


def history(db: Database, article: str, citation_id: str) -> list[ReviewRow]:
    """Every decision made on the citation, undone ones too, oldest first."""
    rows = db.query(
        "SELECT * FROM reviews WHERE article_id = ? AND citation_id = ? ORDER BY at, id", [article, citation_id]
    )
    return [_row(r) for r in rows]


def ignored(db: Database) -> set[tuple[str, str]]:
    """The (article, citation id) of every citation an editor stopped watching."""
    rows = db.query(
        "SELECT article_id, citation_id FROM reviews WHERE decision = ? AND undone_at IS NULL", [str(Decision.IGNORE)]
    )
    return {(r["article_id"], r["citation_id"]) for r in rows}


def _row(r: Row) -> ReviewRow:
    return ReviewRow(
        id=r["id"],
        article=r["article_id"],
        citation_id=r["citation_id"],
        watched_id=r["watched_id"],
        decision=Decision(r["decision"]),
        at=r["at"],
        by=r["by_user"],
        note=r["note"],
        version_hash=r["version_hash"],
        rot_kind=r["rot_kind"],
        undone_at=r["undone_at"],
        undone_by=r["undone_by"],
    )


class Reviews:
    """The `Store`'s review decisions (a mixin over its `db`)."""

    db: Database

    def add_review(self, review: ReviewRow) -> ReviewRow:
        """Keep an editor's decision (replacing the same decision in force on the citation)."""
        return add(self.db, review)

    def undo_review(
        self, article: str, citation_id: str, decision: Decision | None, by: str, now: datetime
    ) -> ReviewRow | None:
        return undo(self.db, article, citation_id, decision, by, now)

    def reviews(self, article: str, citation_id: str, watched_id: str) -> list[ReviewRow]:
        """The decisions in force that bear on the citation's health (see `bearing`)."""
        return bearing(self.db, article, citation_id, watched_id)

    def review_history(self, article: str, citation_id: str) -> list[ReviewRow]:
        return history(self.db, article, citation_id)

    def ignored(self) -> set[tuple[str, str]]:
        return ignored(self.db)
