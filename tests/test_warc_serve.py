"""WARC captures any web-archive tool can read, an export for deposit, and `archiver serve` with a
Memento TimeGate and TimeMap (RFC 7089), exercised over real sockets on 127.0.0.1."""

from __future__ import annotations

import html
import json
import socket
import subprocess
import sys
import threading
import time
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from conftest import CHROMIUM, chromium, write_sources
from simweb import LOREM, article

from archiver import Store, run_check
from archiver.cli import cli
from archiver.serve import make_server

# pywb_bin: pywb from a virtual environment of its own (tests/replay_tools.py)
pytest_plugins = ["replay_tools"]

WARCIO = [sys.executable, "-m", "warcio.cli"]
HOSTILE = '<script>alert("x")</script><b>Kursk</b>'


@pytest.fixture
def store_with_versions(web, settings, clock):
    """Citation 1 with two versions a day apart; citation 2 with one, whose title is hostile."""
    url = web.page("/world/story", article("Kursk deployment", *LOREM))
    other = web.page("/world/other", article(html.escape(HOSTILE), *reversed(LOREM)))
    write_sources(settings.sources, [{"id": "1", "url": url}, {"id": "2", "url": other}])
    run_check(settings, clock=clock)
    clock.advance(days=1)
    web.page(url, article("Kursk deployment", *LOREM[:3], "Correction: an earlier version misstated a figure."))
    run_check(settings, clock=clock)
    return settings, url, other


def cli_run(settings, *args):
    return CliRunner().invoke(
        cli,
        ["--data-dir", str(settings.data_dir), "--sources", str(settings.sources), *args],
        env={"ARCHIVER_WAYBACK": "0"},
    )


def warc_files(settings) -> list[Path]:
    return sorted((settings.data_dir / "warc").glob("*.warc.gz"))


def test_new_versions_are_valid_warc_records_and_unchanged_checks_add_nothing(store_with_versions, web):
    settings, url, _ = store_with_versions
    files = warc_files(settings)
    assert [f.name for f in files] == ["2026-01-01.warc.gz", "2026-01-02.warc.gz"]  # rolled by day
    index = {}
    for warc in files:
        check = subprocess.run([*WARCIO, "check", "-v", str(warc)], capture_output=True, text=True, timeout=60)
        assert check.returncode == 0 and "digest pass" in check.stdout, check.stdout + check.stderr
        index[warc.name] = [
            json.loads(line)
            for line in subprocess.run(
                [*WARCIO, "index", str(warc)], capture_output=True, text=True, timeout=60, check=True
            ).stdout.splitlines()
        ]
    assert [r["warc-type"] for r in index["2026-01-01.warc.gz"]] == ["warcinfo"] + ["response", "request"] * 2
    assert [r["warc-type"] for r in index["2026-01-02.warc.gz"]] == ["warcinfo", "response", "request"]
    with Store.open(settings.data_dir) as store:
        for v in store.versions("1"):
            pointer = v.warc
            listed = index[Path(pointer.file).name]
            assert any(int(r["offset"]) == pointer.offset and r["warc-type"] == "response" for r in listed)
    sizes = [f.stat().st_size for f in files]
    run_check(settings)
    assert [f.stat().st_size for f in warc_files(settings)] == sizes  # unchanged pages: no record


def test_lookup_raw_replays_the_exact_response(store_with_versions, web):
    settings, url, _ = store_with_versions
    served = httpx.get(url).content
    raw = cli_run(settings, "lookup", "1", "--raw").stdout_bytes
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and b"Content-Type: text/html; charset=utf-8" in head
    assert body == served


def test_lookup_raw_of_a_damaged_record_names_it_without_a_traceback(store_with_versions):
    settings, _, _ = store_with_versions
    with Store.open(settings.data_dir) as store:
        pointer = store.versions("1")[-1].warc
    path = settings.data_dir / pointer.file
    data = bytearray(path.read_bytes())
    data[pointer.offset + 10 : pointer.offset + 200] = b"\xff" * 190
    path.write_bytes(bytes(data))
    result = cli_run(settings, "lookup", "1", "--raw")
    assert result.exit_code == 4, result.output  # StoreError's status
    assert f"the WARC record at offset {pointer.offset} of {path} cannot be read" in result.output
    assert "Traceback" not in result.output


