"""Link lines: the lines of an extracted text that its page shows mostly inside links."""

from __future__ import annotations

from archiver.detect.body import link_lines

LONG = " ".join(["The council approved the plan for the centre after a long debate on Tuesday."] * 4)


def test_a_link_text_counts_in_a_short_line_even_when_a_long_paragraph_carries_it_first():
    teaser = "Storm warnings across the coast"
    text = f"{LONG} {teaser} again.\n{teaser}\nThe mayor said the work would start in June."
    assert link_lines(text, [teaser]) == {teaser}


def test_a_link_text_only_inside_a_long_paragraph_marks_nothing():
    assert link_lines(f"{LONG} Storm warnings across the coast.", ["Storm warnings across the coast"]) == frozenset()


def test_lines_split_by_any_line_boundary_are_judged_alone():
    teaser = "Five things to know before the summit"
    text = f"The minister spoke for an hour about the budget.\u2028{teaser}\r\nShe left at noon."
    assert link_lines(text, [teaser]) == {teaser}


def test_overlapping_link_texts_count_each_letter_once():
    # "aaaa bbbb" and "bbbb cccc" overlap: together they cover 12 of the line's 20 letters (60%),
    # under two thirds; counting the shared "bbbb" twice would make it 80%
    line = "aaaa bbbb cccc dddd eeee"
    assert link_lines(line, ["aaaa bbbb", "bbbb cccc"]) == frozenset()
    assert link_lines(line, ["aaaa bbbb", "bbbb cccc", "dddd"]) == {line}
