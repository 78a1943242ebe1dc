"""Content drift: how a version differs from the baseline and from the previous version.

A drift class says what changed in the article's body, never how many characters moved:

1. Volatile text is set aside: relative times ("updated 5 minutes ago", "il y a 3 heures"), clock
   times, counters ("1,234 comments", "2.3k shares"), reading times, and lines that are only a
   dateline ("Published 28 April 2025, updated 29 April"). Dates and figures inside the article's own
   sentences are kept: they are facts.
2. Boilerplate is set aside: lines the page shows as links (teasers and link lists of other
   articles), and short credit, share and "read more" lines. A change there is `boilerplate`:
   recorded, never drift.
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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class DriftClass(StrEnum):
    UNCHANGED = "unchanged"
    COSMETIC = "cosmetic"
    BOILERPLATE = "boilerplate"
    MINOR_EDIT = "minor_edit"
    FACT_CHANGE = "fact_change"
    MAJOR_REWRITE = "major_rewrite"


# The classes that mean "look at this": they make a citation `drifted` and carry the `drift` flag.
RAISING = frozenset({DriftClass.FACT_CHANGE, DriftClass.MAJOR_REWRITE})
# The classes a report shows as an edit of the body (the others changed nothing an editor reads).
EDITS = frozenset({DriftClass.MINOR_EDIT, *RAISING})


def raises_drift(drift_class: str) -> bool:
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
    diff: str = ""
    removed: tuple[str, ...] = field(default=())  # paragraphs of the older body that are gone

    @property
    def drifted(self) -> bool:
        return raises_drift(self.drift_class)


MAJOR_REWRITE_SIMILARITY = 0.75  # below: over a quarter of the body removed, added or rewritten
PASSAGE_WORDS = 12  # a removed paragraph this long is named
PAIR_SIMILARITY = 0.5  # two paragraphs this alike are one paragraph, edited
LINK_SHARE = 2 / 3  # a line this much inside links is a teaser or a link list
BOILERPLATE_WORDS = 40  # longer lines are body, however many links they carry
CREDIT_WORDS = 25  # credit, share and "read more" lines are short
NAMES_CAPITALISED = 0.2  # over this share of capitalised words mid-sentence (German nouns), case says nothing
TITLE_CASE = 0.6  # a line with more capitalised words than this is a headline or a subhead
MAX_NAMED = 8  # fact changes named one by one; the rest are counted

# --- volatile text ----------------------------------------------------------------------------------

_MONTHS = (
    r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|janv|févr|fevr|mars|avr|mai|juin|juil|août|aout|sept|"
    r"déc|januar|februar|märz|maerz|juni|juli|okt|dez|ene|abr|ago|dic|gen|mag|giu|lug|set|ott"
)
_RELATIVE = [
    r"\b(updated|published|posted|modifié|mis à jour|publié|aktualisiert|actualizado|aggiornato)\b[^.\n]{0,40}?\b(ago|il y a|vor|hace|fa)\b[^.\n]{0,20}",
    r"\b\d+\s*(seconds?|secs?|minutes?|mins?|hours?|hrs?|h|days?|weeks?|months?|years?)\s+ago\b",
    r"\b(il y a|vor|hace)\s+\d+\s*\w+",
    r"\b\d+\s*\w+\s+fa\b",
    r"\b(just now|à l['’]instant|gerade eben)\b",
    r"\b(today|yesterday|aujourd['’]hui|hier|heute|gestern|hoy|ayer|oggi|ieri)\b",
]
_CLOCK = r"\b\d{1,2}[:h]\d{2}(:\d{2})?(\s*[ap]\.?\s?m\.?)?(\s*(utc|gmt|cet|cest|et|est|edt|pt|pst|pdt|bst))?\b"
# a counter is page furniture on a line of its own ("1,234 comments"); in a sentence it is a figure
_COUNTER = re.compile(
    r"\b\d[\d.,\u00a0 ]*\s*[km]?\s*(comments?|commentaires?|kommentare?|comentarios?|commenti|shares?|partages?|"
    r"views?|vues|aufrufe|likes?|reactions?|réactions?)\b",
    re.I,
)
COUNTER_LINE_WORDS = 8
_READING = r"\b\d+\s*(min(ute)?s?|mn)\.?\s*(read|de lecture|lesezeit|lectura|di lettura)\b|\b(temps de lecture|reading time|lesezeit)\s*:?\s*\d+\s*(min(ute)?s?|mn)\b"
_VOLATILE = re.compile("|".join(f"(?:{p})" for p in [*_RELATIVE, _CLOCK, _READING]), re.I)
_DATE = re.compile(
    rf"\b\d{{1,2}}(st|nd|rd|th|er)?\.?\s+({_MONTHS})\w*\.?,?\s+\d{{4}}\b|"
    rf"\b({_MONTHS})\w*\.?\s+\d{{1,2}}(st|nd|rd|th)?,?\s+\d{{4}}\b|"
    r"\b\d{4}-\d{2}-\d{2}(t[\d:.z+-]+)?\b|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b",
    re.I,
)
# Words a dateline carries beside its dates: a line with nothing else is not a sentence of the article.
_DATELINE_WORDS = re.compile(
    r"\b(updated?|published|posted|modified|last|first|mis à jour|mise à jour|maj|publié|modifié|le|à|aktualisiert|"
    r"veröffentlicht|stand|am|um|actualizado|publicado|el|aggiornato|pubblicato|il|on|at|"
    r"mon|tue|wed|thu|fri|sat|sun|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|montag|dienstag|mittwoch|donnerstag|freitag|"
    r"samstag|sonntag)\b",
    re.I,
)


def normalise(text: str) -> str:
    """The text without the parts that change on their own (see the module's step 1)."""
    return "\n".join(line for line in (_normalise_line(raw) for raw in text.splitlines()) if line)


def _normalise_line(line: str) -> str:
    kept = _VOLATILE.sub(" ", line)
    if len(kept.split()) <= COUNTER_LINE_WORDS:
        kept = _COUNTER.sub(" ", kept)
    if _DATE.search(kept) or kept != line:
        rest = _TOKEN.findall(_DATELINE_WORDS.sub(" ", _DATE.sub(" ", kept)))
        if len(rest) <= 2:
            return ""  # a dateline, a byline stamp, "Updated 5 minutes ago": nothing of the article
    return " ".join(kept.split())


# --- boilerplate ------------------------------------------------------------------------------------

# Credit, share and navigation lines: short, and recognisable by their first words or their marks.
_CREDIT = re.compile(
    r"(contributed (reporting|to this (report|article|story))|(^|;\s*)(additional )?(reporting|editing|writing) by|"
    r"^(edited|written|compiled|produced) by|^(photos?|images?|illustrations?|videos?|credits?|crédits?|fotos?|"
    r"bilder?|source|quelle)\b\s*[:/©]|©|\bcopyright\b|all rights reserved|tous droits réservés|"
    r"alle rechte vorbehalten|^\[?\s*(read more|read also|read next|read|related( coverage| stories| articles)?|"
    r"see also|more from|more on|recommended|most (read|popular)|watch|listen|lire aussi|à lire aussi|lire|"
    r"voir aussi|sur le même sujet|mehr zum thema|auch interessant|weitere artikel|lesen sie auch|lea también|"
    r"leggi anche)\b\s*[:»>\]|-]|^(sign up|subscribe|inscrivez-vous|abonnez-vous|follow us|suivez-nous)\b)",
    re.I,
)
# ... and those that are credits only when they stand alone on a very short line
_SHORT_CREDIT = re.compile(
    r"(\b(avec|with|mit|con)\s+(l['’])?(afp|reuters|ap|dpa|ansa|efe|belga)\b|"
    r"^(advertisement|publicité|passer la publicité|anzeige|werbung|publicidad|pubblicità)$)",
    re.I,
)
_BYLINE = re.compile(r"^(by|par|von|por|door|av)\s+[^.!?]{2,80}$", re.I)
_SHARE = re.compile(
    r"^(share|shares|tweet|partager|partagez|teilen|compartir|condividi|facebook|twitter|x|whatsapp|linkedin|"
    r"pinterest|telegram|reddit|flipboard|bluesky|threads|e-?mail|mail|print|imprimer|drucken)$",
    re.I,
)
_SHARE_FILLER = re.compile(r"^(this|article|on|sur|via|the|ce|cet|l|cette|page|copy|copier|link|lien|story)$", re.I)


def link_lines(text: str, link_texts: Iterable[str]) -> frozenset[str]:
    """Lines of an extracted text that its page shows mostly inside links: teasers of other articles,
    "read more" lists, menus the extractor kept. Structure, not wording: it holds on any site."""
    candidates = {a for a in link_texts if len(a) >= 4 and a in text}
    if not candidates:
        return frozenset()
    found = set()
    for line in text.splitlines():
        if not line or len(line.split()) > BOILERPLATE_WORDS:
            continue
        covered = bytearray(len(line))
        for anchor in candidates:
            start = line.find(anchor)
            while start != -1:
                covered[start : start + len(anchor)] = b"\x01" * len(anchor)
                start = line.find(anchor, start + 1)
        letters = sum(1 for ch in line if not ch.isspace())
        inside = sum(1 for ch, c in zip(line, covered, strict=True) if c and not ch.isspace())
        if letters and inside / letters >= LINK_SHARE:
            found.add(line)
    return frozenset(found)


def _is_boilerplate(line: str, marked: frozenset[str]) -> bool:
    if line in marked:
        return True
    words = _TOKEN.findall(line)
    if len(words) > CREDIT_WORDS:
        return False
    if _CREDIT.search(line) or (len(words) <= 12 and _BYLINE.match(line)):
        return True
    if len(words) <= 8 and _SHORT_CREDIT.search(line):
        return True
    shares = [w for w in words if _SHARE.match(w)]
    return len(words) <= 8 and bool(shares) and all(_SHARE.match(w) or _SHARE_FILLER.match(w) for w in words)


# --- tokens and facts -------------------------------------------------------------------------------

_TOKEN = re.compile(r"\d+(?:\s?[.,:/]\d+)*%?|\w+", re.UNICODE)  # "0.75", "15,000" and "15 ,000" are one word
# English ("one" is a pronoun too often), French ("un", "une" are articles), German ("ein" likewise)
_NUMBERS = (
    "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds thousand thousands "
    "million millions billion billions trillion dozen dozens half quarter twice thrice double triple "
    "deux trois quatre cinq sept huit neuf dix onze douze treize quatorze quinze seize vingt trente quarante "
    "cinquante soixante cent cents mille milliers million millions milliard milliards douzaine douzaines dizaine "
    "dizaines centaine centaines moitié quart "
    "zwei drei vier fünf sechs sieben acht neun zehn elf zwölf zwanzig dreißig vierzig fünfzig hundert hunderte "
    "tausend tausende millionen milliarde milliarden dutzend hälfte"
)
_NUMBER_WORDS = frozenset(_NUMBERS.split())
_DATES = (
    "january february april june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday "
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre "
    "lundi mardi mercredi jeudi vendredi samedi dimanche "
    "januar februar märz juni juli oktober dezember montag dienstag mittwoch donnerstag freitag samstag "
    "sonntag"
)
_DATE_WORDS = frozenset(_DATES.split())
_CASED_DATE_WORDS = frozenset({"May", "March"})  # the months, not the verbs
_QUOTE = re.compile(r"“[^”]{2,400}”|\"[^\"]{2,400}\"|«[^»]{2,400}»|„[^“”]{2,400}[“”]|‹[^›]{2,400}›")
_SENTENCE_START = ".!?:;\"“«»—–-([‘'"
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


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int
    mid_sentence: bool  # not the first word of a sentence, so its capital letter means something

    @property
    def key(self) -> str:
        return "".join(self.text.lower().split())

    @property
    def figure(self) -> bool:
        return any(ch.isdigit() for ch in self.text) or self.key in _NUMBER_WORDS

    @property
    def date_word(self) -> bool:
        return self.key in _DATE_WORDS or self.text in _CASED_DATE_WORDS

    @property
    def capitalised(self) -> bool:
        return self.mid_sentence and self.text[:1].isupper()


def _tokens(line: str) -> list[_Token]:
    out = []
    for m in _TOKEN.finditer(line):
        before = line[: m.start()].rstrip()
        out.append(_Token(m.group(0), m.start(), m.end(), bool(before) and before[-1] not in _SENTENCE_START))
    return out


@dataclass(frozen=True)
class _Line:
    text: str  # normalised
    tokens: tuple[_Token, ...]

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(t.key for t in self.tokens)


def _lines(text: str, marked: frozenset[str]) -> tuple[list[_Line], list[str]]:
    """The body's lines (normalised, tokenised) and the boilerplate lines, in order."""
    body, boilerplate = [], []
    for raw in text.splitlines():
        line = _normalise_line(raw)
        if not line:
            continue
        if _is_boilerplate(raw.strip(), marked) or _is_boilerplate(line, marked):
            boilerplate.append(line)
            continue
        tokens = tuple(_tokens(line))
        if tokens:
            body.append(_Line(line, tokens))
    return body, boilerplate


# --- comparing --------------------------------------------------------------------------------------


@dataclass
class _Comparison:
    old_words: int = 0
    new_words: int = 0
    kept: int = 0
    facts: list[str] = field(default_factory=list)
    wording: list[str] = field(default_factory=list)  # edits that change no fact, for a minor edit's evidence
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    moved: int = 0


def compare(before: Snapshot, after: Snapshot) -> DriftVerdict:
    """How `after` differs from `before`."""
    if before.text == after.text and before.title == after.title:
        return DriftVerdict(DriftClass.UNCHANGED, 1.0)
    marked = before.boilerplate | after.boilerplate
    old_body, old_plate = _lines(before.text, marked)
    new_body, new_plate = _lines(after.text, marked)
    body = _compare_bodies(old_body, new_body, _case_informative(old_body) and _case_informative(new_body))
    old_text, new_text = "\n".join(x.text for x in old_body), "\n".join(x.text for x in new_body)
    headline = bool(before.title and after.title) and _keys(before.title) != _keys(after.title)
    facts = body.facts
    if headline:
        old_title, new_title = (_Line(t, tuple(_tokens(t))) for t in (before.title, after.title))
        facts = [*facts, *(f"{f} in the headline" for f in _facts(old_title, new_title, False))]
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
    return DriftVerdict(
        drift_class, round(score, 4), tuple(changes), unified_diff(before.text, after.text), tuple(body.removed)
    )


def _keys(text: str) -> list[str]:
    return [t.key for t in _tokens(text)]


def _compare_bodies(old: Sequence[_Line], new: Sequence[_Line], names: bool) -> _Comparison:
    """Align paragraphs, then words inside each edited paragraph."""
    out = _Comparison(sum(len(x.tokens) for x in old), sum(len(x.tokens) for x in new))
    removed: list[tuple[int, _Line]] = []
    added: list[tuple[int, _Line]] = []
    matcher = difflib.SequenceMatcher(None, [x.key for x in old], [x.key for x in new], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.kept += sum(len(x.tokens) for x in old[i1:i2])
            continue
        used: set[int] = set()
        for i in range(i1, i2):
            best, best_ratio = None, PAIR_SIMILARITY
            for j in range(j1, j2):
                if j in used:
                    continue
                ratio = _ratio(old[i], new[j])
                if ratio >= best_ratio:
                    best, best_ratio = j, ratio
            if best is None:
                removed.append((i, old[i]))
            else:
                used.add(best)
                _edited(old[i], new[best], names, out)
        added.extend((j, new[j]) for j in range(j1, j2) if j not in used)
    # paragraphs that went elsewhere: moved, perhaps edited on the way
    if removed and added and len(removed) * len(added) <= 40_000:
        still_added = dict(added)
        for i, line in list(removed):
            best, best_ratio = None, PAIR_SIMILARITY
            for j, other in still_added.items():
                ratio = _ratio(line, other)
                if ratio >= best_ratio:
                    best, best_ratio = j, ratio
            if best is not None:
                other = still_added.pop(best)
                removed.remove((i, line))
                if line.key == other.key:
                    out.kept += len(line.tokens)
                    out.moved += 1
                else:
                    _edited(line, other, names, out)
        added = list(still_added.items())
    out.removed = [x.text for _, x in removed]
    out.added = [x.text for _, x in added]
    return out


def _ratio(a: _Line, b: _Line) -> float:
    matcher = difflib.SequenceMatcher(None, a.key, b.key, autojunk=False)
    if matcher.real_quick_ratio() < PAIR_SIMILARITY or matcher.quick_ratio() < PAIR_SIMILARITY:
        return 0.0
    return matcher.ratio()


def _edited(old: _Line, new: _Line, names: bool, out: _Comparison) -> None:
    matcher = difflib.SequenceMatcher(None, old.key, new.key, autojunk=False)
    out.kept += sum(block.size for block in matcher.get_matching_blocks())
    facts = _facts(old, new, names, matcher)
    out.facts.extend(facts)
    if not facts and len(out.wording) < 2:
        tag, i1, i2, j1, j2 = next(op for op in matcher.get_opcodes() if op[0] != "equal")
        out.wording.append(_named("wording", old.text, old.tokens[i1:i2], new.text, new.tokens[j1:j2]))


def _facts(old: _Line, new: _Line, names: bool, matcher: difflib.SequenceMatcher[str] | None = None) -> list[str]:
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
            found.append(f"quote changed: {quote_was or '(none)'!r} -> {quote_now or '(none)'!r}")
            continue
        for label, test in (
            ("figure", lambda t: t.figure),
            ("date", lambda t: t.date_word),
            ("name", lambda t: names and t.capitalised and not t.figure and not t.date_word),
        ):
            if Counter(t.key for t in was if test(t)) != Counter(t.key for t in now if test(t)):
                found.append(_named(label, old.text, was, new.text, now))
                break
    return found


def _named(label: str, old_text: str, was: Sequence[_Token], new_text: str, now: Sequence[_Token]) -> str:
    before = old_text[was[0].start : was[-1].end] if was else ""
    after = new_text[now[0].start : now[-1].end] if now else ""
    if not after:
        return f"{label} removed: {before!r}"
    if not before:
        return f"{label} added: {after!r}"
    return f"{label} changed: {before!r} -> {after!r}"


def _span(line: _Line, start: int, end: int) -> tuple[int, int]:
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


def _case_informative(lines: Sequence[_Line]) -> bool:
    """Capital letters mark names only where most words are lower case (not in German, nor in a title)."""
    mid = [t for line in lines for t in line.tokens if t.mid_sentence and t.text[:1].isalpha()]
    if not mid:
        return True
    return sum(1 for t in mid if t.text[:1].isupper()) / len(mid) <= NAMES_CAPITALISED


def _title_case(line: _Line) -> bool:
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


def unified_diff(before: str, after: str, limit: int = 200) -> str:
    """A paragraph-level unified diff, cut to `limit` lines."""
    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), "before", "after", lineterm="", n=1))
    if len(lines) > limit:
        lines = [*lines[:limit], f"... ({len(lines) - limit} more lines)"]
    return "\n".join(lines)


def _around(pattern: re.Pattern[str], text: str) -> str:
    match = pattern.search(text)
    assert match is not None
    line_start = text.rfind("\n", 0, match.start()) + 1
    line_end = text.find("\n", match.end())
    return text[line_start : line_end if line_end != -1 else None][:160]
