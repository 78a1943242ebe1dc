"""The measuring instrument measures what it says: run with `python -m pytest benchmarks -q`.

(Outside the default test paths: these start servers and read the shared corpus, and they guard the
benchmark, not the service.)
"""

from __future__ import annotations

import multiprocessing
import os
import random
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from calibrate import find_edit, text_of  # noqa: E402
from proctree import TreeSampler  # noqa: E402
from realweb import DEFAULT_CORPUS, Edit, RealWeb, Template, WebSpec, load_corpus, read_body  # noqa: E402

needs_corpus = pytest.mark.skipif(
    not (DEFAULT_CORPUS / "labels.csv").is_file(), reason=f"the shared corpus is absent ({DEFAULT_CORPUS})"
)


def _page(name: str) -> bytes:
    (page,) = [p for p in load_corpus(DEFAULT_CORPUS) if p.file == name]
    return read_body(DEFAULT_CORPUS, page)


@needs_corpus
def test_every_answer_differs_but_its_extracted_text_does_not():
    template = Template.of(_page("guardian_2.html"), None)
    rng = random.Random(1)
    first, second = template.render(rng, 1_700_000_000.0), template.render(rng, 1_700_003_661.0)
    assert first != second
    assert text_of(first) == text_of(second) and len(text_of(first).split()) > 1000


@needs_corpus
def test_an_edit_changes_one_paragraph_of_the_extracted_text():
    body = _page("lemonde_1.html")
    text = text_of(body)
    edit = find_edit(body, text)
    assert edit is not None
    edited = text_of(body.replace(edit.old, edit.new))
    before, after = text.split("\n"), edited.split("\n")
    assert len(before) == len(after)
    assert sum(a != b for a, b in zip(before, after, strict=True)) == 1


def _get(port: int, host: str, n: int, out: list[bytes]) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(f"GET /news/2025/story-{n} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(1 << 16):
            data += chunk
    out.append(data)


@needs_corpus
def test_the_server_counts_requests_in_flight_per_origin():
    web = RealWeb(WebSpec(DEFAULT_CORPUS, 84, 2, 0.5, {}, frozenset(), frozenset()))
    try:
        out: list[bytes] = []
        host0, host1 = f"host0.bench:{web.port}", f"host1.bench:{web.port}"
        threads = [threading.Thread(target=_get, args=(web.port, host0, n, out)) for n in (0, 2, 4)]
        threads.append(threading.Thread(target=_get, args=(web.port, host1, 1, out)))
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        stats = web.stats()
        assert stats["max_in_flight_per_origin"] == {f"http://{host0}": 3, f"http://{host1}": 1}
        assert stats["max_in_flight_total"] == 4 and len(out) == 4
        assert all(b.startswith(b"HTTP/1.1 ") for b in out)
        assert web.reset()["requests"] == 4 and web.stats()["requests"] == 0
    finally:
        web.close()


@needs_corpus
def test_only_the_chosen_urls_change_from_generation_one():
    pages = load_corpus(DEFAULT_CORPUS)
    i = next(k for k, p in enumerate(pages) if p.file == "lemonde_1.html")
    body = read_body(DEFAULT_CORPUS, pages[i])
    edit = find_edit(body, text_of(body))
    assert edit is not None
    n_changed, n_same = i, i + len(pages)  # two URLs serving the same page
    web = RealWeb(
        WebSpec(DEFAULT_CORPUS, 2 * len(pages), 1, 0.0, {pages[i].file: edit}, frozenset(), frozenset({n_changed}))
    )
    try:

        def fetch(n: int) -> bytes:
            out: list[bytes] = []
            _get(web.port, f"host0.bench:{web.port}", n, out)
            return out[0].split(b"\r\n\r\n", 1)[1]

        assert edit.new not in fetch(n_changed)
        web.set_generation(1)
        assert edit.new in fetch(n_changed) and edit.new not in fetch(n_same)
        assert text_of(fetch(n_same)) == text_of(fetch(n_same))
    finally:
        web.close()


def test_a_missing_corpus_is_named_not_a_traceback(tmp_path, capsys):
    import real

    assert real.main(["--corpus", str(tmp_path / "nowhere"), "--pages", "10"]) == real.EXIT_NO_CORPUS
    err = capsys.readouterr().err
    assert "corpus is absent" in err and str(tmp_path / "nowhere") in err


def _hold(mib: int, ready, done) -> None:  # type: ignore[no-untyped-def]
    block = bytearray(mib * 1024 * 1024)
    for k in range(0, len(block), 4096):
        block[k] = 1
    ready.set()
    done.wait(30)


def test_the_sampler_reads_a_worker_s_own_peak_not_its_parent_s():
    ctx = multiprocessing.get_context("spawn")
    ready, done = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_hold, args=(120, ready, done))
    child.start()
    sampler = TreeSampler(child.pid, interval=0.05)
    try:
        assert ready.wait(30)
        time.sleep(0.3)
    finally:
        done.set()
        peaks = sampler.stop()
        child.join(10)
    assert peaks.root_hwm >= 120  # the child is the sampled root here
    assert peaks.tree_rss >= 120 and peaks.processes >= 1


