"""Benchmark of distributed mode: the throughput of 1, 2 and 4 `archiver worker` processes on a
network-bound simulated web (high latency, many hosts), against a local single-process pass.

    python benchmarks/distributed.py                          # 200 pages, 100 hosts, 500 ms latency
    python benchmarks/distributed.py --workers 1 2 4 --pages 400 --json FILE

Starts real PostgreSQL and Redis servers on 127.0.0.1 (`.ci/services.sh`, stopped at the end; or
the servers ARCHIVER_TEST_DATABASE_URL / ARCHIVER_TEST_BROKER_URL name) and the benchmark's simulated
web (benchmarks/simweb.py, in its own process). For each worker count: a fresh database, the workers
started and idle, then one dispatcher tick queues every page as one pass; the time is from the tick
to the pass's last check. Each worker runs one check at a time (`--pool=solo`), so a worker's rate
is about one check per (latency + its own work); the sizing rule in the README comes from here.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import psycopg  # noqa: E402
import redis  # noqa: E402
from simweb import BenchWeb, resolver  # noqa: E402

from archiver import Settings, run_check  # noqa: E402
from archiver.distributed.dispatch import Dispatcher  # noqa: E402
from archiver.distributed.queue import run_worker  # noqa: E402

DAY = 86_400


def servers() -> tuple[str, str, str | None]:
    """The PostgreSQL and Redis URLs, and the directory to stop when we started them."""
    given = os.environ.get("ARCHIVER_TEST_DATABASE_URL"), os.environ.get("ARCHIVER_TEST_BROKER_URL")
    if all(given):
        return given[0] or "", given[1] or "", None
    done = subprocess.run(
        ["bash", str(ROOT / ".ci" / "services.sh"), "start", "--owner", str(os.getpid())],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    values = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return (
        values["ARCHIVER_TEST_DATABASE_URL"],
        values["ARCHIVER_TEST_BROKER_URL"],
        values["ARCHIVER_TEST_SERVICES_DIR"],
    )


def fresh_database(admin_url: str) -> str:
    name = f"archiver_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return admin_url.rsplit("/", 1)[0] + "/" + name


def run(workers: int, env: dict[str, str], work: Path, pages: int) -> dict[str, float]:
    env = {
        **env,
        "ARCHIVER_DATABASE_URL": fresh_database(env["ADMIN_URL"]),
        "ARCHIVER_DATA_DIR": str(work / f"w{workers}"),
    }
    redis.Redis.from_url(env["ARCHIVER_BROKER_URL"]).flushdb()
    settings = Settings.load(environ=env)
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", f"bench{n}"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(work / f"w{workers}-{n}.log").open("wb"),
            start_new_session=True,
        )
        for n in range(workers)
    ]
    try:
        with Dispatcher(settings) as dispatcher:
            dispatcher.store.db.scalar("SELECT 1")  # migrated before the workers' first task
            time.sleep(3)  # the workers ready and idle
            t0 = time.monotonic()
            queued = dispatcher.tick(timedelta(days=1), retry_base=timedelta(minutes=30))
            while dispatcher.open:
                time.sleep(0.1)
                dispatcher.finish_done()
            seconds = time.monotonic() - t0
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=60)
    rate = queued / seconds
    return {
        "workers": workers,
        "pages": queued,
        "seconds": seconds,
        "per_second": rate,
        "per_day_per_worker": rate * DAY / workers,
    }


def local_pass(env: dict[str, str], work: Path) -> dict[str, float]:
    settings = Settings.load(
        environ={**env, "ARCHIVER_DATABASE_URL": "", "ARCHIVER_BROKER_URL": ""}, data_dir=work / "local"
    )
    t0 = time.monotonic()
    summary = run_check(settings, resolver=resolver)
    seconds = time.monotonic() - t0
    return {"pages": len(summary.checks), "seconds": seconds, "per_second": len(summary.checks) / seconds}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)  # run as one worker process
    args = parser.parse_args()
    if args.worker:
        logging.basicConfig(level=logging.WARNING)
        run_worker(Settings.load(), args.worker, resolver=resolver)
        return
    work = Path(tempfile.mkdtemp(prefix="archiver-dist-bench-"))
    database, broker, started = servers()
    web = BenchWeb(args.pages, args.latency)
    try:
        urls = [web.url(n, args.hosts) for n in range(args.pages)]
        (work / "sources.csv").write_text("id,url\n" + "".join(f"{i},{u}\n" for i, u in enumerate(urls, 1)), "utf-8")
        env = {
            **os.environ,
            "ADMIN_URL": database,
            "ARCHIVER_BROKER_URL": broker,
            "ARCHIVER_SOURCES": str(work / "sources.csv"),
            "ARCHIVER_ALLOW_PRIVATE": "127.0.0.1/32",
            "ARCHIVER_WAYBACK": "0",
            "ARCHIVER_WORKERS": "1",
            "ARCHIVER_PER_HOST": "2",
        }
        print(
            f"pages {args.pages}, hosts {args.hosts}, latency {args.latency * 1000:.0f} ms; work dir {work}", flush=True
        )
        results = {"pages": args.pages, "hosts": args.hosts, "latency_s": args.latency, "cores": os.cpu_count()}
        results["local"] = local_pass(env, work)
        print(
            f"local pass (one process, async): {results['local']['seconds']:.1f} s, {results['local']['per_second']:.1f}/s",
            flush=True,
        )
        results["distributed"] = []
        for n in args.workers:
            one = run(n, env, work, args.pages)
            results["distributed"].append(one)
            print(
                f"{n} worker(s): {one['seconds']:.1f} s, {one['per_second']:.2f} checks/s, "
                f"{one['per_day_per_worker']:,.0f} checks a day per worker",
                flush=True,
            )
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    finally:
        web.close()
        if started:
            subprocess.run(["bash", str(ROOT / ".ci" / "services.sh"), "stop", started], timeout=120, check=False)


if __name__ == "__main__":
    main()
