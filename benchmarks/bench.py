"""Benchmark: a full pass at the speed of the machine, and cost that stays flat as history grows.

    python benchmarks/bench.py                      # N = 2,000 pages, 40 hosts, 100 ms latency
    python benchmarks/bench.py --pages 10000        # the large run
    python benchmarks/bench.py --pages 200 --quick  # a smoke run
    python benchmarks/bench.py --real               # real pages instead: see benchmarks/real.py

Starts a simulated web on 127.0.0.1 (its own process) and measures, side by side: the service's
first pass and a second pass with 5% of pages changed; a naive baseline (one page after another:
fetch, extract, store); and the floor, the larger of the network bound (latency × pages /
concurrency) and the extraction bound (trafilatura's single-core time per page × pages / cores).
Then it builds a synthetic store of a year of daily checks for 2,000 citations and times the report
and a lookup. Results print as a table; `--json FILE` keeps them.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import multiprocessing
import os
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import httpx  # noqa: E402
import trafilatura  # noqa: E402
from simweb import BenchWeb, page_html, resolver  # noqa: E402

from archiver import Settings, run_check  # noqa: E402
from archiver.store import Store  # noqa: E402


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def peak_mib() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest child (an extraction worker), in MiB."""
    return (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    )


def write_sources(path: Path, urls: list[str]) -> None:
    path.write_text("id,url\n" + "".join(f"{i},{u}\n" for i, u in enumerate(urls, 1)), encoding="utf-8")


def extraction_seconds_per_page(sample: int = 40) -> float:
    pages = [page_html(n).decode() for n in range(sample)]
    t0 = time.process_time()
    for html in pages:
        trafilatura.bare_extraction(html, with_metadata=True)
    return (time.process_time() - t0) / sample


def service_pass(settings: Settings, label: str) -> dict:
    before_bytes = du(settings.data_dir) if settings.data_dir.exists() else 0
    c0, t0 = cpu(), time.monotonic()
    summary = run_check(settings, resolver=resolver)
    wall, spent = time.monotonic() - t0, cpu() - c0
    with Store.open(settings.data_dir) as store:
        checks, versions = store.count("checks"), store.count("versions")
    n = len(summary.checks)
    ok = sum(1 for c in summary.checks if c.outcome in ("ok", "not_modified"))
    return {
        "pass": label,
        "pages": n,
        "ok": ok,
        "seconds": wall,
        "pages_per_s": n / wall,
        "cpu_s_per_page": spent / n,
        "new_versions": summary.new_versions,
        "bytes_added": du(settings.data_dir) - before_bytes,
        "checks_total": checks,
        "versions_total": versions,
    }


def _service_child(settings: Settings, generation, out) -> None:
    """Runs in its own process, so its peak memory (and its workers') is the service's alone."""
    first = service_pass(settings, "first")
    with generation.get_lock():
        generation.value += 1  # 5% of the pages change between the passes
    second = service_pass(settings, "second (5% changed)")
    out.put((first, second, *peak_mib()))


def measure_service(settings: Settings, web: BenchWeb) -> tuple[dict, dict, float, float]:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    child = ctx.Process(target=_service_child, args=(settings, web.generation, out))
    child.start()
    result = out.get()
    child.join()
    return result


def baseline(urls: list[str], data: Path) -> dict:
    """What a user's own script would do: one page after another, fetch, extract, store."""
    data.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(data / "naive.db")
    db.execute("CREATE TABLE pages (url TEXT, fetched_at TEXT, text TEXT, html BLOB)")
    client = httpx.Client(transport=httpx.HTTPTransport(), timeout=30)
    t0 = time.monotonic()
    for url in urls:
        host, rest = url.removeprefix("http://").split(":", 1)
        response = client.get(f"http://127.0.0.1:{rest}", headers={"Host": host})
        doc = trafilatura.extract(response.text, with_metadata=True)
        db.execute(
            "INSERT INTO pages VALUES (?, ?, ?, ?)",
            (url, datetime.now(UTC).isoformat(), doc, gzip.compress(response.content)),
        )
        db.commit()
    return {"pages": len(urls), "seconds": time.monotonic() - t0}


