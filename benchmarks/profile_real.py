"""Where each millisecond of a real page goes, two ways.

    python benchmarks/profile_real.py stages          # each step timed alone on the corpus, one core
    python benchmarks/profile_real.py spy             # py-spy on a real-page pass (benchmarks/real.py)
    python benchmarks/profile_real.py respy --reuse F # sort the kept samples of that run again

`stages` runs, in this process, what a check does to each corpus page (as served: fresh boilerplate,
weighted by how often the benchmark's URLs serve it) one step at a time, and times each with the
process CPU clock, median of `--repeats`: decode, lxml parse, trafilatura, the page facts, the
paywall detector (its vendor-script scan apart), the rot verdict, link-line detection, the main-text
region, the WARC exchange's one compression, pickling to a worker and back, hashing, the text file
and WARC append, the check row, the re-check fast path (an article again with new boilerplate), and drift (for a changed page only). No network, no workers: the cost of each step.

`spy` runs the benchmark's first and re-check passes under py-spy (`--subprocesses --nonblocking`,
CPU samples only) and sorts every sample of the main process and of the extraction workers into
the same steps by the deepest frame that names one, plus what only a real pass has: the fetch, the
event loop, the process pool's messages, worker start-up, the health update. Samples become ms per
page (samples / rate / pages). The workers' busy share is their CPU over workers × wall time.
py-spy is itself a process on the same cores: its overhead is in the load it reports.

Both write benchmarks/results-real-profile-*.json and print a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import pickle
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import random  # noqa: E402

from calibrate import calibrate  # noqa: E402
from proctree import loadavg  # noqa: E402
from realweb import DEFAULT_CORPUS, RealWeb, Template, WebSpec, content_type_of, load_corpus, page_of, read_body  # noqa: E402

import archiver.detect.paywall as paywall_module  # noqa: E402
from archiver.analysis import Analysis, analyse, boilerplate_of  # noqa: E402
from archiver.config import Settings  # noqa: E402
from archiver.detect.body import link_lines  # noqa: E402
from archiver.detect.drift import Snapshot, compare  # noqa: E402
from archiver.detect.page import Page  # noqa: E402
from archiver.detect.paywall import PaywallKind, detect_paywall  # noqa: E402
from archiver.detect.rot import classify, worth_probing  # noqa: E402
from archiver.extract import decode, extract, html_tree  # noqa: E402
from archiver.models import Citation, FetchResult, Outcome  # noqa: E402
from archiver.region import holds, locate  # noqa: E402
from archiver.store import Store, content_hash  # noqa: E402
from archiver.store.warc_format import pack_exchange  # noqa: E402

UA = "citation-archiver/bench"
RAW_DIR = Path(tempfile.gettempdir()) / "archiver-pyspy"  # py-spy's raw stacks, kept for `respy`


def fetched_of(body: bytes, status: int, n: int = 0) -> FetchResult:
    url = f"http://host{n % 10}.bench:8000/news/2025/story-{n}"
    return FetchResult(
        url=url,
        outcome=Outcome.OK if status == 200 else Outcome.HTTP_ERROR,
        started_at=datetime.now(UTC),
        final_url=url,
        status=status,
        headers=(("Content-Type", content_type_of(body)), ("Content-Length", str(len(body)))),
        body=body,
        request_headers=(("User-Agent", UA), ("Accept", "text/html")),
        error="" if status == 200 else f"HTTP {status}",
    )


class Clock:
    """CPU milliseconds per named step, summed over one page."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = defaultdict(float)

    @contextlib.contextmanager
    def __call__(self, step: str) -> Iterator[None]:
        t0 = time.process_time_ns()
        yield
        self.ms[step] += (time.process_time_ns() - t0) / 1e6


def _vendor_scan(html: str) -> list[str]:
    # what detect_paywall runs on a page it judged paywalled
    return paywall_module.vendor_scripts(html)


