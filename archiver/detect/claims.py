"""Does the source still say what the article says it says?

The facts of a claim are its numbers and quoted phrases, plus any `expect` phrases from
sources.csv. Numbers match across languages and notations: "15 000 soldats" finds "15,000 troops",
"5,5 milliards de dollars" finds "$5.5 billion", "70%" finds "70 percent". A fact found in the
baseline and missing now is claim drift: the strongest drift signal.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_SCALES = {
    "thousand": 1e3,
    "mille": 1e3,
    "k": 1e3,
    "million": 1e6,
    "millions": 1e6,
    "mn": 1e6,
    "m": 1e6,
    "billion": 1e9,
    "billions": 1e9,
    "milliard": 1e9,
    "milliards": 1e9,
    "bn": 1e9,
    "md": 1e9,
    "mds": 1e9,
    "trillion": 1e12,
    "trillions": 1e12,
    "billions_fr": 1e12,
}
# A number: digits grouped by spaces (incl. no-break ones), commas or dots, an optional decimal part,
# and an optional scale word right after it.
_NUMBER = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:[ \u00a0\u202f,.]\d{3})+|\d+)(?:([.,])(\d+))?"
    r"(?:\s*(thousand|mille|millions?|milliards?|billions?|trillions?|mn|bn|mds?|k|m)\b)?",
    re.I,
)
_QUOTED = re.compile(r"«\s*([^»]{8,300}?)\s*»|“([^”]{8,300}?)”|\"([^\"]{8,300}?)\"")
_YEAR = re.compile(r"^(1[89]|20)\d{2}$")
_MONTH_AFTER = re.compile(
    r"\s*(janv|févr|fevr|mars|avr|mai|juin|juil|août|aout|sept|oct|nov|déc|dec|jan|feb|mar|apr|may|jun|jul|aug|sep)",
    re.I,
)


@dataclass(frozen=True)
class Fact:
    """One thing the claim asserts: a number (with its value) or a phrase."""

    label: str  # as written in the claim
    values: tuple[float, ...] = ()  # for numbers: every reading of the notation
    phrase: str = ""  # for phrases: the normalised words


@dataclass(frozen=True)
class ClaimCheck:
    facts: tuple[str, ...]
    found: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def supported(self) -> bool | None:
        """True when every fact is in the source, None when the claim has nothing checkable."""
        if not self.facts:
            return None
        return not self.missing


def facts_of(claim: str, expect: tuple[str, ...] = ()) -> list[Fact]:
    """The checkable facts of a claim: numbers (not bare small counts) and quoted or expected phrases."""
    facts: list[Fact] = []
    for match in _NUMBER.finditer(claim):
        values = _readings(match)
        integer = match.group(1)
        if not match.group(4) and not match.group(3) and len(integer) < 2:
            continue  # "5 mois": a bare digit is too common to mean anything
        if (_YEAR.match(integer) and not match.group(3)) or _MONTH_AFTER.match(claim, match.end()):
            continue  # dates are written differently in every language
        facts.append(Fact(match.group(0).strip(), tuple(sorted(values))))
    for match in _QUOTED.finditer(claim):
        quote = next(g for g in match.groups() if g)
        facts.append(Fact(f"«{quote}»", phrase=_words(quote)))
    for phrase in expect:
        facts.append(Fact(phrase, phrase=_words(phrase)))
    seen: set[str] = set()
    return [f for f in facts if not (f.label in seen or seen.add(f.label))]  # type: ignore[func-returns-value]


def check_claim(claim: str, text: str, expect: tuple[str, ...] = ()) -> ClaimCheck:
    """Which facts of the claim the source text still carries."""
    facts = facts_of(claim, expect)
    # the text's numbers and words are read only for a claim that asks for them (most cite no figure)
    numbers = numbers_in(text) if any(f.values for f in facts) else set()
    words = f" {_words(text)} " if any(not f.values for f in facts) else ""
    found: list[str] = []
    missing: list[str] = []
    for fact in facts:
        if fact.values:
            ok = any(_close(v, n) for v in fact.values for n in numbers)
        else:
            ok = bool(fact.phrase) and f" {fact.phrase} " in words
        (found if ok else missing).append(fact.label)
    return ClaimCheck(tuple(f.label for f in facts), tuple(found), tuple(missing))


def lost_facts(baseline: ClaimCheck, current: ClaimCheck) -> list[str]:
    """Facts the baseline supported that the current text no longer does."""
    return [f for f in baseline.found if f in current.missing]


def numbers_in(text: str) -> set[float]:
    values: set[float] = set()
    for match in _NUMBER.finditer(text):
        values.update(_readings(match))
    for match in re.finditer(r"(\d+(?:[.,]\d+)?)\s*(%|percent|pour ?cent|per cent)", text, re.I):
        values.add(float(match.group(1).replace(",", ".")))
    return values


def _readings(match: re.Match[str]) -> set[float]:
    """Every value a written number can mean: "15,000" is 15000 in English and 15.0 in French."""
    integer, sep, decimals, scale_word = match.groups()
    scale = _SCALES.get((scale_word or "").lower(), 1.0)
    if scale_word and scale_word.lower() == "m" and not sep:
        scale = 1e6
    readings: set[float] = set()
    grouped = re.sub(r"[ \u00a0\u202f,.]", "", integer)
    separators = set(re.findall(r"[ \u00a0\u202f,.]", integer))
    if len(separators) <= 1:
        readings.add(float(grouped))
    if separators and len(integer.split(next(iter(separators)))) == 2 and separators <= {",", "."}:
        readings.add(float(integer.replace(",", ".")))  # "15,000" may be French 15.0
    if not readings:
        readings.add(float(grouped))
    if decimals:
        readings = {float(f"{int(r)}.{decimals}") if r == int(r) else r for r in readings}
    return {r * scale for r in readings}


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0)


def _words(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    return " ".join(re.findall(r"[\w']+", text))
