"""One rule for "the version in force at a date" and for "the capture to offer", shared: the drift
baseline and its report diff, `archiver lookup --at`, serve's TimeGate and capture verification all
read them from `archive.selection`. A table of cases for the rules, then one history read through
every door that uses them."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from conftest import health_of, write_sources
from simweb import LOREM, article

from archiver import lookup, run_check
from archiver.archive.selection import baseline, best_capture, capture_at, closest, version_in_force
from archiver.models import CheckVerdicts, Outcome
from archiver.models.rows import Capture, CaptureRow, CheckRow, VersionRow
from archiver.report import build_report
from archiver.serve import make_server
from archiver.store import Store

T = datetime(2026, 1, 1, 12, tzinfo=UTC)


def version(name: str, day: int) -> VersionRow:
    return VersionRow("1", name, (T + timedelta(days=day)).isoformat(), name, "", "", "", 1, 1, "", "", 1)


def check(n: int, day: float, seen: str) -> CheckRow:
    at = (T + timedelta(days=day)).isoformat()
    return CheckRow(
        n, "1", at, Outcome.OK if seen else Outcome.HTTP_ERROR, 200, "", seen, False, "", None, CheckVerdicts()
    )


V1, V2 = version("v1", 0), version("v2", 2)
# v1 seen on day 0, a failed check on day 1 (no content), v2 on day 2, v1 back on day 4
CHECKS = [check(1, 0, "v1"), check(2, 1, ""), check(3, 2, "v2"), check(4, 4, "v1")]


@pytest.mark.parametrize(
    "day,expected",
    [
        (-1, None),  # before the first check: nothing was in force
        (0, "v1"),  # at the very moment of a check, what it saw
        (1.5, "v1"),  # a failed check changes nothing: the last content seen stays in force
        (2, "v2"),
        (3, "v2"),
        (5, "v1"),  # a page that went back is in force again, though its version is the older
        (None, "v1"),  # no date: now
    ],
)
def test_the_version_in_force_is_what_the_last_check_at_or_before_the_moment_saw(day, expected):
    when = None if day is None else T + timedelta(days=day)
    found = version_in_force(CHECKS, [V1, V2], when)
    assert (found.hash if found else None) == expected


def test_the_baseline_is_the_version_in_force_when_cited_else_the_first():
    assert baseline(CHECKS, [V1, V2], T + timedelta(days=3)) == V2
    assert baseline(CHECKS, [V1, V2], T - timedelta(days=30)) == V1  # cited before we first saw the page
    assert baseline(CHECKS, [V1, V2], None) == V1
    assert baseline([], [], T) is None


def row(stamp: str, verified: bool | None, status: int | None = 200) -> CaptureRow:
    return CaptureRow(stamp, "https://a.example/", status, verified=verified)


def test_the_capture_offered_is_verified_and_closest_before_the_citation_date_then_after():
    rows = [
        row("20250101000000", True),
        row("20250427000000", False),  # closer, but found wrong: never offered
        row("20250429000000", True),
        row("20250601000000", None),
    ]
    cited = datetime(2025, 4, 28, tzinfo=UTC)
    assert [c.timestamp for c in closest(rows, cited)] == [
        "20250427000000",
        "20250101000000",
        "20250429000000",
        "20250601000000",
    ]
    assert best_capture(rows, cited) == rows[0]
    assert best_capture(rows, None) == rows[2]  # no date: the newest verified
    assert best_capture([row("20250101000000", None)], cited) is None
    # `lookup --at` names a verified copy first, else any copy not found wrong
    assert capture_at(rows, cited) == rows[0]
    assert capture_at([rows[1], rows[3]], cited) == rows[3]
    assert closest([Capture("20250101000000", "u", status=404)], cited) == []


@pytest.fixture
def history(web, settings, clock):
    """One page seen in three versions, on days 0, 2 and 4. Citation 1 has no date; citation 2 (the
    same page) was cited on day 3, when the second version was in force."""
    paragraphs = list(LOREM)
    url = web.page("/world/story", article("Kursk", *paragraphs))
    write_sources(
        settings.sources,
        [
            {"id": "1", "url": url},
            {"id": "2", "url": url, "cited_at": (clock.now + timedelta(days=3)).date().isoformat()},
        ],
    )
    for day, figure in ((0, "15,000"), (2, "16,000"), (4, "17,000")):
        clock.now = T + timedelta(days=day)
        web.page(url, article("Kursk", paragraphs[0].replace("15,000", figure), *paragraphs[1:]))
        run_check(settings, clock=clock)
    return settings, url


def timegate(base: str, url: str, when: datetime) -> str:
    accept = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    answer = httpx.get(f"{base}/timegate/{url}", headers={"Accept-Datetime": accept}, timeout=5)
    assert answer.status_code == 302
    return answer.headers["location"]


def memento(base: str, url: str, v: VersionRow) -> str:
    return f"{base}/memento/{datetime.fromisoformat(v.first_seen).strftime('%Y%m%d%H%M%S')}/{url}"


def test_lookup_the_timegate_and_the_report_agree_on_the_version_in_force(history, web, clock):
    settings, url = history
    with Store.open(settings.data_dir) as store:
        found = lookup.find(store, "1")
        assert found is not None
        first, second, third = reversed(found.versions)
        dates = {
            T - timedelta(days=1): None,
            T + timedelta(hours=1): first,
            T + timedelta(days=3): second,
            T + timedelta(days=5): third,
        }
        for when, expected in dates.items():
            assert found.version_at(when) == expected
            assert version_in_force(store.checks("1"), store.versions("1"), when) == expected
        report = {e.citation.id: e for e in build_report(store, datetime.now(UTC)).entries}
        cited_2 = health_of(store, "2")
    server = make_server(settings.data_dir, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for when, expected in dates.items():
            # before the first memento, RFC 7089's TimeGate names the first
            assert timegate(base, url, when) == memento(base, url, expected or first)
        # the page goes back to its first text: that version is in force again, for every door
        clock.now = T + timedelta(days=6)
        web.page(url, article("Kursk", *LOREM))
        run_check(settings, clock=clock)
        later = T + timedelta(days=7)
        with Store.open(settings.data_dir) as store:
            found = lookup.find(store, "1")
            assert found is not None and found.version_at(later) == first and len(found.versions) == 3
        assert timegate(base, url, later) == memento(base, url, first)
    finally:
        server.shutdown()
        server.server_close()
    # the drift baseline: citation 1 against the first version, citation 2 against the one in force
    # on the day it was cited (the second), so its report diff starts from 16,000, not 15,000
    assert "15,000" in (report["1"].diff or "") and "17,000" in (report["1"].diff or "")
    assert "16,000" in (report["2"].diff or "") and "15,000" not in (report["2"].diff or "")
    assert cited_2["drift"]["kind"] == "fact_change"