def one_page(
    body: bytes, status: int, store: Store, n: int, edited: bytes | None, quiet: bool = False
) -> dict[str, float]:
    """Every step of one check of one page, timed."""
    clock = Clock()
    fetched = fetched_of(body, status, n)
    ct = fetched.header("content-type")
    with clock("pickling to a worker and back"):
        sent = pickle.loads(pickle.dumps((analyse, (fetched, []), {}), pickle.HIGHEST_PROTOCOL))
    assert sent[1][0].body == body
    if status != 200:
        with clock("error page: decode, parse, verdict"):
            analyse(fetched, [])
        with clock("store: check row"):
            store.record_check(Citation(str(n), fetched.url), fetched, None, fetched.started_at, 1)
        return clock.ms
    with clock("decode"):
        html = decode(body, ct)
    with clock("lxml parse (html_tree)"):
        tree = html_tree(html)
    with clock("page facts (Page.from_tree)"):
        page = Page.from_tree(tree, html)
    with clock("trafilatura (on the parsed tree)"):
        extraction = extract(body, fetched.final_url, ct, (html, tree))
    with clock("paywall detector"):
        verdict = detect_paywall(page, html, 200, extraction.words, [])
    if verdict.kind != PaywallKind.NONE:
        with clock("paywall vendor scan"):
            _vendor_scan(html)
        clock.ms["paywall detector"] -= clock.ms["paywall vendor scan"]
    with clock("rot verdict"):
        signal_ = classify(fetched.outcome, 200, fetched.url, fetched.final_url, (), page, extraction.text)
        worth_probing(signal_, extraction.text, page.article_evidence, verdict.paywalled, redirected=False)
    with clock("link-line detection"):
        plate = link_lines(extraction.text, page.link_texts())
    with clock("main-text region (locate, after a full extraction)"):
        located = locate(tree, extraction.text) if extraction.text else None
    with clock("WARC exchange compressed once (pack_exchange, in the worker)"):
        packed = pack_exchange(fetched, UA)
    analysis = Analysis(extraction, signal_, verdict, False, plate, packed, located.encode() if located else "")
    with clock("pickling to a worker and back"):
        pickle.loads(pickle.dumps(analysis, pickle.HIGHEST_PROTOCOL))
    with clock("hashing (sha256 of body and text)"):
        hashlib.sha256(body).hexdigest()  # the "same bytes as the version we hold" test
        version = content_hash(extraction, body)
        hashlib.sha256(body).hexdigest()  # write_snapshot's raw hash
        hashlib.sha256(extraction.text.encode()).hexdigest()  # and the text file
    with clock("store: text file and WARC append (write, fsync, rename)"):
        files = store.write_snapshot(body, extraction.text, fetched, UA, packed)
    if located is not None:  # what a re-check of the same article with new boilerplate costs instead
        again = Template.of(body, None).render(random.Random(n), time.time(), not quiet)
        with clock("re-check fast path: decode, parse, region holds"):
            held_html = decode(again, ct)
            holds(html_tree(held_html), located)  # False sends the page to full extraction
    with clock("store: check row"):
        store.record_check(
            Citation(str(n), fetched.url), fetched, extraction, fetched.started_at, 1, 0, None, None, files
        )
    assert version
    if edited is not None:  # what a changed page costs on top, in a re-check pass
        new = extract(edited, fetched.final_url, ct)
        with clock("drift (changed page only): re-read the stored page"):
            old_plate = boilerplate_of(body, ct, extraction.text)
        with clock("drift (changed page only): compare"):
            compare(Snapshot(extraction.text, boilerplate=old_plate), Snapshot(new.text, boilerplate=plate))
    return clock.ms


