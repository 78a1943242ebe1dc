"""Content drift: how a version differs from the baseline and from the previous version.

A drift class says what changed in the article's body, never how many characters moved:

1. Volatile text is set aside (relative and clock times, counters, datelines: see `body`); dates
   and figures inside the article's own sentences are kept: they are facts.
2. Boilerplate is set aside: lines the page shows as links (teasers and link lists of other
   articles), and short credit, share and "read more" lines (see `body`). A change there is
   `boilerplate`: recorded, never drift.
3. The body's paragraphs are aligned (moved ones found wherever they went), and each edited
   paragraph is compared word by word. A changed figure, number word, date word, name or quotation
   is named ("figure changed: '0.75' -> '1.00'"), and so is an added correction note: that is a
   `fact_change`, whatever the overall similarity.
4. The score is the share of the body's words kept in place (removed, added or replaced words lower
   it); under 0.75 (a quarter of the body gone, new or rewritten) it is a `major_rewrite`.

Classes, mildest first: unchanged, cosmetic (whitespace, punctuation, volatile text, moved
paragraphs), boilerplate, minor_edit (wording; visible, does not raise a citation's status),
fact_change and major_rewrite (both make a citation `drifted`).
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from archiver.detect.body import Line, Token, body_lines, tokenise
from archiver.models import DriftClass

# The classes that mean "look at this": they make a citation `drifted` and carry the `drift` flag.
RAISING = frozenset({DriftClass.FACT_CHANGE, DriftClass.MAJOR_REWRITE})
# The classes a report shows as an edit of the body (the others changed nothing an editor reads).
EDITS = frozenset({DriftClass.MINOR_EDIT, *RAISING})


def raises_drift(drift_class: DriftClass) -> bool:
    """Whether a version of this class makes its citation `drifted` (the one rule, used everywhere)."""
    return drift_class in RAISING


@dataclass(frozen=True)
class Snapshot:
    """What drift compares: a version's text, the metadata an editor notices, and the lines of the
    text that its page shows as links (teasers, link lists: see `link_lines`)."""

    text: str
    title: str = ""
    author: str = ""
    date: str = ""
    boilerplate: frozenset[str] = frozenset()


@dataclass(frozen=True)
class DriftVerdict:
    drift_class: DriftClass
    score: float  # share of the body's words kept, 1.0 = the same body
    changes: tuple[str, ...] = ()

    @property
    def drifted(self) -> bool:
        return raises_drift(self.drift_class)


MAJOR_REWRITE_SIMILARITY = 0.75  # below: over a quarter of the body removed, added or rewritten
PASSAGE_WORDS = 12  # a removed paragraph this long is named
PAIR_SIMILARITY = 0.5  # two paragraphs this alike are one paragraph, edited
PAIRED_AT_MOST = 10_000  # paragraph comparisons in one block of changes
NAMES_CAPITALISED = 0.2  # over this share of capitalised words mid-sentence (German nouns), case says nothing
TITLE_CASE = 0.6  # a line with more capitalised words than this is a headline or a subhead
MAX_NAMED = 8  # fact changes named one by one; the rest are counted

_QUOTE = re.compile(r"“[^”]{2,400}”|\"[^\"]{2,400}\"|«[^»]{2,400}»|„[^“”]{2,400}[“”]|‹[^›]{2,400}›")
_CORRECTION = re.compile(
    r"(correction:|corrections?\s+appended|an earlier version of this (article|story)|this (article|story) "
    r"(has been|was) corrected|editor['’]s note|rectificatif|erratum|une version précédente de cet article|"
    r"nous avons corrigé|korrektur:|in einer früheren version|fe de errores|correzione:)",
    re.I,
)
_UPDATE = re.compile(
    r"(\bupdate[d]?:|this (article|story) (has been|was) updated|mise à jour\s*:|"
    r"\bmaj\s*:|article mis à jour|aktualisierung:)",
    re.I,
)


# --- comparing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Fact:
    """A fact that differs between two versions of a paragraph."""

    label: str  # figure, date, name, quote
    was: tuple[str, ...]  # the words (or the quotation) of the older version
    now: tuple[str, ...]
    text: str  # in words: "figure changed: '0.75' -> '1.00'"


@dataclass
class _Comparison:
    old_words: int = 0
    new_words: int = 0
    kept: int = 0
    facts: list[_Fact] = field(default_factory=list)
    wording: list[str] = field(default_factory=list)  # edits that change no fact, for a minor edit's evidence
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    moved: int = 0


def compare(before: Snapshot, after: Snapshot) -> DriftVerdict:
    """How `after` differs from `before`."""
    if before.text == after.text and before.title == after.title:
        return DriftVerdict(DriftClass.UNCHANGED, 1.0)
    marked = before.boilerplate | after.boilerplate
    old_body, old_plate = body_lines(before.text, marked)
    new_body, new_plate = body_lines(after.text, marked)
    body = _compare_bodies(old_body, new_body, _case_informative(old_body) and _case_informative(new_body))
    old_text, new_text = "\n".join(x.text for x in old_body), "\n".join(x.text for x in new_body)
    headline = bool(before.title and after.title) and _keys(before.title) != _keys(after.title)
    facts = [f.text for f in body.facts]
    if headline:
        old_title, new_title = (Line(t, tuple(tokenise(t))) for t in (before.title, after.title))
        facts += [f"{f.text} in the headline" for f in _facts(old_title, new_title, False)]
    facts = list(dict.fromkeys(facts))
    correction = bool(_CORRECTION.search(new_text)) and not _CORRECTION.search(old_text)
    update = not correction and bool(_UPDATE.search(new_text)) and not _UPDATE.search(old_text)
    plate = _boilerplate_changes(old_plate, new_plate)
    byline = bool(before.author and after.author) and before.author != after.author

    largest = max(body.old_words, body.new_words)
    score = body.kept / largest if largest else 1.0
    if body.kept == body.old_words == body.new_words and not headline and not correction:
        drift_class = DriftClass.BOILERPLATE if plate or byline else DriftClass.COSMETIC
        score = 1.0
    elif score < MAJOR_REWRITE_SIMILARITY:
        drift_class = DriftClass.MAJOR_REWRITE
    elif facts or correction:
        drift_class = DriftClass.FACT_CHANGE
    else:
        drift_class = DriftClass.MINOR_EDIT
    if drift_class in EDITS:
        score = min(score, 0.9999)  # something an editor reads changed: never shown as 100%

    changes = []
    if headline:
        changes.append(f"headline changed: {before.title!r} -> {after.title!r}")
    if correction:
        changes.append(f"correction added: {_around(_CORRECTION, new_text)!r}")
    if update:
        changes.append(f"update note added: {_around(_UPDATE, new_text)!r}")
    changes.extend(facts[:MAX_NAMED])
    if len(facts) > MAX_NAMED:
        changes.append(f"(+{len(facts) - MAX_NAMED} more changed figures, names or quotes)")
    if drift_class == DriftClass.MINOR_EDIT:
        changes.extend(body.wording)
    passages = [p for p in body.removed if len(p.split()) >= PASSAGE_WORDS]
    if passages:
        more = f" (+{len(passages) - 1} more)" if len(passages) > 1 else ""
        changes.append(f"passage removed: {passages[0][:120]!r}{more}")
    if byline:
        changes.append(f"byline changed: {before.author!r} -> {after.author!r}")
    if drift_class in EDITS and before.date and after.date and before.date != after.date:
        changes.append(f"date changed: {before.date} -> {after.date}")
    if body.moved:
        changes.append(f"{body.moved} paragraph(s) moved")
    changes.extend(plate)
    return DriftVerdict(drift_class, round(score, 4), tuple(changes))


def _keys(text: str) -> list[str]:
    return [t.key for t in tokenise(text)]


def _compare_bodies(old: Sequence[Line], new: Sequence[Line], names: bool) -> _Comparison:
    """Align paragraphs, then words inside each edited paragraph."""
    out = _Comparison(sum(len(x.tokens) for x in old), sum(len(x.tokens) for x in new))
    removed: list[Line] = []
    added: list[Line] = []
    matcher = difflib.SequenceMatcher(None, [x.key for x in old], [x.key for x in new], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.kept += sum(len(x.tokens) for x in old[i1:i2])
            continue
        pairs, gone, came = _pair(old[i1:i2], new[j1:j2])
        for a, b in pairs:
            _edited(a, b, names, out)
        removed += gone
        added += came
    # paragraphs that went elsewhere: moved as they were, or edited on the way
    waiting: dict[tuple[str, ...], list[Line]] = {}
    for b in added:
        waiting.setdefault(b.key, []).append(b)
    still_removed = []
    for a in removed:
        if waiting.get(a.key):
            waiting[a.key].pop()
            out.kept += len(a.tokens)
            out.moved += 1
        else:
            still_removed.append(a)
    pairs, removed, added = _pair(still_removed, [b for group in waiting.values() for b in group])
    for a, b in pairs:
        _edited(a, b, names, out)
    out.removed = [x.text for x in removed]
    out.added = [x.text for x in added]
    out.facts = [f for f in out.facts if _changed_in_body(f, old, new)]
    return out


def _pair(olds: Sequence[Line], news: Sequence[Line]) -> tuple[list[tuple[Line, Line]], list[Line], list[Line]]:
    """Each old paragraph with its most alike new one, if alike enough; the rest are removed and
    added. Past PAIRED_AT_MOST comparisons the blocks are too far apart to be edits of each other."""
    if not olds or not news or len(olds) * len(news) > PAIRED_AT_MOST:
        return [], list(olds), list(news)
    pairs, gone, used = [], [], set()
    for a in olds:
        best, best_ratio = None, PAIR_SIMILARITY
        for j, b in enumerate(news):
            if j not in used and (ratio := _ratio(a, b)) >= best_ratio:
                best, best_ratio = j, ratio
        if best is None:
            gone.append(a)
        else:
            used.add(best)
            pairs.append((a, news[best]))
    return pairs, gone, [b for j, b in enumerate(news) if j not in used]


def _changed_in_body(fact: _Fact, old: Sequence[Line], new: Sequence[Line]) -> bool:
    """A fact that left one paragraph may have gone to another (a paragraph split in two, a sentence
    moved): it changed only if the body as a whole no longer says it as often, or says it anew."""
    if fact.label == "quote":
        old_text, new_text = "\n".join(x.text for x in old), "\n".join(x.text for x in new)
        return any(q not in new_text for q in fact.was) or any(q not in old_text for q in fact.now)
    before = Counter(t.key for x in old for t in x.tokens)
    after = Counter(t.key for x in new for t in x.tokens)
    return any(before[k] != after[k] for k in {*fact.was, *fact.now})


def _ratio(a: Line, b: Line) -> float:
    matcher = difflib.SequenceMatcher(None, a.key, b.key, autojunk=False)
    if matcher.real_quick_ratio() < PAIR_SIMILARITY or matcher.quick_ratio() < PAIR_SIMILARITY:
        return 0.0
    return matcher.ratio()


def _edited(old: Line, new: Line, names: bool, out: _Comparison) -> None:
    matcher = difflib.SequenceMatcher(None, old.key, new.key, autojunk=False)
    out.kept += sum(block.size for block in matcher.get_matching_blocks())
    facts = _facts(old, new, names, matcher)
    out.facts.extend(facts)
    if not facts and len(out.wording) < 2:
        tag, i1, i2, j1, j2 = next(op for op in matcher.get_opcodes() if op[0] != "equal")
        out.wording.append(_named("wording", old.text, old.tokens[i1:i2], new.text, new.tokens[j1:j2]))


def _facts(old: Line, new: Line, names: bool, matcher: difflib.SequenceMatcher[str] | None = None) -> list[_Fact]:
    """The facts that differ between two versions of one paragraph: figures, date words, names, quotes."""
    matcher = matcher or difflib.SequenceMatcher(None, old.key, new.key, autojunk=False)
    names = names and not _title_case(old) and not _title_case(new)
    found = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        was, now = old.tokens[i1:i2], new.tokens[j1:j2]
        quote_was = _quote_around(old.text, _span(old, i1, i2))
        quote_now = _quote_around(new.text, _span(new, j1, j2))
        if quote_was or quote_now:
            text = f"quote changed: {quote_was or '(none)'!r} -> {quote_now or '(none)'!r}"
            found.append(_Fact("quote", tuple(filter(None, [quote_was])), tuple(filter(None, [quote_now])), text))
            continue
        tests: tuple[tuple[str, Callable[[Token], bool]], ...] = (
            ("figure", lambda t: t.figure),
            ("date", lambda t: t.date_word),
            ("name", lambda t: bool(names and t.name and not t.figure and not t.date_word)),
        )
        for label, test in tests:
            keys_was = tuple(t.key for t in was if test(t))
            keys_now = tuple(t.key for t in now if test(t))
            if Counter(keys_was) == Counter(keys_now):
                continue
            if label == "name" and _spelling(keys_was, keys_now):
                break  # "Starmr" -> "Starmer": a spelling fixed, not another person
            found.append(_Fact(label, keys_was, keys_now, _named(label, old.text, was, new.text, now)))
            break
    return found


def _spelling(was: Sequence[str], now: Sequence[str]) -> bool:
    return bool(was and now) and difflib.SequenceMatcher(None, "".join(was), "".join(now)).ratio() >= 0.8


def _named(label: str, old_text: str, was: Sequence[Token], new_text: str, now: Sequence[Token]) -> str:
    before = old_text[was[0].start : was[-1].end] if was else ""
    after = new_text[now[0].start : now[-1].end] if now else ""
    if not after:
        return f"{label} removed: {before!r}"
    if not before:
        return f"{label} added: {after!r}"
    return f"{label} changed: {before!r} -> {after!r}"


def _span(line: Line, start: int, end: int) -> tuple[int, int]:
    """Where tokens [start:end] of a line lie; an empty span is the gap where words were taken out."""
    if end > start:
        return line.tokens[start].start, line.tokens[end - 1].end
    at = line.tokens[start - 1].end if start > 0 else 0
    return at, at


def _quote_around(text: str, span: tuple[int, int]) -> str:
    """The quotation of `text` that holds the span (or the gap), if any."""
    start, end = span
    for m in _QUOTE.finditer(text):
        if (start < end and start < m.end() and m.start() < end) or (start == end and m.start() < start < m.end()):
            return m.group(0)
    return ""


def _case_informative(lines: Sequence[Line]) -> bool:
    """Capital letters mark names only where most words are lower case (not in German, nor in a title)."""
    mid = [t for line in lines for t in line.tokens if t.mid_sentence and t.text[:1].isalpha()]
    if not mid:
        return True
    return sum(1 for t in mid if t.text[:1].isupper()) / len(mid) <= NAMES_CAPITALISED


def _title_case(line: Line) -> bool:
    """A headline-like line (Most Words Capitalised): its capitals mark no names."""
    words = [t for t in line.tokens if t.text[:1].isalpha()]
    return len(words) >= 3 and sum(1 for t in words if t.text[:1].isupper()) / len(words) > TITLE_CASE


def _boilerplate_changes(old: Sequence[str], new: Sequence[str]) -> list[str]:
    gone = list((Counter(old) - Counter(new)).elements())
    came = list((Counter(new) - Counter(old)).elements())
    out = []
    if came:
        out.append(f"boilerplate added: {came[0][:80]!r}" + (f" (+{len(came) - 1} more)" if len(came) > 1 else ""))
    if gone:
        out.append(f"boilerplate removed: {gone[0][:80]!r}" + (f" (+{len(gone) - 1} more)" if len(gone) > 1 else ""))
    return out


def unified_diff(before: str, after: str, limit: int = 200, names: tuple[str, str] = ("before", "after")) -> str:
    """A paragraph-level unified diff, cut to `limit` lines; `names` head its two sides."""
    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), *names, lineterm="", n=1))
    if len(lines) > limit:
        lines = [*lines[:limit], f"... ({len(lines) - limit} more lines)"]
    return "\n".join(lines)


def _around(pattern: re.Pattern[str], text: str) -> str:
    match = pattern.search(text)
    assert match is not None
    line_start = text.rfind("\n", 0, match.start()) + 1
    line_end = text.find("\n", match.end())
    return text[line_start : line_end if line_end != -1 else None][:160]
