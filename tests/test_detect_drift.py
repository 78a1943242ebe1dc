"""Drift classes from pairs of texts, and claim facts that survive translation."""

from __future__ import annotations

import pytest

from archiver.detect.claims import check_claim, facts_of, lost_facts
from archiver.detect.drift import DriftClass, Snapshot, compare

PARAS = [
    "North Korea has sent about 15,000 troops to Russia, South Korean lawmakers said on Wednesday.",
    "The soldiers were deployed to the Kursk region, where Ukrainian forces had launched an incursion last summer.",
    "About 600 of them have been killed, according to the National Intelligence Service, which briefed lawmakers.",
    "Pyongyang is also believed to have supplied artillery shells and missiles to Moscow in exchange for aid.",
    "Analysts said the deployment deepened a military partnership that began with a treaty signed in June.",
]
BASE = Snapshot("\n".join(PARAS), "About 600 North Koreans killed", "Josh Smith", "2025-04-30")


def test_identical_text_is_unchanged():
    assert compare(BASE, BASE).drift_class == DriftClass.UNCHANGED


def test_timestamps_and_counters_do_not_raise_drift():
    noisy = Snapshot(BASE.text + "\nUpdated 5 minutes ago\n1,234 comments", BASE.title, BASE.author, BASE.date)
    verdict = compare(BASE, noisy)
    assert verdict.drift_class == DriftClass.COSMETIC and not verdict.drifted
    retimed = Snapshot(BASE.text.replace("on Wednesday", "on Wednesday at 10:42 a.m."), BASE.title)
    assert (
        compare(
            Snapshot(BASE.text.replace("on Wednesday", "on Wednesday at 9:15 a.m."), BASE.title), retimed
        ).drift_class
        == DriftClass.COSMETIC
    )


def test_whitespace_and_punctuation_are_cosmetic():
    spaced = Snapshot(BASE.text.replace(". ", ".  ").replace(",", " ,"), BASE.title, BASE.author, BASE.date)
    assert compare(BASE, spaced).drift_class == DriftClass.COSMETIC


def test_a_changed_sentence_is_a_minor_edit():
    edited = Snapshot(
        BASE.text.replace("About 600 of them", "More than 1,000 of them"), BASE.title, BASE.author, BASE.date
    )
    verdict = compare(BASE, edited)
    assert verdict.drift_class == DriftClass.MINOR_EDIT and verdict.drifted
    assert "-About 600 of them" in verdict.diff and "+More than 1,000 of them" in verdict.diff


def test_a_rewrite_is_major():
    rewritten = Snapshot(
        "The story you are looking for has been replaced by a live blog.\n"
        "Follow our coverage of the war in Ukraine here, with updates through the day.",
        "Live: war in Ukraine",
        "Staff",
        "2025-05-02",
    )
    verdict = compare(BASE, rewritten)
    assert verdict.drift_class == DriftClass.MAJOR_REWRITE and verdict.score < 0.6


def test_editor_changes_are_named():
    after = Snapshot(
        "\n".join(
            [*PARAS[:2], *PARAS[3:], "Correction: An earlier version of this article misstated the number of troops."]
        ),
        "About 600 North Korean soldiers killed",
        "Josh Smith and Hyunsu Yim",
        "2025-05-01",
    )
    changes = " | ".join(compare(BASE, after).changes)
    assert "headline changed" in changes and "correction added" in changes
    assert "byline changed" in changes and "date changed: 2025-04-30 -> 2025-05-01" in changes
    assert "passage removed: 'About 600 of them have been killed" in changes


@pytest.mark.parametrize(
    "claim,source,expected",
    [
        ("15 000 soldats russes avaient été tués", "about 15,000 Russian soldiers had been killed", ["15 000"]),
        ("aurait rapporté 5,5 milliards de dollars", "earned North Korea $5.5 billion", ["5,5 milliards"]),
        ("70% des munitions", "70 percent of the shells", ["70"]),
        ("entre 10 000 et 16 500 containers", "between 10,000 and 16,500 containers", ["10 000", "16 500"]),
        ("a gain of 572 million", "un gain de 572 millions de dollars", ["572 million"]),
    ],
)
def test_numbers_match_across_languages(claim, source, expected):
    result = check_claim(claim, source)
    assert list(result.found) == expected and result.supported


def test_different_numbers_do_not_match():
    assert check_claim("15 000 soldats", "about 1,500 soldiers").missing == ("15 000",)
    assert check_claim("5,5 milliards", "5.5 million dollars").missing == ("5,5 milliards",)


def test_dates_and_bare_digits_are_not_facts():
    labels = [f.label for f in facts_of("Le 19 juin 2024, après cinq mois et 5 jours, 400 ingénieurs")]
    assert labels == ["400"]


def test_quoted_and_expected_phrases_are_facts():
    result = check_claim(
        "il a dit « become a force accelerating a multipolar world »",
        "He vowed to become a force accelerating a multipolar world.",
        expect=("Kursk",),
    )
    assert result.found == ("«become a force accelerating a multipolar world»",)
    assert result.missing == ("Kursk",)


def test_claim_drift_is_what_the_baseline_said_and_the_current_text_does_not():
    claim = "Reuters estime que 15 000 soldats ont été envoyés et 600 tués"
    baseline = check_claim(claim, "North Korea sent 15,000 troops; about 600 were killed.")
    current = check_claim(claim, "North Korea sent troops; about 600 were killed.")
    assert lost_facts(baseline, current) == ["15 000"]