def stages(args: argparse.Namespace) -> dict[str, Any]:
    pages = load_corpus(args.corpus)
    cal = calibrate(args.corpus, pages, repeats=1)
    facts = {f.page.file: f for f in cal.pages}
    weights = Counter(page_of(n, len(pages)) for n in range(args.pages))
    changed_share = args.changed
    work = Path(tempfile.mkdtemp(prefix="archiver-stages-"))
    rng = random.Random(3)
    per_page: dict[str, dict[str, float]] = {}
    load0 = loadavg()
    try:
        with Store.open(work / "store") as store:
            store.sync_citations([Citation(str(i), f"http://x/{i}") for i in range(len(pages))], datetime.now(UTC))
            store.begin_pass(datetime.now(UTC), len(pages))
            for i, page in enumerate(pages):
                f = facts[page.file]
                body = read_body(args.corpus, page)
                served = Template.of(body, None).render(rng, time.time(), not f.quiet)
                edited = body.replace(f.edit.old, f.edit.new) if f.edit else None
                runs = [one_page(served, page.status, store, i, edited, f.quiet) for _ in range(args.repeats)]
                names = set().union(*runs)
                per_page[page.file] = {s: statistics.median(r.get(s, 0.0) for r in runs) for s in names}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    total = sum(weights.values())
    steps = sorted({s for v in per_page.values() for s in v})
    mean = {}
    for s in steps:
        ms = sum(per_page[p.file].get(s, 0.0) * weights[i] for i, p in enumerate(pages)) / total
        mean[s] = ms * (changed_share if s.startswith("drift") else 1.0)
    trafilatura_ms = sum(facts[p.file].trafilatura_ms * weights[i] for i, p in enumerate(pages)) / total
    paywalled = [p.file for p in pages if per_page[p.file].get("paywall vendor scan")]
    return {
        "kind": "stages",
        "pages": args.pages,
        "repeats": args.repeats,
        "load_before": load0,
        "load_after": loadavg(),
        "ms_per_page": mean,
        "trafilatura_alone_ms_per_page": trafilatura_ms,
        "per_corpus_page": per_page,
        "pages_with_vendor_scan": paywalled,
        "vendor_scan_ms_on_those": {p: per_page[p]["paywall vendor scan"] for p in paywalled},
    }


# --- py-spy on a real pass --------------------------------------------------------------------------------


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return number
    return -1


