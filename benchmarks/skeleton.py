"""The least a pass can cost: trafilatura behind the service's own fetch and worker pool, nothing else.

    python benchmarks/skeleton.py                 # 1,000 URLs of the real-page web (benchmarks/real.py)
    python benchmarks/skeleton.py --pages 3000

Issue 18 asks a first pass on real pages to cost at most 1.3× trafilatura's own single-core CPU. This
benchmark measures what that leaves for the service's own work. On the same simulated web and the
same calibration as benchmarks/real.py, each in a fresh process measured as real.py measures the
service (getrusage of the process, the fork server and its workers):

- `pool`: every answer, fetched beforehand (not measured), sent to the service's `WorkerPool`, whose
  worker decodes it and runs the service's trafilatura call on it (`archiver.extract.run_trafilatura`,
  on the decoded HTML as the floor's calibration does; the calibration leaves the decoding, about
  0.4 ms a page, out of its timing) and sends back the text: the pool's messages, the workers'
  start-up and trafilatura inside a pass;
- `fetch+pool`: the same, each answer fetched by the service's `Fetcher` (httpx through the guarded
  transport, the per-origin limit) at the pass's concurrency: the skeleton of a pass, with nothing
  stored, compared, judged or written;
- `messages`: as `pool`, but the worker extracts nothing: it sends back a quarter of the answer's
  bytes (what a pass sends back: the compressed WARC record, the text): what the pool's messages
  and the workers' start-up cost alone;
- `fetch-in-worker`: the workers fetch (one synchronous httpx client each) and extract, the main
  process only hands out URLs: what the bodies' crossing costs, and whether fetching elsewhere saves it.

Last, the floor's own timing runs in one process per core, all at once: what trafilatura costs a page
when every core runs it, as in a pass, against the floor's one core.

Each line gives CPU ms per page extracted (main, workers; `pages` in the results counts the
answers extracted for `pool`, the URLs fetched otherwise, error pages among them), the ratio to
trafilatura's own cost per page (the floor of real.py), and the peak memory of the process tree
(PSS, sampled as real.py samples it; not for `pool`, whose main process holds every body). What a full pass costs beyond
`fetch+pool` is the service's own work: the store, the WARC record, the detectors, the page facts
and the main-text region.
Writes benchmarks/results-skeleton-N.json (`--json`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import multiprocessing.forkserver
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from calibrate import calibrate, time_trafilatura  # noqa: E402
from proctree import TreeSampler, cpu_seconds, received, service_usage  # noqa: E402
from realweb import DEFAULT_CORPUS, CorpusMissing, RealWeb, WebSpec, bench_resolver, load_corpus, page_of  # noqa: E402
from skeleton_work import extract_text, fetch_and_extract, quarter  # noqa: E402

from archiver import Settings  # noqa: E402
from archiver.fetch import Fetcher  # noqa: E402
from archiver.workers import WorkerPool  # noqa: E402

MODES = ("pool", "fetch+pool", "fetch-in-worker", "messages")
PREFETCHED = ("pool", "messages")  # modes whose answers are fetched beforehand, outside the measure
START_SECONDS = 1800  # the answers fetched beforehand (`pool`, `messages`), at most
RUN_SECONDS = 3600  # one mode's measured run, at most, before the benchmark gives up on it


def _usage() -> tuple[float, float, float]:
    """CPU seconds as real.py counts the service's (this process; the fork server with every worker it
    reaped), and the fork server's alone (its warm-up: `archiver.warmup`)."""
    main, workers = service_usage()
    server = getattr(multiprocessing.forkserver._forkserver, "_forkserver_pid", None)
    return main, workers, cpu_seconds(server) if server else 0.0