def test_py_spy_samples_are_sorted_into_the_steps_they_belong_to():
    from profile_real import WAIT, bucket, markers

    rules = markers()
    fetch = ["_run_once (asyncio/base_events.py:1900)", "fetch (archiver/fetch/client.py:250)", "send (httpx/_client.py:1600)",
             "read (asyncio/streams.py:700)"]  # fmt: skip
    assert bucket(fetch, rules) == "fetch (httpx, our fetcher)"
    extract = ["analyse (archiver/analysis.py:40)", "extract (archiver/extract.py:250)",
               "bare_extraction (trafilatura/core.py:300)", "tree_cleaning (trafilatura/htmlprocessing.py:80)"]  # fmt: skip
    assert bucket(extract, rules) == "trafilatura (on the parsed tree)"
    loop = [
        "_run_once (asyncio/base_events.py:1900)",
        "_SelectorSocketTransport.write (asyncio/selector_events.py:1057)",
    ]
    assert bucket(loop, rules) == "event loop"
    idle_loop = ["_run_once (asyncio/base_events.py:1900)", "EpollSelector.select (selectors.py:468)"]
    assert bucket(idle_loop, rules) == WAIT
    scan = [
        "analyse (archiver/analysis.py:41)",
        "detect_paywall (archiver/detect/paywall.py:120)",
        "vendor_scripts (archiver/detect/paywall.py:140)",
    ]
    assert bucket(scan, rules) == "paywall vendor scan"
    assert bucket(["mystery (elsewhere.py:1)"], rules) == "other"


def test_py_spy_stacks_of_workers_are_told_from_the_main_process(tmp_path):
    from profile_real import read_raw

    raw = tmp_path / "raw.txt"
    raw.write_text(
        'process 10:"python -c spawn";fetch (archiver/fetch/client.py:250) 7\n'
        'process 10:"python -c spawn";process 11:"python -c spawn";bare_extraction (trafilatura/core.py:300) 5\n'
    )
    samples = read_raw(raw)
    assert samples["main"] == {"fetch (httpx, our fetcher)": 7}
    assert samples["workers"] == {"trafilatura (on the parsed tree)": 5}


def test_templates_keep_every_byte_of_the_page():
    body = b"<html><head><title>t</title></head><body><p>one two three</p><p>four five six</p></body></html>"
    template = Template.of(body, Edit(b"four five", b"four five"))
    assert b"".join(template.parts) == body and len(template.parts) == 4
    rendered = template.render(random.Random(0), 0.0)
    assert rendered.count(b"one two three") == 1 and rendered.endswith(b"</body></html>")


def test_versions_other_than_the_real_changes_are_a_failure_named_by_page():
    import real
    from realweb import CorpusPage

    pages = [CorpusPage("a.html", "free_article", "no", 200), CorpusPage("b.html", "free_article", "no", 200)]
    first, right = {"new_version_ids": [0, 1, 2, 3]}, {"new_version_ids": [1]}
    assert real.check_versions(first, right, {0, 1, 2, 3}, frozenset({1}), pages, 2) == []
    wrong = {"new_version_ids": [1, 2]}  # URL 2 serves a.html, which did not change
    (problem,) = real.check_versions(first, wrong, {0, 1, 2, 3}, frozenset({1}), pages, 2)
    assert "stored 2 versions, expected exactly the 1 really changed" in problem and "a.html ×1" in problem


def test_a_missed_target_is_named_and_makes_the_benchmark_fail():
    import real

    fast = [{"cpu_ms_per_page": 39.0}, {"cpu_ms_per_page": 15.0}]
    assert real.cpu_targets(fast, 32.0)["targets_missed"] == []
    slow = real.cpu_targets([{"cpu_ms_per_page": 80.0}, {"cpu_ms_per_page": 70.0}], 32.0)
    assert slow["first_over_floor_cpu"] == 2.5 and slow["targets_missed"] == [
        "first_over_floor_cpu 2.50 > 1.3",
        "recheck_over_first_cpu 0.88 > 0.5",
    ]