def test_export_writes_one_self_contained_warc_of_the_chosen_citations(store_with_versions, tmp_path):
    settings, url, other = store_with_versions
    target = tmp_path / "deposit.warc.gz"
    result = cli_run(settings, "export", "--warc", str(target), "--only", "1")
    assert result.exit_code == 0, result.output
    assert "2 version(s) of 1 citation(s)" in result.output
    assert subprocess.run([*WARCIO, "check", str(target)], capture_output=True, timeout=60).returncode == 0
    index = [
        json.loads(line)
        for line in subprocess.run(
            [*WARCIO, "index", "-f", "warc-type,warc-target-uri", str(target)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    ]
    assert [r["warc-type"] for r in index] == ["warcinfo", "response", "request", "response", "request"]
    assert {r.get("warc-target-uri") for r in index[1:]} == {url}
    assert "no citation with id 9" in cli_run(settings, "export", "--warc", str(target), "--only", "9").output


def test_pywb_replays_a_page_from_our_warc(store_with_versions, tmp_path, pywb_bin):
    settings, url, _ = store_with_versions
    subprocess.run([str(pywb_bin / "wb-manager"), "init", "cites"], cwd=tmp_path, check=True, capture_output=True)
    subprocess.run(
        [str(pywb_bin / "wb-manager"), "add", "cites", *map(str, warc_files(settings))],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    wayback = subprocess.Popen(
        [str(pywb_bin / "wayback"), "--bind", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        replayed = None
        for _ in range(100):
            try:
                replayed = httpx.get(f"http://127.0.0.1:{port}/cites/20260101120000id_/{url}", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert replayed is not None and replayed.status_code == 200
        with Store.open(settings.data_dir) as store:
            assert replayed.content == store.read_raw(store.versions("1")[0])
    finally:
        wayback.terminate()
        wayback.wait(10)


@pytest.fixture
def server(store_with_versions):
    settings, url, other = store_with_versions
    srv = make_server(settings.data_dir, "127.0.0.1", 0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    yield base, settings, url, other
    srv.shutdown()
    srv.server_close()


def mementos(settings, cid="1"):
    with Store.open(settings.data_dir) as store:
        return store.versions(cid)


def test_timemap_lists_every_version_in_link_format(server):
    base, settings, url, _ = server
    first, second = mementos(settings)
    response = httpx.get(f"{base}/timemap/link/{url}")
    assert response.status_code == 200 and response.headers["content-type"] == "application/link-format"
    lines = response.text.strip().split(",\n")
    stamp1 = first.first_seen[:19].replace("-", "").replace("T", "").replace(":", "")
    stamp2 = second.first_seen[:19].replace("-", "").replace("T", "").replace(":", "")
    assert lines[0] == f'<{url}>; rel="original"'
    assert lines[1] == f'<{base}/timegate/{url}>; rel="timegate"'
    assert lines[2].startswith(f'<{base}/timemap/link/{url}>; rel="self"; type="application/link-format"; from="')
    assert lines[3] == f'<{base}/memento/{stamp1}/{url}>; rel="first memento"; datetime="Thu, 01 Jan 2026 12:00:00 GMT"'
    assert lines[4] == f'<{base}/memento/{stamp2}/{url}>; rel="last memento"; datetime="Fri, 02 Jan 2026 12:00:00 GMT"'


def test_timegate_honours_accept_datetime_and_says_vary(server):
    base, settings, url, _ = server
    first, second = mementos(settings)
    cases = [
        ("Thu, 01 Jan 2026 18:00:00 GMT", "20260101120000"),
        ("Sat, 03 Jan 2026 00:00:00 GMT", "20260102120000"),
        ("Mon, 01 Jan 2024 00:00:00 GMT", "20260101120000"),
        (None, "20260102120000"),
    ]
    for accept, stamp in cases:
        headers = {"Accept-Datetime": accept} if accept else {}
        response = httpx.get(f"{base}/timegate/{url}", headers=headers, follow_redirects=False)
        assert response.status_code == 302
        assert response.headers["location"] == f"{base}/memento/{stamp}/{url}"
        assert response.headers["vary"] == "accept-datetime"
        assert f'<{url}>; rel="original"' in response.headers["link"]
        assert f'<{base}/timemap/link/{url}>; rel="timemap"; type="application/link-format"' in response.headers["link"]
    bad = httpx.get(f"{base}/timegate/{url}", headers={"Accept-Datetime": "last tuesday"})
    assert bad.status_code == 400
    assert httpx.get(f"{base}/timegate/https://unknown.example/").status_code == 404


def test_a_memento_is_replayed_byte_for_byte_and_sandboxed(server, web):
    base, settings, url, _ = server
    first, _second = mementos(settings)
    with Store.open(settings.data_dir) as store:
        stored = store.read_raw(first)
    response = httpx.get(f"{base}/memento/20260101120000/{url}")
    assert response.status_code == 200 and response.content == stored
    assert response.headers["memento-datetime"] == format_datetime(
        __import__("datetime").datetime(2026, 1, 1, 12, tzinfo=__import__("datetime").UTC), usegmt=True
    )
    assert f'<{url}>; rel="original"' in response.headers["link"]
    assert "sandbox" in response.headers["content-security-policy"]
    assert httpx.get(f"{base}/memento/20250101000000/{url}").status_code == 404


def test_pages_and_api_escape_what_came_from_a_page(server):
    base, settings, url, other = server
    page = httpx.get(f"{base}/citations/2").text
    assert "<script>alert" not in page and html.escape(HOSTILE) in page
    assert httpx.get(f"{base}/citations/2").headers["content-security-policy"].startswith("default-src 'none'")
    home = httpx.get(f"{base}/").text
    assert "<script>alert" not in home and "Citation health report" in home
    report = httpx.get(f"{base}/api/report").json()
    assert [c["id"] for c in report["citations"]] == ["1", "2"]
    one = httpx.get(f"{base}/api/citations/1").json()
    assert len(one["versions_list"]) == 2 and one["versions_list"][0]["memento"].startswith(f"{base}/memento/")
    assert httpx.get(f"{base}/api/citations/9").status_code == 404
    assert httpx.get(f"{base}/../../etc/passwd").status_code == 404


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian package `chromium`)")
def test_citation_page_renders_in_a_browser(server, tmp_path):
    base, settings, url, _ = server
    shot = tmp_path / "citation.png"
    subprocess.run(
        chromium(tmp_path / "profile", f"--screenshot={shot}", "--window-size=1100,1200", f"{base}/citations/1"),
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.exists() and shot.stat().st_size > 10_000
