"""Access and capture dates as citation formats write them: read to an ISO day, bad ones named, and
new ones written in an article's own style."""

from __future__ import annotations

from datetime import date

import pytest

from archiver.formats.dates import DateStyle, read_date, read_date_parts, write_date


@pytest.mark.parametrize(
    "text,iso,style",
    [
        ("2021-05-05", "2021-05-05", DateStyle.ISO),
        ("2021-5-5", "2021-05-05", DateStyle.ISO),
        ("2021-05-05T10:31:00Z", "2021-05-05", DateStyle.ISO),  # biblatex urldate with a time
        ("2021-05-05/2021-05-07", "2021-05-05", DateStyle.ISO),  # an EDTF interval: its start
        ("5 May 2021", "2021-05-05", DateStyle.DMY),
        ("05 May 2021", "2021-05-05", DateStyle.DMY),
        ("5 Sept 2021", "2021-09-05", DateStyle.DMY),
        ("May 5, 2021", "2021-05-05", DateStyle.MDY),
        ("Dec. 24, 2020", "2020-12-24", DateStyle.MDY),
        ("  March   3,  2018 ", "2018-03-03", DateStyle.MDY),
    ],
)
def test_a_whole_day_reads_as_iso_with_its_style(text, iso, style):
    reading = read_date(text)
    assert (reading.iso, reading.style, reading.problem) == (iso, style, "")


@pytest.mark.parametrize("text,partial", [("2021-05", "2021-05"), ("2021", "2021"), ("May 2021", "2021-05")])
def test_a_month_or_a_year_is_partial_not_a_day(text, partial):
    reading = read_date(text)
    assert (reading.iso, reading.partial, reading.problem) == ("", partial, "")


@pytest.mark.parametrize(
    "text,named",
    [
        ("2020-13-01", "not a real day"),
        ("31 February 2021", "not a real day"),
        ("2021-14", "no month 14"),
        ("yesterday", "is not a date"),
        ("Retrieved 5 May", "is not a date"),
        ("5 Mayo 2021", "is not a date"),
    ],
)
def test_a_bad_date_is_named_with_what_to_write_instead(text, named):
    reading = read_date(text)
    assert not reading.iso and named in reading.problem and repr(text.strip()) in reading.problem


def test_empty_is_no_date_and_no_problem():
    assert read_date("  ") == read_date("")
    assert not read_date("").iso and not read_date("").problem


def test_csl_date_parts_accept_zoteros_string_years():
    assert read_date_parts(["2022", 7, 20]).iso == "2022-07-20"
    assert read_date_parts([2023, 4]).partial == "2023-04"
    assert read_date_parts([2023]).partial == "2023"
    assert "not a real day" in read_date_parts([2021, 2, 30]).problem
    assert "no month 13" in read_date_parts([2021, 13]).problem
    assert "not a number" in read_date_parts(["spring", 2021]).problem
    assert read_date_parts([]).problem


def test_a_day_is_written_in_each_wikipedia_style():
    day = date(2024, 3, 1)
    assert write_date(day, DateStyle.DMY) == "1 March 2024"
    assert write_date(day, DateStyle.MDY) == "March 1, 2024"
    assert write_date(day, DateStyle.ISO) == "2024-03-01"
    for style in DateStyle:
        assert read_date(write_date(day, style)).iso == "2024-03-01"