async def _measured(mode: str, settings: Settings, urls: list[str], hosts: int, conn: Any) -> dict[str, Any]:
    resolver = bench_resolver(hosts)
    bodies: list[tuple[bytes, str]] = []
    if mode in PREFETCHED:
        async with Fetcher(settings.fetch_settings, resolver=resolver) as fetcher:
            answers = iter(urls)

            async def prefetch() -> None:
                for url in answers:
                    got = await fetcher.fetch(url)
                    if got.status == 200:
                        bodies.append((got.body, got.header("content-type")))

            await asyncio.gather(*(prefetch() for _ in range(settings.concurrency)))
    conn.send("start")  # the parent samples this process's tree from now on
    (main0, workers0, _), t0 = _usage(), time.monotonic()
    slots = settings.concurrency + 4 * settings.extraction_workers
    with WorkerPool(settings.extract_settings) as workers:
        if mode in PREFETCHED:
            queue: Any = iter(bodies)
            work = extract_text if mode == "pool" else quarter

            async def runner() -> None:
                for body, content_type in queue:
                    await workers.run(work, body, content_type)

        elif mode == "fetch+pool":
            queue = iter(urls)
            fetcher = Fetcher(settings.fetch_settings, resolver=resolver)

            async def runner() -> None:
                for url in queue:
                    got = await fetcher.fetch(url)
                    if got.status == 200:
                        await workers.run(extract_text, got.body, got.header("content-type"))

        else:
            queue = iter(urls)
            slots = 2 * settings.extraction_workers

            async def runner() -> None:
                for url in queue:
                    await workers.run(fetch_and_extract, url, hosts)

        await asyncio.gather(*(runner() for _ in range(slots)))
        if mode == "fetch+pool":
            await fetcher.aclose()
    wall = time.monotonic() - t0
    time.sleep(0.5)  # the fork server reaps its workers: their CPU is counted then (as in real.py)
    main1, workers1, warm_up = _usage()
    pages = len(bodies) if mode in PREFETCHED else len(urls)  # per page extracted: see main()
    return {
        "mode": mode,
        "pages": pages,
        "seconds": wall,
        "cpu_main_ms_per_page": (main1 - main0) * 1000 / pages,
        "cpu_workers_ms_per_page": (workers1 - workers0) * 1000 / pages,
        "cpu_warm_up_s": warm_up,  # the fork server's own, within the workers' figure
        "cpu_ms_per_page": (main1 - main0 + workers1 - workers0) * 1000 / pages,
    }


def _child(mode: str, settings: Settings, urls: list[str], hosts: int, conn: Any) -> None:
    conn.send(asyncio.run(_measured(mode, settings, urls, hosts, conn)))


def run_mode(mode: str, settings: Settings, urls: list[str], hosts: int) -> dict[str, Any]:
    """One mode over `urls`, in a fresh process: its CPU a page (per answer extracted for `pool` and
    `messages`, per URL fetched otherwise) and its tree's peak (PSS), as real.py measures a pass."""
    ctx = multiprocessing.get_context("spawn")
    mine, theirs = ctx.Pipe()
    child = ctx.Process(target=_child, args=(mode, settings, urls, hosts, theirs))
    child.start()
    theirs.close()  # the child's end: if the child dies, ours reads EOFError instead of waiting
    what = f"the skeleton's process ({mode})"
    assert received(mine, child, START_SECONDS, what) == "start" and child.pid is not None
    sampler = TreeSampler(child.pid)
    try:
        run = dict(received(mine, child, RUN_SECONDS, what))
    finally:
        peaks = sampler.stop()
        child.join(60)
    # the main process of `pool` holds every body it fetched beforehand: its tree says nothing
    run["peak_tree_pss_mib"] = None if mode in PREFETCHED else peaks.tree_pss
    return run


def every_core(corpus: Path, pages: list[Any], cores: int, ok: list[Any]) -> list[float]:
    """The floor's timing (`time_trafilatura`) in one process a core, all at once: what trafilatura
    costs a page when every core runs it, as in a pass, against the floor's one core (other
    processes then share the caches and the memory bandwidth)."""
    ctx = multiprocessing.get_context("spawn")
    ends = [ctx.Pipe(duplex=False) for _ in range(cores)]
    children = [
        ctx.Process(target=_time_in_child, args=(corpus, pages, 20 + k, send)) for k, (_, send) in enumerate(ends)
    ]
    for child in children:
        child.start()
    times = [receive.recv() for receive, _ in ends]
    for child in children:
        child.join(60)
    return [sum(t.get(f.page.file, 0.0) for f in ok) / len(ok) for t in times]


