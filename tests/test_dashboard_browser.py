"""The editor's desk in a real browser (Playwright driving Debian's Chromium, which makes no
connection of its own): index → citation → login → a decision, shown; the contrast of every status
badge measured in the page. The screenshots taken are kept as artefacts, in
$ARCHIVER_TEST_SCREENSHOTS (default: a directory under pytest's tmp dir), and the path is printed."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from conftest import CHROMIUM, write_sources
from simweb import LOREM, article

from archiver import run_check
from archiver.serve import Editing, make_server
from archiver.serve.auth import hash_password

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian package `chromium`)")

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
PASSWORD = "correct horse battery staple"

# WCAG 2.1 relative luminance and contrast ratio of an element's text against its background
CONTRAST_JS = """
els => els.map(el => {
  const rgb = s => s.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
  const lum = c => { const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                     return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const style = getComputedStyle(el);
  const a = lum(rgb(style.color)), b = lum(rgb(style.backgroundColor));
  return [el.textContent.trim(), (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
})
"""


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    where = Path(os.environ.get("ARCHIVER_TEST_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    where.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots kept in {where}")
    return where


@pytest.fixture
def desk(web, settings, clock):
    story = web.page("/world/story", article("Kursk deployment", *LOREM))
    write_sources(
        settings.sources,
        [
            {"article": "river-heat", "id": "1", "url": story, "claim": "Selon Séoul, 15 000 soldats ont été envoyés."},
            {"article": "river-heat", "id": "2", "url": web.url("/world/gone"), "claim": "The ministry said so."},
        ],
    )
    for _ in range(3):
        run_check(settings, clock=clock)
        clock.advance(days=1)
    web.page(story, article("Kursk deployment", LOREM[0].replace("about 15,000", "thousands of"), *LOREM[1:]))
    run_check(settings, clock=clock)
    server = make_server(settings.data_dir, "127.0.0.1", 0, editing=Editing(settings, hash_password(PASSWORD)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, chromium_sandbox=False)
        yield launched
        launched.close()


def test_an_editor_clicks_from_the_index_to_a_citation_logs_in_and_decides(desk, browser, shots):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(desk + "/")
    page.screenshot(path=str(shots / "dashboard.png"), full_page=True)
    page.click("text=river-heat:1")
    assert page.url.endswith("/citations/river-heat:1")
    assert page.locator("h1 .status").inner_text() == "Drifted"
    page.click("text=Log in to review")
    page.fill("input[name=name]", "Alice Editor")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.click("text=river-heat:1")
    page.fill("input[name=note]", "the figure was corrected; the claim holds")
    page.click("text=Accept this version")
    assert "accepted by Alice Editor" in page.locator(".review").inner_text()
    assert page.locator("h1 .status").inner_text() == "OK"
    page.screenshot(path=str(shots / "citation-after-review.png"), full_page=True)
    page.screenshot(path=str(shots / "citation-page.png"), clip={"x": 0, "y": 0, "width": 1200, "height": 900})
    timeline = page.locator("svg.timeline").bounding_box()
    assert timeline is not None and timeline["width"] >= 240  # wide enough to read
    claim = page.locator("p.claim").bounding_box()
    assert claim is not None and claim["width"] >= 280  # the claim gets room, not a sliver


def test_every_status_badge_shown_meets_wcag_aa_contrast(desk, browser, shots):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    for path in ("/", "/citations/river-heat:2", "/report"):
        page.goto(desk + path)
        measured = page.eval_on_selector_all(".status, .summary span", CONTRAST_JS)
        assert measured, path
        for label, ratio in measured:
            assert ratio >= 4.5, f"{path}: {label} has contrast {ratio:.2f}:1"
    page.goto(desk + "/citations/river-heat:2")
    page.screenshot(path=str(shots / "citation-rotten.png"), full_page=True)
    assert shutil.disk_usage(shots).free > 0 and (shots / "citation-rotten.png").stat().st_size > 5_000