def synthetic_year(data: Path, citations: int = 2000, days: int = 365) -> None:
    """A store holding a year of daily checks for `citations` citations, written straight to SQLite."""
    from archiver.models import Citation

    with Store.open(data) as store:
        db = store.db.conn
        start = datetime(2025, 1, 1, tzinfo=UTC)
        store.sync_citations(
            [
                Citation(str(i), f"https://news{i % 40}.example/story/{i}", f"Claim {i}: 15 000 soldats")
                for i in range(1, citations + 1)
            ],
            start,
        )
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO passes (id, started_at, finished_at, citations) VALUES (?, ?, ?, ?)",
            [
                (
                    d + 1,
                    (start + timedelta(days=d)).isoformat(),
                    (start + timedelta(days=d, minutes=9)).isoformat(),
                    citations,
                )
                for d in range(days)
            ],
        )
        text_dir = data / "text" / "00"
        text_dir.mkdir(parents=True, exist_ok=True)
        versions, checks = [], []
        for i in range(1, citations + 1):
            hashes = []
            for v in range(3):  # three versions in the year
                h = hashlib.sha256(f"{i}-{v}".encode()).hexdigest()
                hashes.append(h)
                versions.append(
                    (
                        str(i),
                        h,
                        (start + timedelta(days=120 * v)).isoformat(),
                        f"Story {i} v{v}",
                        900 + v,
                        f"text/00/{h}.txt",
                    )
                )
            for d in range(days):
                at = (start + timedelta(days=d, seconds=i)).isoformat()
                checks.append(
                    (
                        str(i),
                        d + 1,
                        at,
                        f"https://news{i % 40}.example/story/{i}",
                        "ok",
                        200,
                        hashes[min(2, d // 120)],
                        int(d % 120 == 0),
                    )
                )
        db.executemany(
            """INSERT INTO versions (citation_id, hash, first_seen, title, words, text_path)
                          VALUES (?, ?, ?, ?, ?, ?)""",
            versions,
        )
        db.executemany(
            """INSERT INTO checks (citation_id, pass_id, checked_at, url, outcome, http_status,
                          version_hash, new_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            checks,
        )
        db.execute("COMMIT")
        for _, h, *_rest in versions[:30]:
            (text_dir / f"{h}.txt").write_text("text")
    # one real health computation per citation, as a pass would leave it
    from archiver.models import Citation, RotPolicy
    from archiver.pipeline import update_health

    with Store.open(data) as store:
        for i in range(1, citations + 1):
            update_health(
                store,
                Citation(str(i), f"https://news{i % 40}.example/story/{i}"),
                RotPolicy(),
                start + timedelta(days=days),
            )


def time_report_and_lookup(data: Path) -> dict:
    from archiver import lookup
    from archiver.report import build_report, render_html, render_markdown

    out = {}
    for label, fn in (("report_json", None), ("report_md", render_markdown), ("report_html", render_html)):
        t0 = time.monotonic()
        with Store.open(data) as store:
            report = build_report(store, datetime.now(UTC))
        text = json.dumps(report.to_json()) if fn is None else fn(report)
        out[f"{label}_s"] = time.monotonic() - t0
        out[f"{label}_bytes"] = len(text)
    t0 = time.monotonic()
    with Store.open(data) as store:
        found = lookup.find(store, "123")
        assert found is not None
        found.version_at(datetime(2025, 6, 1, tzinfo=UTC))
    out["lookup_s"] = time.monotonic() - t0
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=40)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--baseline-pages",
        type=int,
        default=200,
        help="pages the naive baseline really fetches; its time is scaled to --pages",
    )
    parser.add_argument("--skip-year", action="store_true", help="skip the year-of-history store")
    parser.add_argument("--quick", action="store_true", help="small sample sizes, for a smoke run")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="archiver-bench-"))
    print(
        f"pages {args.pages}, hosts {args.hosts}, latency {args.latency * 1000:.0f} ms, concurrency "
        f"{args.concurrency}, cores {cores}; work dir {work}",
        flush=True,
    )
    web = BenchWeb(args.pages, args.latency)
    try:
        urls = [web.url(n, args.hosts) for n in range(args.pages)]
        write_sources(work / "sources.csv", urls)
        settings = Settings.load(
            environ={"ARCHIVER_ALLOW_PRIVATE": "127.0.0.1/32"},
            data_dir=work / "store",
            sources=work / "sources.csv",
            wayback=False,
            concurrency=args.concurrency,
            per_host=2,
            workers=cores,
        )
        per_page = extraction_seconds_per_page(10 if args.quick else 40)
        network_floor = args.latency * args.pages / args.concurrency
        extraction_floor = per_page * args.pages / cores
        floor = max(network_floor, extraction_floor)
        first, second, main_mib, worker_mib = measure_service(settings, web)
        sample = urls[: min(args.baseline_pages, args.pages)]
        naive = baseline(sample, work / "naive")
        naive_seconds = naive["seconds"] * args.pages / len(sample)
    finally:
        web.close()
    results = {
        "pages": args.pages,
        "hosts": args.hosts,
        "latency_s": args.latency,
        "cores": cores,
        "floor_s": floor,
        "network_floor_s": network_floor,
        "extraction_floor_s": extraction_floor,
        "trafilatura_s_per_page": per_page,
        "passes": [first, second],
        "baseline_s": naive_seconds,
        "baseline_measured_pages": len(sample),
        "service_over_floor": first["seconds"] / floor,
        "baseline_over_service": naive_seconds / first["seconds"],
        "peak_rss_main_mib": main_mib,
        "peak_rss_worker_mib": worker_mib,
        "unchanged_check_bytes": (second["bytes_added"] - 0) / max(1, args.pages),
    }
    if not args.skip_year:
        year = work / "year"
        t0 = time.monotonic()
        synthetic_year(year, 200 if args.quick else 2000)
        results["year_store_build_s"] = time.monotonic() - t0
        results.update(time_report_and_lookup(year))
    print_results(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def print_results(r: dict) -> None:
    print()
    print(f"{'run':<22} {'seconds':>8} {'pages/s':>8} {'CPU s/page':>10} {'new versions':>12} {'bytes added':>12}")
    for p in r["passes"]:
        print(
            f"{p['pass']:<22} {p['seconds']:>8.1f} {p['pages_per_s']:>8.1f} {p['cpu_s_per_page']:>10.4f} "
            f"{p['new_versions']:>12} {p['bytes_added']:>12,}"
        )
    print(
        f"{'naive baseline':<22} {r['baseline_s']:>8.1f} {r['pages'] / r['baseline_s']:>8.1f}"
        f"   (measured on {r['baseline_measured_pages']} pages, scaled)"
    )
    print(
        f"{'floor':<22} {r['floor_s']:>8.1f}   network {r['network_floor_s']:.1f} s, extraction "
        f"{r['extraction_floor_s']:.1f} s (trafilatura {r['trafilatura_s_per_page'] * 1000:.1f} ms/page on one core)"
    )
    print()
    print(f"service / floor       {r['service_over_floor']:.2f}   (target <= 1.5)")
    print(f"baseline / service    {r['baseline_over_service']:.1f}   (target >= 5)")
    print(
        f"peak memory           main {r['peak_rss_main_mib']:.0f} MiB, largest worker {r['peak_rss_worker_mib']:.0f} MiB"
    )
    second = r["passes"][1]
    unchanged = r["pages"] - second["new_versions"]
    print(
        f"second pass           {second['checks_total'] - r['passes'][0]['checks_total']} check rows for "
        f"{r['pages']} pages, {second['new_versions']} new versions; {second['bytes_added']:,} bytes added "
        f"({unchanged} unchanged pages)"
    )
    if "lookup_s" in r:
        print(
            f"year of daily checks  report json {r['report_json_s']:.2f} s, md {r['report_md_s']:.2f} s, "
            f"html {r['report_html_s']:.2f} s; lookup {r['lookup_s']:.3f} s (target < 1 s)"
        )


if __name__ == "__main__":
    if "--real" in sys.argv[1:]:  # the real-page mode (the shared corpus): benchmarks/real.py
        import real

        sys.exit(real.main([a for a in sys.argv[1:] if a != "--real"]))
    main()