def _time_in_child(corpus: Path, pages: list[Any], seed: int, conn: Any) -> None:
    conn.send(time_trafilatura(corpus, pages, 3, random.Random(seed)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--mode", choices=MODES, action="append", default=[])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--json", type=Path, default=None, help="default benchmarks/results-skeleton-N.json")
    args = parser.parse_args(argv)
    try:
        pages = load_corpus(args.corpus)
    except CorpusMissing as exc:
        print(f"skeleton benchmark: {exc}", file=sys.stderr)
        return 2
    cal = calibrate(args.corpus, pages)
    facts = {f.page.file: f for f in cal.pages}
    served = [facts[pages[page_of(n, len(pages))].file] for n in range(args.pages)]
    ok = [f for f in served if f.page.status == 200]
    trafilatura_ms = sum(f.trafilatura_ms for f in ok) / len(ok)  # per page extracted
    cores = os.cpu_count() or 1
    web = RealWeb(WebSpec(args.corpus, args.pages, args.hosts, args.latency, cal.edits, cal.quiet, frozenset()))
    settings = Settings.load(
        environ={"ARCHIVER_ALLOW_PRIVATE": "127.0.0.0/8", "ARCHIVER_BROWSER": "never"},
        data_dir=Path("/nonexistent-skeleton-store"),
        wayback=False,
        concurrency=16,
        per_host=2,
        workers=cores,
    )
    results: dict[str, Any] = {
        "pages": args.pages,
        "trafilatura_ms_per_extracted_page": trafilatura_ms,
        "runs": [],
        "git_commit": subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=HERE
        ).stdout.strip(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(f"trafilatura alone: {trafilatura_ms:.1f} ms a page answered 200 ({len(ok)} of {args.pages} URLs)")
    try:
        urls = [web.url(n) for n in range(args.pages)]
        for mode in args.mode or MODES:
            run = run_mode(mode, settings, urls, args.hosts)
            if mode not in PREFETCHED:  # error pages are fetched but not extracted: count them as the floor does not
                run["cpu_ms_per_page"] *= run["pages"] / len(ok)
                run["cpu_main_ms_per_page"] *= run["pages"] / len(ok)
                run["cpu_workers_ms_per_page"] *= run["pages"] / len(ok)
            run["over_trafilatura"] = run["cpu_ms_per_page"] / trafilatura_ms
            results["runs"].append(run)
            print(
                f"{mode:<16} CPU {run['cpu_ms_per_page']:5.1f} ms a page extracted (main {run['cpu_main_ms_per_page']:4.1f}, "
                f"workers {run['cpu_workers_ms_per_page']:4.1f}) = {run['over_trafilatura']:.2f}x trafilatura alone; "
                f"{run['seconds']:.1f} s; the workers' warm-up {run['cpu_warm_up_s']:.1f} s of it"
                + (f"; the tree at most {run['peak_tree_pss_mib']:.0f} MiB PSS" if run["peak_tree_pss_mib"] else ""),
                flush=True,
            )
    finally:
        web.close()
    # trafilatura timed again after the runs, and the lower figure taken, as real.py does: a machine
    # that slowed during one timing must not flatter the ratios
    after = time_trafilatura(args.corpus, cal.pages, 3, random.Random(11))
    after_ms = sum(after.get(f.page.file, 0.0) for f in ok) / len(ok)
    results["trafilatura_after_ms_per_extracted_page"] = after_ms
    if after_ms < trafilatura_ms:
        results["trafilatura_ms_per_extracted_page"] = after_ms
        for run in results["runs"]:
            run["over_trafilatura"] = run["cpu_ms_per_page"] / after_ms
    print(
        f"trafilatura alone after the runs: {after_ms:.1f} ms a page; the ratios over "
        f"{min(after_ms, trafilatura_ms):.1f}: "
        + ", ".join(f"{run['mode']} {run['over_trafilatura']:.2f}x" for run in results["runs"])
    )
    every = every_core(args.corpus, cal.pages, cores, ok)
    results["trafilatura_every_core_ms_per_extracted_page"] = every
    print(
        f"trafilatura on all {cores} cores at once (as the floor's timing, one process a core): "
        f"{statistics.mean(every):.1f} ms a page, {statistics.mean(every) / after_ms - 1:+.0%} against alone just before"
    )
    (args.json or HERE / f"results-skeleton-{args.pages}.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
