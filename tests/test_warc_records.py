"""WARC files a replay tool can trust: every hop of a redirect chain recorded, a warcinfo record first,
one exchange per version whatever kills the writer, nothing half-written after a full disk, and
`verify` reading every record the store points to."""

from __future__ import annotations

import base64
import json
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from conftest import SUBPROCESS_ENV, archiver_cmd, write_sources
from simweb import LOREM, article
from test_hostile import kill_mid_pass

from archiver import Store, run_check
from archiver.cli import cli
from archiver.models import Citation, FetchResult, Outcome

# pywb_bin: pywb from a virtual environment of its own (tests/replay_tools.py)
pytest_plugins = ["replay_tools"]

WARCIO = [sys.executable, "-m", "warcio.cli"]


def index(path: Path) -> list[dict[str, str]]:
    out = subprocess.run(
        [*WARCIO, "index", "-f", "warc-type,warc-target-uri,http:status,warc-filename,offset", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines()]


def warc_files(settings) -> list[Path]:
    return sorted((settings.data_dir / "warc").glob("*.warc.gz"))


def responses(settings) -> list[dict[str, str]]:
    return [r for f in warc_files(settings) for r in index(f) if r["warc-type"] == "response"]


@pytest.fixture
def moved(web, settings, clock):
    """Citation 1 cites /old, which redirects twice before the article."""
    final = web.page("/2026/story", article("Kursk deployment", *LOREM))
    web.redirect("/story", final, 302)
    old = web.redirect("/old", web.url("/story"), 301)
    write_sources(settings.sources, [{"id": "1", "url": old}])
    run_check(settings, clock=clock)
    return old, web.url("/story"), final


def test_every_hop_of_a_redirect_chain_is_recorded_after_a_warcinfo_naming_the_file(moved, settings):
    old, middle, final = moved
    (warc,) = warc_files(settings)
    records = index(warc)
    assert records[0]["warc-type"] == "warcinfo" and records[0]["warc-filename"] == warc.name
    assert [(r["warc-type"], r.get("warc-target-uri"), r.get("http:status")) for r in records[1:]] == [
        ("response", final, "200"),
        ("request", final, None),
        ("response", old, "301"),
        ("request", old, None),
        ("response", middle, "302"),
        ("request", middle, None),
    ]
    check = subprocess.run([*WARCIO, "check", "-v", str(warc)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    with Store.open(settings.data_dir) as store:
        (version,) = store.versions("1")
        pointer = version.warc
        assert pointer.offset == int(records[1]["offset"])  # the version points at its final response
        assert pointer.offset + pointer.length == warc.stat().st_size  # and its exchange holds every hop
        assert store.verify().ok


def test_the_export_holds_the_whole_chain_after_a_warcinfo_naming_the_real_file(moved, settings, tmp_path):
    old, _middle, final = moved
    target = tmp_path / "deposit-2026.warc.gz"
    result = CliRunner().invoke(
        cli, ["--data-dir", str(settings.data_dir), "--sources", str(settings.sources), "export", "--warc", str(target)]
    )
    assert result.exit_code == 0, result.output
    records = index(target)
    assert records[0]["warc-type"] == "warcinfo" and records[0]["warc-filename"] == "deposit-2026.warc.gz"
    assert [(r.get("warc-target-uri"), r.get("http:status")) for r in records if r["warc-type"] == "response"] == [
        (final, "200"),
        (old, "301"),
        (moved[1], "302"),
    ]


def test_pywb_replays_a_cited_url_that_redirected(moved, settings, tmp_path, pywb_bin):
    old, _middle, final = moved
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
        first = None
        for _ in range(100):
            try:
                first = httpx.get(f"http://127.0.0.1:{port}/cites/20260101120000id_/{old}", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert first is not None and first.status_code == 301, first
        replayed = httpx.get(f"http://127.0.0.1:{port}/cites/20260101120000id_/{old}", timeout=5, follow_redirects=True)
        assert replayed.status_code == 200 and str(replayed.url).endswith(final)
        with Store.open(settings.data_dir) as store:
            assert replayed.content == store.read_raw(store.versions("1")[0])
    finally:
        wayback.terminate()
        wayback.wait(10)


def noise(n: int, seed: int) -> str:
    """Text that does not compress, so the WARC file grows by what a page weighs."""
    words = base64.b32encode(os.urandom(n)).decode().lower()
    return " ".join(words[i : i + 7] for i in range(0, len(words), 7)) + f" {seed}"


def test_a_failed_warc_write_leaves_the_file_as_it_was_and_no_traceback(web, settings):
    pages = [web.page(f"/p{i}", article(f"Page {i}", *(noise(40_000, i) for _ in range(3)))) for i in range(3)]
    write_sources(settings.sources, [{"id": str(i), "url": u} for i, u in enumerate(pages)])
    run_check(settings)
    (warc,) = warc_files(settings)
    before = warc.read_bytes()
    big = web.page("/big", article("Big", *(noise(40_000, 9) for _ in range(4))))
    write_sources(settings.sources, [*({"id": str(i), "url": u} for i, u in enumerate(pages)), {"id": "9", "url": big}])
    limit = len(before) + 60_000  # the new page's raw and text files fit; its WARC record does not

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    for _ in range(2):  # a second run on the still-full disk fails as clearly (the lock included)
        proc = subprocess.run(
            archiver_cmd(settings, "check"),
            env=SUBPROCESS_ENV,
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=small_disk,
        )
        assert proc.returncode == 4 and "StoreError" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
        assert warc.read_bytes() == before  # truncated back to where it was: not half a record
    assert [r["warc-type"] for r in index(warc)].count("response") == 3
    result = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "verify"])
    assert result.exit_code == 0, result.output
    run_check(settings)  # space again: the next pass writes the record whole
    assert [r["warc-type"] for r in index(warc)].count("response") == 4


def test_a_record_written_by_a_run_killed_before_its_commit_is_not_written_twice(web, settings, clock):
    url = web.page("/a", article("A", *LOREM))
    write_sources(settings.sources, [{"id": "1", "url": url}])
    body = httpx.get(url).content
    with Store.open(settings.data_dir) as store:  # what a run killed between the WARC write and the commit left
        store.sync_citations([Citation("1", url)], clock())
        exchange = FetchResult(url, Outcome.OK, clock(), url, 200, (("Content-Type", "text/html"),), body)
        store.write_snapshot(body, "text", exchange=exchange)
    result = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "verify"])
    assert result.exit_code == 0 and "belong to no version" in result.output, result.output
    run_check(settings, clock=clock)
    with Store.open(settings.data_dir) as store:
        assert store.count("versions") == 1 and store.verify().ok
    assert [(r["warc-target-uri"], r["http:status"]) for r in responses(settings)] == [(url, "200")]


