"""The article's body in an extracted text, as drift compares it.

Two kinds of line are set aside. Volatile text changes without the article changing: relative times
("updated 5 minutes ago", "il y a 3 heures"), clock times, counters on a line of their own ("1,234
comments"), reading times, and lines that are only a dateline ("Published 28 April 2025, updated 29
April"); dates and figures inside the article's own sentences are kept, they are facts. Boilerplate
is what surrounds the article: the lines its page shows inside links (teasers and link lists of
other articles, see `link_lines`: structure, so it holds on any site), and short credit, share and
"read more" lines. What remains is tokenised into words that keep figures whole ("0.75", "15,000").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

LINK_SHARE = 2 / 3  # a line this much inside links is a teaser or a link list
BOILERPLATE_WORDS = 40  # longer lines are body, however many links they carry
CREDIT_WORDS = 25  # credit, share and "read more" lines are short
LONG_LINE = 2000  # characters: a longer line is cut at sentence ends
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")

# --- words -------------------------------------------------------------------------------

TOKEN = re.compile(r"\d+(?:\s?[.,:/]\d+)*%?|\w+", re.UNICODE)  # "0.75", "15,000" and "15 ,000" are one word
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
# capitalised, yet no name: the pronoun "I" and honorifics ("Mr Smith" -> "Smith" is house style)
_NOT_NAMES = frozenset(
    ["i", "mr", "mrs", "ms", "dr", "prof", "sir", "mme", "mlle", "m", "herr", "frau", "st", "jr", "sr"]
)
_SENTENCE_START = ".!?:;\"“«»—–-([‘'"


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
    r"\bthis (article|story|content) is (more than |over )?\S+ (years?|months?|days?) old\b",
]
_CLOCK = r"\b\d{1,2}[:h]\d{2}(:\d{2})?(\s*[ap]\.?\s?m\.?)?(\s*(utc|gmt|cet|cest|et|est|edt|pt|pst|pdt|bst))?\b"
# a counter is page furniture on a line of its own ("1,234 comments"); in a sentence it is a figure
_COUNTED = r"(comments?|commentaires?|kommentare?|comentarios?|commenti|shares?|partages?|views?|vues|aufrufe|likes?|reactions?|réactions?)"
_COUNTER = re.compile(rf"\b\d[\d.,\u00a0 ]*\s*[km]?\s*{_COUNTED}\b|\b{_COUNTED}\s*[:(]?\s*\d[\d.,]*\s*[km]?\)?", re.I)
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


def normalise_line(line: str) -> str:
    """The line without what changes on its own; "" when nothing of the article is left."""
    kept = _VOLATILE.sub(" ", line)
    if len(kept.split()) <= COUNTER_LINE_WORDS:
        kept = _COUNTER.sub(" ", kept)
    if _DATE.search(kept) or kept != line:
        rest = TOKEN.findall(_DATELINE_WORDS.sub(" ", _DATE.sub(" ", kept)))
        if len(rest) <= 2:
            return ""  # a dateline, a byline stamp, "Updated 5 minutes ago": nothing of the article
    return " ".join(kept.split())


# --- boilerplate ------------------------------------------------------------------------------------

# Credit, share and navigation lines: short, and recognisable by their first words or their marks.
_CREDIT = re.compile(
    r"(contributed (reporting|to this (report|article|story))|(^|;\s*)(additional )?(reporting|editing|writing) by|"
    r"^(edited|written|compiled|produced) by|a version of this article appears in print|"
    r"^(photos?|photographs?|images?|illustrations?|videos?|credits?|crédits?|fotos?|"
    r"bilder?|source|quelle)\b\s*[:/©]|©|\bcopyright\b|all rights reserved|tous droits réservés|"
    r"alle rechte vorbehalten|^\[?\s*(read more|read also|read next|read|related( coverage| stories| articles)?|"
    r"see also|more from|more on|recommended|most (read|popular)|watch|listen|lire aussi|à lire aussi|lire|"
    r"voir aussi|sur le même sujet|mehr zum thema|auch interessant|weitere artikel|lesen sie auch|lea también|"
    r"leggi anche)\b\s*[:»>\]|-]|^(sign up|subscribe|inscrivez-vous|abonnez-vous|follow us|suivez-nous)\b)",
    re.I,
)
# ... and those that are credits only when they stand alone on a very short line
_SHORT_CREDIT = re.compile(
    r"(\b(avec|with|mit|con)\b.{0,30}\b(afp|reuters|ap|dpa|ansa|efe|belga|kna|epd)\b|"
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
    lines = [line for line in text.splitlines() if line and len(line.split()) <= BOILERPLATE_WORDS]
    # A link text is folded (no line break in it), so it counts only where it is inside one short line
    short = "\n".join(lines)
    candidates = {a for a in set(link_texts) if len(a) >= 4 and a in short}
    if not candidates:
        return frozenset()
    found = set()
    for line in lines:
        spans = []
        for anchor in candidates:
            start = line.find(anchor)
            while start != -1:
                spans.append((start, start + len(anchor)))
                start = line.find(anchor, start + 1)
        if spans and _inside(line, spans) / _letters(line) >= LINK_SHARE:
            found.add(line)
    return frozenset(found)


def _letters(text: str) -> int:
    """How many characters of a text are not white space."""
    return len("".join(text.split()))


def _inside(line: str, spans: list[tuple[int, int]]) -> int:
    """How many characters of a line, not white space, at least one span covers."""
    count, end = 0, 0
    for start, stop in sorted(spans):
        if stop > end:
            count += _letters(line[max(start, end) : stop])
            end = stop
    return count


def is_boilerplate(line: str, marked: frozenset[str]) -> bool:
    if line in marked:
        return True
    words = TOKEN.findall(line)
    if len(words) > CREDIT_WORDS:
        return False
    if _CREDIT.search(line) or (len(words) <= 12 and _BYLINE.match(line)):
        return True
    if len(words) <= 8 and _SHORT_CREDIT.search(line):
        return True
    shares = [w for w in words if _SHARE.match(w)]
    return len(words) <= 8 and bool(shares) and all(_SHARE.match(w) or _SHARE_FILLER.match(w) for w in words)


class Token(NamedTuple):
    """A word of a line, where it stands in the line."""

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
    def name(self) -> bool:
        """A capitalised word inside a sentence: a name, where case means something (see drift)."""
        return self.mid_sentence and self.text[:1].isupper() and self.key not in _NOT_NAMES


def tokenise(line: str) -> list[Token]:
    """The words of a line, each knowing whether it starts a sentence."""
    out: list[Token] = []
    for m in TOKEN.finditer(line):
        gap = line[out[-1].end if out else 0 : m.start()].rstrip()
        last = gap[-1] if gap else out[-1].text[-1] if out else ""
        initial = gap == "." and len(out[-1].text) == 1  # "U.S.", "J. Smith": not a sentence's end
        out.append(Token(m.group(0), m.start(), m.end(), bool(last) and (last not in _SENTENCE_START or initial)))
    return out


@dataclass(frozen=True)
class Line:
    text: str  # normalised
    tokens: tuple[Token, ...]

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(t.key for t in self.tokens)


def body_lines(text: str, marked: frozenset[str]) -> tuple[list[Line], list[str]]:
    """The body's lines (normalised, tokenised) and the boilerplate lines, in order. A very long line
    (a text with no paragraphs) is cut at sentence ends, so comparing lines stays cheap."""
    body, boilerplate = [], []
    for raw in text.splitlines():
        line = normalise_line(raw)
        if not line:
            continue
        if is_boilerplate(raw.strip(), marked) or is_boilerplate(line, marked):
            boilerplate.append(line)
            continue
        for part in _chunks(line):
            tokens = tuple(tokenise(part))
            if tokens:
                body.append(Line(part, tokens))
    return body, boilerplate


def _chunks(line: str) -> list[str]:
    if len(line) <= LONG_LINE:
        return [line]
    out, current = [], ""
    for sentence in _SENTENCE_END.split(line):
        if current and len(current) + len(sentence) > LONG_LINE:
            out.append(current)
            current = ""
        current = f"{current} {sentence}" if current else sentence
    return [*out, current] if current else out
