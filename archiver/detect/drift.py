"""Content drift: how a version differs from the baseline and from the previous version.

Texts are compared after removing what changes without the article changing: relative times
("updated 5 minutes ago"), clock times and dates, counters ("1,234 comments"). The class follows the
similarity of what remains: unchanged, cosmetic, minor edit, major rewrite; named changes say what a
news editor would (headline changed, correction added, byline or date changed, passage removed).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from enum import StrEnum

from archiver.detect.text import resemblance, tokens


class DriftClass(StrEnum):
    UNCHANGED = "unchanged"
    COSMETIC = "cosmetic"
    MINOR_EDIT = "minor_edit"
    MAJOR_REWRITE = "major_rewrite"


@dataclass(frozen=True)
class Snapshot:
    """What drift compares: a version's text and the metadata an editor notices."""

    text: str
    title: str = ""
    author: str = ""
    date: str = ""


@dataclass(frozen=True)
class DriftVerdict:
    drift_class: DriftClass
    score: float  # similarity, 1.0 = same words in the same order
    changes: tuple[str, ...] = ()
    diff: str = ""
    removed: tuple[str, ...] = field(default=())  # passages of the older text that are gone

    @property
    def drifted(self) -> bool:
        return self.drift_class in (DriftClass.MINOR_EDIT, DriftClass.MAJOR_REWRITE)


MINOR_EDIT_SIMILARITY = 0.99  # below: a real edit, not noise
MAJOR_REWRITE_SIMILARITY = 0.6  # below: the article was rewritten
PASSAGE_WORDS = 12  # a removed paragraph this long is named

_VOLATILE = [
    r"\b(updated|published|posted|modifié|mis à jour|publié)\b[^.\n]{0,40}?\b(ago|il y a)\b[^.\n]{0,20}",
    r"\b\d+\s*(seconds?|minutes?|mins?|hours?|hrs?|days?|secondes?|heures?|jours?)\s*(ago)?\b",
    r"\bil y a \d+\s*\w+",
    r"\b\d{1,2}[:h]\d{2}(\s*[ap]\.?m\.?)?\b",
    r"\b\d{1,2}(st|nd|rd|th)?\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|janv|févr|mars|avr|mai|juin|juil|août|sept|oct|nov|déc)\w*\.?\s+\d{4}\b",
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\.?\s+\d{1,2},?\s+\d{4}\b",
    r"\b\d{4}-\d{2}-\d{2}(t[\d:.z+-]+)?\b",
    r"\b\d{1,2}/\d{1,2}/\d{2,4}\b",
    r"\b[\d.,]+\s*[km]?\s*(comments?|commentaires?|shares?|partages?|views?|vues|likes?|reactions?|réactions?)\b",
    r"\b(today|yesterday|aujourd['’]hui|hier)\b",
]
_VOLATILE_RE = re.compile("|".join(f"(?:{p})" for p in _VOLATILE), re.I)
_CORRECTION = re.compile(
    r"(correction:|corrections?\s+appended|an earlier version of this (article|story)|this (article|story) "
    r"(has been|was) corrected|editor['’]s note|rectificatif|erratum|une version précédente de cet article|"
    r"nous avons corrigé)",
    re.I,
)
_UPDATE = re.compile(
    r"(\bupdate[d]?:|this (article|story) (has been|was) updated|mise à jour\s*:|"
    r"\bmaj\s*:|article mis à jour)",
    re.I,
)


def normalise(text: str) -> str:
    """The text without the parts that change on their own."""
    return "\n".join(" ".join(_VOLATILE_RE.sub(" ", line).split()) for line in text.splitlines()).strip()


def compare(before: Snapshot, after: Snapshot) -> DriftVerdict:
    """How `after` differs from `before`."""
    if before.text == after.text and before.title == after.title:
        return DriftVerdict(DriftClass.UNCHANGED, 1.0)
    a, b = normalise(before.text), normalise(after.text)
    changes = _named_changes(before, after)
    score = _similarity(a, b)
    if tokens(a) == tokens(b):
        drift_class = DriftClass.COSMETIC
        score = 1.0
    elif score >= MINOR_EDIT_SIMILARITY and not changes:
        drift_class = DriftClass.COSMETIC
    elif score >= MAJOR_REWRITE_SIMILARITY:
        drift_class = DriftClass.MINOR_EDIT
    else:
        drift_class = DriftClass.MAJOR_REWRITE
    removed = _removed_passages(before.text, after.text)
    if removed and drift_class != DriftClass.COSMETIC:
        changes.append(
            f"passage removed: {removed[0][:120]!r}" + (f" (+{len(removed) - 1} more)" if len(removed) > 1 else "")
        )
    if drift_class == DriftClass.COSMETIC:
        changes = [c for c in changes if not c.startswith(("date changed",))]
    return DriftVerdict(
        drift_class, round(score, 4), tuple(changes), diff=unified_diff(before.text, after.text), removed=tuple(removed)
    )


def unified_diff(before: str, after: str, limit: int = 200) -> str:
    """A paragraph-level unified diff, cut to `limit` lines."""
    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), "before", "after", lineterm="", n=1))
    if len(lines) > limit:
        lines = [*lines[:limit], f"... ({len(lines) - limit} more lines)"]
    return "\n".join(lines)


def _similarity(a: str, b: str) -> float:
    wa, wb = tokens(a), tokens(b)
    if not wa and not wb:
        return 1.0
    matcher = difflib.SequenceMatcher(None, wa, wb, autojunk=False)
    if len(wa) * len(wb) > 4_000_000:  # very long texts: shingles are linear, good enough
        return resemblance(a, b)
    return matcher.ratio()


def _named_changes(before: Snapshot, after: Snapshot) -> list[str]:
    changes = []
    if before.title and after.title and before.title.strip() != after.title.strip():
        changes.append(f"headline changed: {before.title!r} -> {after.title!r}")
    if _CORRECTION.search(after.text) and not _CORRECTION.search(before.text):
        changes.append(f"correction added: {_around(_CORRECTION, after.text)!r}")
    elif _UPDATE.search(after.text) and not _UPDATE.search(before.text):
        changes.append(f"update note added: {_around(_UPDATE, after.text)!r}")
    if before.author and after.author and before.author != after.author:
        changes.append(f"byline changed: {before.author!r} -> {after.author!r}")
    if before.date and after.date and before.date != after.date:
        changes.append(f"date changed: {before.date} -> {after.date}")
    return changes


def _around(pattern: re.Pattern[str], text: str) -> str:
    match = pattern.search(text)
    assert match is not None
    line_start = text.rfind("\n", 0, match.start()) + 1
    line_end = text.find("\n", match.end())
    return text[line_start : line_end if line_end != -1 else None][:160]


def _removed_passages(before: str, after: str) -> list[str]:
    """Paragraphs of `before` with no close counterpart in `after`."""
    kept = [p for p in after.splitlines() if p.strip()]
    removed = []
    for paragraph in before.splitlines():
        if len(paragraph.split()) < PASSAGE_WORDS or paragraph in kept:
            continue
        if not any(
            difflib.SequenceMatcher(None, paragraph, k).quick_ratio() > 0.8
            and difflib.SequenceMatcher(None, paragraph, k).ratio() > 0.8
            for k in kept
        ):
            removed.append(paragraph)
    return removed