def test_after_kill_9_loops_every_version_has_exactly_one_record(web, settings):
    for _ in range(3):
        kill_mid_pass(settings, web, count=12)
    run_check(settings)
    with Store.open(settings.data_dir) as store:
        versions = store.count("versions")
        assert store.verify().ok
    assert versions == 12
    assert len([r for r in responses(settings) if r["http:status"] == "200"]) == versions


def test_verify_reads_every_record_and_names_a_damaged_one(web, settings):
    urls = [web.page(f"/a{i}", article(f"A {i}", *LOREM)) for i in range(2)]
    write_sources(settings.sources, [{"id": str(i), "url": u} for i, u in enumerate(urls, 1)])
    run_check(settings)
    (warc,) = warc_files(settings)
    with Store.open(settings.data_dir) as store:
        pointer = store.versions("2")[0].warc
    data = bytearray(warc.read_bytes())
    data[pointer.offset + pointer.length - 30] ^= 0xFF  # one byte inside its request record
    warc.write_bytes(bytes(data))
    result = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "verify"])
    assert result.exit_code == 6
    assert "problem: [2] version" in result.output and f"{pointer.file}:{pointer.offset}" in result.output
    warc.write_bytes(bytes(data[: pointer.offset + 10]))  # and a file cut in the middle of a record
    result = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "verify"])
    assert result.exit_code == 6 and "the file ends before the record does" in result.output


def test_a_store_written_before_exchanges_and_per_source_lookups_is_migrated(moved, settings):
    """A store of the previous release: look-ups in `capture_lookups`, a version's WARC length that of
    its response record alone. Opening it keeps the look-ups and gives every pointer its exchange."""
    with Store.open(settings.data_dir) as store:
        (version,) = store.versions("1")
        pointer = version.warc
        response_only = (
            next(int(r["offset"]) for r in index(settings.data_dir / pointer.file) if int(r["offset"]) > pointer.offset)
            - pointer.offset
        )
        db = store.db
        db.execute("CREATE TABLE capture_lookups (citation_id TEXT PRIMARY KEY, looked_at TEXT NOT NULL)")
        db.execute("INSERT INTO capture_lookups VALUES ('1', '2026-01-01T12:00:00+00:00')")
        db.execute("DROP TABLE lookups")
        db.execute("UPDATE versions SET warc_length = ?", [response_only])
        db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm005_archives'")
    with Store.open(settings.data_dir) as store:
        assert store.looked_up_at("1", "cdx") == "2026-01-01T12:00:00+00:00"
        assert store.versions("1")[0].warc == pointer  # the whole chain again, not the response alone
        assert store.verify().ok
