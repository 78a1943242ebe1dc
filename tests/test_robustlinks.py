"""The Robust Links reference list read by a real browser: every link carries a date of linking that a
browser parses (`data-versiondate`: the citation date, else the first stored version's, else the day
it joined the list), with or without a verified capture.

With the Robust Links JavaScript of the Memento project (github.com/mementoweb/robustlinks, served
at mementoweb.github.io/robustlinks; not published on npm or PyPI and its licence is not one that
lets us ship a copy), the menus it builds are checked too: set ROBUSTLINKS_JS to a copy of
robustlinks.js. Without it, that test is skipped, saying so.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CHROMIUM, chromium, write_sources
from fakewayback import FakeWayback
from simweb import LOREM, article

from archiver import run_check
from archiver.cli import cli

ROBUSTLINKS_JS = os.environ.get("ROBUSTLINKS_JS", "")
NO_NETWORK = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"

# Reads each robust link as the Robust Links JavaScript does (`new Date(data-versiondate)`, then the
# same with spaces made into T) and writes what it found into the page, for --dump-dom to show.
PROBE = """<script>
document.addEventListener('DOMContentLoaded', function () {
  var out = [];
  document.querySelectorAll('a[data-originalurl]').forEach(function (a) {
    var raw = a.getAttribute('data-versiondate') || '';
    var d = new Date(raw);
    if (isNaN(d)) { d = new Date(raw.replace(/ /g, 'T')); }
    out.push(a.closest('li').id + '=' + (isNaN(d) ? 'INVALID' : d.toISOString().slice(0, 10)));
  });
  var pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = out.join(' ');
  document.body.appendChild(pre);
});
</script>"""


@pytest.fixture
def reference_list(web, settings, tmp_path) -> str:
    """Four citations: cited and archived; cited, no copy; never cited, seen; never cited, never seen."""
    fake = FakeWayback()
    try:
        archived = web.page("/world/archived", article("Kursk", *LOREM))
        fake.archive(archived, "20250427093000", article("Kursk", *LOREM))
        write_sources(
            settings.sources,
            [
                {"id": "1", "url": archived, "cited_at": "2025-04-28"},
                {"id": "2", "url": web.page("/world/cited", article("Cited", *LOREM)), "cited_at": "2024-02-29"},
                {"id": "3", "url": web.page("/world/seen", article("Seen", *LOREM)), "cited_at": ""},
                {"id": "4", "url": web.url("/world/never"), "cited_at": ""},
            ],
        )
        base = fake.base.rstrip("/")
        run_check(
            settings.with_(
                wayback=True, wayback_url=base, archive_url=base, wayback_interval=0.0, wayback_poll_seconds=0.01
            )
        )
    finally:
        fake.close()
    result = CliRunner().invoke(
        cli,
        ["--data-dir", str(settings.data_dir), "--sources", str(settings.sources), "report", "--format", "robustlinks"],
    )
    assert result.exit_code == 0, result.output
    return result.output


def render(tmp_path: Path, fragment: str, script: str) -> str:
    page = tmp_path / "references.html"
    page.write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8">{script}</head><body>{fragment}</body></html>')
    proc = subprocess.run(
        chromium(tmp_path / "profile", NO_NETWORK, "--virtual-time-budget=3000", "--dump-dom", page.as_uri()),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_every_link_carries_a_date_of_linking(reference_list, settings):
    dates = dict(re.findall(r'id="ref-(\d)".*?data-versiondate="([^"]*)"', reference_list))
    today = __import__("datetime").date.today().isoformat()
    assert dates["1"] == "2025-04-28" and dates["2"] == "2024-02-29"  # the citation dates
    assert dates["3"] == today and dates["4"] == today  # first stored version; the day it joined the list
    assert 'data-versionurl="https://web.archive.org/web/20250427093000/' in reference_list.splitlines()[1]
    assert 'title="archived copy of 2025-04-27 (Wayback Machine)"' in reference_list


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian package `chromium`)")
def test_a_browser_reads_a_valid_date_on_every_link(reference_list, tmp_path):
    dom = render(tmp_path, reference_list, PROBE)
    probe = html.unescape(re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S).group(1)).split()
    assert len(probe) == 4 and not [p for p in probe if p.endswith("INVALID")], probe
    assert probe[:2] == ["ref-1=2025-04-28", "ref-2=2024-02-29"]


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian package `chromium`)")
@pytest.mark.skipif(
    not (ROBUSTLINKS_JS and Path(ROBUSTLINKS_JS).is_file()),
    reason="set ROBUSTLINKS_JS to a copy of the Memento project's robustlinks.js (not on npm or PyPI)",
)
def test_the_robust_links_javascript_shows_a_valid_date_for_every_link(reference_list, tmp_path):
    script = f'<script src="{Path(ROBUSTLINKS_JS).resolve().as_uri()}"></script>'
    dom = render(tmp_path, reference_list, script)
    menus = re.findall(r'<ul class="RLMenu"[^>]*>(.*?)</ul>', dom, re.S)
    assert len(menus) == 4, dom[-3000:]
    for menu in menus:
        items = [html.unescape(t) for t in re.findall(r'class="robustLinks RLItem"[^>]*>([^<]*)<', menu)]
        dated = [t for t in items if "archived" in t]
        assert dated and all(re.search(r"\d{4}-\d{2}-\d{2}$", t) for t in dated), items
        assert not any("Inva" in t for t in items), items