@needs_corpus
def test_the_skeleton_counts_the_workers_cpu_and_trafilatura_is_most_of_it(tmp_path):
    """The workers' CPU is read once the fork server has reaped them: read while they lived, the
    skeleton showed 0.1x trafilatura alone, as if extraction cost nothing."""
    import json

    import skeleton

    out = tmp_path / "skeleton.json"
    assert skeleton.main(["--pages", "84", "--mode", "pool", "--mode", "messages", "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    run, messages = results["runs"]
    assert run["mode"] == "pool" and run["pages"] == 76  # of the 84 URLs (each corpus page twice), those answering 200
    # the workers' own CPU, the fork server's warm-up (2 s: 26 ms a page here) left out
    extracting_ms = run["cpu_workers_ms_per_page"] - run["cpu_warm_up_s"] * 1000 / run["pages"]
    assert extracting_ms > 0.8 * results["trafilatura_ms_per_extracted_page"]
    assert 0.8 < run["over_trafilatura"] < 4
    # the pool's messages alone: the same bodies cross, nothing is extracted
    assert messages["mode"] == "messages" and messages["pages"] == 76
    crossing_ms = messages["cpu_workers_ms_per_page"] - messages["cpu_warm_up_s"] * 1000 / messages["pages"]
    assert 0 < crossing_ms < 0.5 * extracting_ms and messages["cpu_main_ms_per_page"] > 0
    # trafilatura timed on every core at once, one figure a core, each of the floor's order
    every = results["trafilatura_every_core_ms_per_extracted_page"]
    assert len(every) == os.cpu_count()
    assert all(0.7 < ms / results["trafilatura_after_ms_per_extracted_page"] < 3 for ms in every)


def test_the_first_pass_is_weighed_against_the_skeleton_per_url():
    import real

    first, skeleton = {"cpu_ms_per_page": 33.0}, {"cpu_ms_per_page": 25.0}
    ratios = real.skeleton_ratios(first, skeleton, 20.0)
    assert ratios == {"skeleton_over_floor_cpu": 1.25, "first_over_skeleton_cpu": 1.32}


@needs_corpus
def test_a_run_with_the_skeleton_measures_it_over_the_same_urls(tmp_path):
    """`--skeleton` runs fetch + pool over the URLs the passes checked, in the same run: the service,
    which stores and judges besides, costs more a URL than the skeleton, which costs more than
    trafilatura alone (it fetches and crosses the pool too)."""
    import json

    import real

    out = tmp_path / "real.json"
    assert real.main(["--pages", "84", "--skeleton", "--json", str(out)]) in (0, real.EXIT_OVER_TARGET)
    results = json.loads(out.read_text())
    skeleton = results["skeleton"]
    assert skeleton["mode"] == "fetch+pool" and skeleton["pages"] == 84
    assert results["first_over_skeleton_cpu"] > 1
    assert results["skeleton_over_floor_cpu"] > 0.8
    product = results["first_over_skeleton_cpu"] * results["skeleton_over_floor_cpu"]
    assert results["first_over_floor_cpu"] == pytest.approx(product)


def test_a_child_that_dies_or_stays_silent_is_named_not_waited_for():
    from proctree import received

    ctx = multiprocessing.get_context("spawn")
    mine, theirs = ctx.Pipe()
    silent = ctx.Process(target=time.sleep, args=(60,))
    silent.start()
    with pytest.raises(RuntimeError, match="the service's process sent nothing in 1s"):
        received(mine, silent, 1, "the service's process")
    silent.join(10)
    assert not silent.is_alive()  # terminated, not left behind
    theirs.send("start")
    assert received(mine, silent, 1, "the service's process") == "start"  # a message waiting is read
    dead = ctx.Process(target=os._exit, args=(3,))
    dead.start()
    with pytest.raises(RuntimeError, match=r"the skeleton's process \(pool\) died \(exit status 3\)"):
        received(mine, dead, 60, "the skeleton's process (pool)")  # our end open: seen as not alive
    theirs.close()  # the child's end gone, as when a child holding it dies: the pipe reads EOF
    with pytest.raises(RuntimeError, match=r"the skeleton's process \(pool\) died \(exit status 3\)"):
        received(mine, dead, 60, "the skeleton's process (pool)")
