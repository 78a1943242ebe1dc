"""Reading the dates citation formats write (access dates, capture dates) and writing new ones in an
article's own style. Pure: the one home of "what day does this text name"."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class DateStyle(StrEnum):
    """How a date is written: `2021-05-05`, `5 May 2021` or `May 5, 2021` (Wikipedia's three)."""

    ISO = "iso"
    DMY = "dmy"
    MDY = "mdy"


@dataclass(frozen=True)
class DateReading:
    """What a date text says: a whole day, only a month or a year, or a problem worth naming."""

    iso: str = ""  # YYYY-MM-DD when a whole day is named
    partial: str = ""  # YYYY-MM or YYYY when only a month or a year is
    style: DateStyle | None = None
    problem: str = ""


MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTH = {name.lower(): i for i, name in enumerate(MONTHS, 1)}
_MONTH.update({name[:3].lower(): i for i, name in enumerate(MONTHS, 1)})
_MONTH["sept"] = 9

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][0-9:.+Z-]*)?$")
_ISO_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{1,2}))?$")
_DMY = re.compile(r"^(\d{1,2})\s+([A-Za-z]+)\.?,?\s+(\d{4})$")
_MDY = re.compile(r"^([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})$")
_MONTH_YEAR = re.compile(r"^([A-Za-z]+)\.?,?\s+(\d{4})$")
EXPECTED = "write 2025-04-28, 28 April 2025 or April 28, 2025"


def read_date(text: str) -> DateReading:
    """The day a date text names. An EDTF interval (`2021-05-05/2021-05-07`) is read by its start."""
    text = " ".join(text.split())
    if not text:
        return DateReading()
    if "/" in text and _ISO.match(text.split("/", 1)[0]):
        text = text.split("/", 1)[0]
    if m := _ISO.match(text):
        return _day(text, int(m.group(1)), int(m.group(2)), int(m.group(3)), DateStyle.ISO)
    if m := _ISO_PARTIAL.match(text):
        year, month = int(m.group(1)), int(m.group(2) or 0)
        if month and not 1 <= month <= 12:
            return DateReading(problem=f"{text!r} is not a date: there is no month {month}")
        return DateReading(partial=f"{year:04d}-{month:02d}" if month else f"{year:04d}", style=DateStyle.ISO)
    if (m := _DMY.match(text)) and m.group(2).lower() in _MONTH:
        return _day(text, int(m.group(3)), _MONTH[m.group(2).lower()], int(m.group(1)), DateStyle.DMY)
    if (m := _MDY.match(text)) and m.group(1).lower() in _MONTH:
        return _day(text, int(m.group(3)), _MONTH[m.group(1).lower()], int(m.group(2)), DateStyle.MDY)
    if (m := _MONTH_YEAR.match(text)) and m.group(1).lower() in _MONTH:
        return DateReading(partial=f"{int(m.group(2)):04d}-{_MONTH[m.group(1).lower()]:02d}")
    return DateReading(problem=f"{text!r} is not a date ({EXPECTED})")


def read_date_parts(parts: Sequence[object]) -> DateReading:
    """A CSL `date-parts` row: [year, month, day], any of them possibly a string (Zotero writes the
    year as one)."""
    numbers: list[int] = []
    for part in parts[:3]:
        if isinstance(part, bool) or not isinstance(part, int | str) or not str(part).strip().isdigit():
            return DateReading(problem=f"date-parts {list(parts)!r} is not a date: {part!r} is not a number")
        numbers.append(int(str(part).strip()))
    if not numbers:
        return DateReading(problem="date-parts is empty")
    if len(numbers) == 3:
        return _day(str(list(parts)), numbers[0], numbers[1], numbers[2], DateStyle.ISO)
    if len(numbers) == 2 and not 1 <= numbers[1] <= 12:
        return DateReading(problem=f"date-parts {list(parts)!r} is not a date: there is no month {numbers[1]}")
    return DateReading(partial="-".join(f"{n:02d}" if i else f"{n:04d}" for i, n in enumerate(numbers)))


def _day(text: str, year: int, month: int, day: int, style: DateStyle) -> DateReading:
    try:
        return DateReading(iso=date(year, month, day).isoformat(), style=style)
    except ValueError as exc:
        return DateReading(problem=f"{text!r} is not a real day ({exc})")


def write_date(day: date, style: DateStyle) -> str:
    """A day written the way an article writes its dates."""
    if style is DateStyle.DMY:
        return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
    if style is DateStyle.MDY:
        return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"
    return day.isoformat()