def markers() -> list[tuple[str, Callable[[str, str, int], bool]]]:
    """(step, does this frame name it), checked on every frame; the deepest frame that names a step
    wins, and among rules naming one frame the last; a weak rule (the event loop, which sits under
    every fetch) only when no other names any frame."""
    root = HERE.parent / "archiver"
    check_hash = _line_of(root / "check.py", "hashlib.sha256(fetched.body)")
    fsyncs = {
        n
        for path in (root / "store" / "files.py", root / "store" / "warc.py")
        for n, text in enumerate(path.read_text().splitlines(), 1)
        if "os.fsync(" in text
    }
    snap_hashes = {
        _line_of(root / "store" / "files.py", "raw_hash = hashlib.sha256"),
        _line_of(root / "store" / "files.py", "text_hash = hashlib"),
    }

    def f(
        file_part: str, *funcs: str, line: int | set[int] | None = None, weak: bool = False
    ) -> Callable[[str, str, int], bool]:
        lines = {line} if isinstance(line, int) else line

        def match(func: str, file: str, at: int) -> bool:
            name = func.rsplit(".", 1)[-1]  # py-spy names methods Class.method, comprehensions f.<locals>.<listcomp>
            return file_part in file and (not funcs or name in funcs) and (lines is None or at in lines)

        match.weak = weak  # type: ignore[attr-defined]
        return match

    return [
        ("imports and start-up", f("importlib._bootstrap")),
        ("process pool messages and pickling", f("pebble/")),
        ("process pool messages and pickling", f("multiprocessing/connection.py")),
        ("process pool messages and pickling", f("multiprocessing/reduction.py")),
        ("event loop", f("asyncio/", weak=True)),
        ("fetch (httpx, our fetcher)", f("archiver/fetch/")),
        ("fetch (httpx, our fetcher)", f("httpx/")),
        ("fetch (httpx, our fetcher)", f("httpcore/")),
        ("fetch (httpx, our fetcher)", f("anyio/")),
        ("store: reads", f("archiver/store/")),
        ("store: check row", f("archiver/store/__init__.py", "record_check")),
        ("store: check row", f("archiver/store/checks.py", "insert")),
        ("store: check row", f("archiver/store/versions.py", "insert", "identify", "new_row")),
        ("store: text file and WARC append (write, fsync, rename)", f("archiver/store/__init__.py", "write_snapshot")),
        (
            "store: text file and WARC append (write, fsync, rename)",
            f("archiver/store/files.py", "write", "_write_file"),
        ),
        ("hashing (sha256 of body and text)", f("archiver/store/files.py", "paths", line=snap_hashes)),
        ("hashing (sha256 of body and text)", f("archiver/store/versions.py", "content_hash")),
        ("hashing (sha256 of body and text)", f("archiver/check.py", "_same_bytes", line=check_hash)),
        ("store: text file and WARC append (write, fsync, rename)", f("archiver/store/warc.py")),
        ("WARC exchange compressed once (pack_exchange, in the worker)", f("warcio/")),
        ("health update (end of pass)", f("archiver/refold.py", "update_health", "own_claims")),
        ("health update (end of pass)", f("archiver/detect/health.py")),
        ("drift", f("archiver/check.py", "_drift", "_snapshot")),
        ("drift", f("archiver/detect/drift.py")),
        ("drift", f("archiver/detect/claims.py")),
        ("drift (changed page only): re-read the stored page", f("archiver/analysis.py", "boilerplate_of")),
        ("analyse (its own lines)", f("archiver/analysis.py", "analyse")),
        ("decode", f("archiver/extract.py", "decode", "_decode", "_detect", "_codec")),
        ("lxml parse (html_tree)", f("archiver/extract.py", "html_tree", "_from_bytes")),
        ("trafilatura (on the parsed tree)", f("archiver/extract.py", "extract")),
        ("trafilatura (on the parsed tree)", f("trafilatura/core.py", "bare_extraction")),
        ("page facts (Page.from_tree)", f("archiver/detect/page.py", "from_tree", "parse")),
        ("paywall detector", f("archiver/detect/paywall.py")),
        ("paywall vendor scan", f("archiver/detect/paywall.py", "vendor_scripts")),
        ("rot verdict", f("archiver/detect/rot.py")),
        ("link-line detection", f("archiver/detect/body.py", "link_lines")),
        ("link-line detection", f("archiver/detect/page.py", "link_texts")),
        ("main-text region (locate, or holds on a re-check)", f("archiver/region.py")),
        ("WARC exchange compressed once (pack_exchange, in the worker)", f("archiver/store/warc_format.py")),
        (WAIT, f("archiver/store/", "append", "_write_file", line=fsyncs)),
        ("imports and start-up", f(".py", "<module>")),  # a module's own code, run as it is imported
    ]


WAIT = "waiting (disk, poll, queue: no CPU)"
# Leaf frames that block rather than compute. py-spy, sampling without pausing its target, counts a
# thread as active while it sits in some of these calls, and counts a runnable thread that another
# process keeps off the cores as active too: hence the normalisation to getrusage in `spy`.
_BLOCKING = {
    ("selectors.py", "select"),
    ("threading.py", "wait"),
    ("queue.py", "get"),
    ("concurrent/futures/thread.py", "_worker"),
    ("multiprocessing/connection.py", "_recv"),
    ("multiprocessing/connection.py", "_poll"),
    ("multiprocessing/connection.py", "wait"),
    ("pebble/pool/channel.py", "unix_poll"),
    ("pebble/pool/process.py", "pool_manager_loop"),
    ("pebble/pool/base_pool.py", "task_scheduler_loop"),
}


_FRAME = re.compile(r"^(.*) \((.*?)(?::(\d+))?\)$")


def bucket(stack: list[str], rules: list[tuple[str, Callable[[str, str, int], bool]]]) -> str:
    leaf = _FRAME.match(stack[-1].strip()) if stack else None
    if leaf and _blocking(leaf.group(1), leaf.group(2)):
        return WAIT
    found = weak = ""
    for frame in stack:
        m = _FRAME.match(frame.strip())
        if not m:
            continue
        func, file, line = m.group(1), m.group(2), int(m.group(3) or 0)
        for step, match in rules:
            if match(func, file, line):
                if getattr(match, "weak", False):
                    weak = step
                else:
                    found = step  # later rules are more specific; deeper frames override
    return found or weak or "other"


def _blocking(func: str, file: str) -> bool:
    name = func.rsplit(".", 1)[-1]
    return any(part in file and name == blocking for part, blocking in _BLOCKING)


def read_raw(path: Path) -> dict[str, Counter[str]]:
    """Samples per step, for the main process and for the workers, from py-spy's raw output."""
    rules = markers()
    out: dict[str, Counter[str]] = {"main": Counter(), "workers": Counter()}
    for line in path.read_text(errors="replace").splitlines():
        stack_text, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack_text.split(";")
        # with --subprocesses a stack starts with the process py-spy attached to (the service's) and
        # each descendant down to the one sampled: "process PID:cmd"
        pids = [int(m.group(1)) for f in frames if (m := re.match(r"process (\d+):", f))]
        role = "main" if len(pids) <= 1 else "workers"
        frames = [f for f in frames if not f.startswith("process ")]
        out[role][bucket(frames, rules)] += int(count)
    return out


def pyspy_exe() -> str:
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(exe).is_file():
        raise SystemExit(f"profile_real.py spy: py-spy is missing (looked for {exe}); pip install -e '.[bench]'")
    return exe


@contextlib.contextmanager
def pyspy(pid: int, label: str, out_dir: Path, rate: int, files: dict[str, Path], idle: bool) -> Iterator[None]:
    exe = pyspy_exe()
    out = out_dir / f"pyspy-{label}.txt"
    proc = subprocess.Popen(
        [
            exe,
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--nonblocking",
            "--rate",
            str(rate),
            "--format",
            "raw",
            "-o",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.0)  # py-spy attaches before the pass begins
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        if not out.exists():
            raise RuntimeError(f"py-spy wrote nothing: {err.decode(errors='replace')[-500:]}")
        files[label] = out


def spy(args: argparse.Namespace) -> dict[str, Any]:
    import real

    pyspy_exe()  # before anything starts
    pages = load_corpus(args.corpus)
    cal = calibrate(args.corpus, pages, repeats=1)
    changed = real.choose_changed(pages, cal, args.pages, args.changed)
    cores = os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="archiver-spy-"))
    web = RealWeb(WebSpec(args.corpus, args.pages, 10, args.latency, cal.edits, cal.quiet, changed))
    files: dict[str, Path] = {}
    child_pid: dict[str, int] = {}

    def around(pid: int, label: str) -> contextlib.AbstractContextManager[None]:
        child_pid[label] = pid
        return pyspy(pid, label, work, args.rate, files, args.idle)

    try:
        real.write_sources(work / "sources.csv", [web.url(n) for n in range(args.pages)])
        settings = Settings.load(
            environ={"ARCHIVER_ALLOW_PRIVATE": "127.0.0.0/8", "ARCHIVER_BROWSER": "never"},
            data_dir=work / "store",
            sources=work / "sources.csv",
            wayback=False,
            concurrency=16,
            per_host=2,
            workers=cores,
        )
        passes = real.run_service(settings, web, 10, [("first", 0), ("re-check", 1)], around=around)
        for p in passes:
            RAW_DIR.mkdir(exist_ok=True)
            shutil.copy(files[p["pass"]], RAW_DIR / f"pyspy-{p['pass']}.txt")
    finally:
        web.close()
        shutil.rmtree(work, ignore_errors=True)
    return spy_result(passes, args.rate, args.keep_raw, args.idle)


def spy_result(passes: list[dict[str, Any]], rate: int, keep_raw: bool, idle: bool = False) -> dict[str, Any]:
    """Samples per step, as ms per page two ways: raw (samples / rate / pages: time a thread was on
    a core or waiting for one) and CPU (each role's getrusage CPU shared out in proportion to its
    samples, waits left out)."""
    result: dict[str, Any] = {"kind": "py-spy", "rate": rate, "idle_sampled": idle, "passes": []}
    for p in passes:
        raw = RAW_DIR / f"pyspy-{p['pass']}.txt"
        samples = read_raw(raw)
        cpu = {"main": p["cpu_main_s"] * 1000 / p["pages"], "workers": p["cpu_workers_s"] * 1000 / p["pages"]}
        entry: dict[str, Any] = {k: v for k, v in p.items() if k != "new_version_ids"}
        entry["samples_ms_by_step"] = {
            role: {step: n * 1000 / rate / p["pages"] for step, n in c.most_common()} for role, c in samples.items()
        }
        entry["cpu_ms_by_step"] = {}
        for role, c in samples.items():
            busy = sum(n for step, n in c.items() if step != WAIT) or 1
            entry["cpu_ms_by_step"][role] = {step: n / busy * cpu[role] for step, n in c.most_common() if step != WAIT}
        if idle:  # every sample of every thread: a worker waiting for its next page sits in a blocking call
            workers = samples.get("workers", Counter())
            entry["worker_waiting_share"] = workers[WAIT] / (sum(workers.values()) or 1)
        result["passes"].append(entry)
        if not keep_raw:
            raw.unlink()
    return result


def respy(args: argparse.Namespace) -> dict[str, Any]:
    """Sort the kept samples again (after changing `markers`), with the pass figures of a spy run."""
    previous = json.loads(args.reuse.read_text())
    return spy_result(previous["passes"], previous["rate"], keep_raw=True, idle=previous.get("idle_sampled", False))


def table(result: dict[str, Any]) -> str:
    lines = []
    if result["kind"] == "stages":
        lines += ["| step | ms per page (one core) |", "|---|---|"]
        for step, ms in sorted(result["ms_per_page"].items(), key=lambda kv: -kv[1]):
            lines.append(f"| {step} | {ms:.2f} |")
        lines.append(f"| **sum** | **{sum(result['ms_per_page'].values()):.1f}** |")
        lines.append(
            f"| trafilatura alone on the served page (the floor's figure) | {result['trafilatura_alone_ms_per_page']:.1f} |"
        )
        return "\n".join(lines)
    for p in result["passes"]:
        lines += [
            f"\n{p['pass']} pass: {p['seconds']:.1f} s, CPU {p['cpu_ms_per_page']:.1f} ms/page by getrusage "
            f"(main {p['cpu_main_s'] * 1000 / p['pages']:.1f}, workers {p['cpu_workers_s'] * 1000 / p['pages']:.1f}); "
            f"workers busy {p['worker_busy_share']:.0%}; load {p['load_before'][0]:.2f}→{p['load_after'][0]:.2f}, "
            f"others {p['others_cpu_s']:.1f} CPU s"
            + (
                f"; workers waiting for work {p['worker_waiting_share']:.0%} of samples"
                if "worker_waiting_share" in p
                else ""
            ),
            "",
            "| process | step | CPU ms per page | py-spy samples, ms per page |",
            "|---|---|---|---|",
        ]
        for role in ("workers", "main"):
            cpu, raw = p["cpu_ms_by_step"].get(role, {}), p["samples_ms_by_step"].get(role, {})
            for step, ms in cpu.items():
                lines.append(f"| {role} | {step} | {ms:.2f} | {raw.get(step, 0.0):.2f} |")
            if WAIT in raw:
                lines.append(f"| {role} | {WAIT} | - | {raw[WAIT]:.2f} |")
            lines.append(f"| {role} | **sum** | **{sum(cpu.values()):.1f}** | {sum(raw.values()):.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["stages", "spy", "respy"])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--changed", type=float, default=0.05)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument(
        "--idle",
        action="store_true",
        help="spy: sample idle threads too, for the share of time the workers wait for work (not for CPU tables)",
    )
    parser.add_argument("--keep-raw", action="store_true", help=f"keep py-spy's raw stacks in {RAW_DIR}")
    parser.add_argument("--reuse", type=Path, default=None, help="respy: the JSON of an earlier spy run")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    result = {"stages": stages, "spy": spy, "respy": respy}[args.what](args)
    out = args.json or HERE / f"results-real-profile-{args.what}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
