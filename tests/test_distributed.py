"""Distributed mode end to end (issue 22): the dispatcher and two real worker processes (Celery on a
real Redis, the store in a real PostgreSQL) over a simulated web of a few hundred pages on six hosts.
The store ends identical in content to a single-process run; `kill -9` of a worker mid-pass still
completes the pass with nothing lost or done twice; the simulated web's own count of concurrent
requests per host never exceeds the limit, whatever the number of workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from conftest import SUBPROCESS_ENV, loopback_resolver, write_sources
from simweb import LOREM, Response, article

from archiver.config import Settings
from archiver.distributed.dispatch import Dispatcher
from archiver.distributed.queue import QUEUE
from archiver.pipeline import run_check
from archiver.store import Store, checks

pytest_plugins = ["services"]
pytestmark = pytest.mark.timeout(300)

HOSTS = 6
ARTICLES, GONE, MOVED = 270, 20, 10  # 300 citations
LIMIT = 1  # requests in flight to one host, across every worker
VISIBILITY = 5.0  # seconds before a dead worker's task is redelivered
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
WORKER = Path(__file__).resolve().parent / "dist_worker.py"


def build_web(web, delay: float = 0.0) -> list[dict[str, str]]:
    """Articles, pages gone and pages moved, spread over HOSTS virtual hosts; the sources.csv rows."""
    rows = []
    for n in range(ARTICLES + GONE + MOVED):
        host = f"h{n % HOSTS}.test"
        url = web.url(f"/p{n}", host)
        if n < ARTICLES:
            body = article(f"Report {n}", f"Dispatch number {n} from the border region.", *LOREM[n % 3 :])
            web.set(url, Response(200, body.encode(), {"Content-Type": "text/html; charset=utf-8"}, delay))
        elif n < ARTICLES + GONE:
            web.set(url, Response(404, b"<html><body><h1>Not Found</h1></body></html>", {}, delay))
        else:
            target = web.page(web.url(f"/moved/{n}", host), article(f"Moved {n}", *LOREM))
            web.set(url, Response(301, b"", {"Location": target}, delay))
        rows.append({"id": str(n), "url": url})
    return rows


class Cluster:
    """Workers as real processes on one shared store and broker, and the dispatcher in this process."""

    def __init__(self, tmp_path: Path, postgres_url: str, redis_url: str) -> None:
        self.tmp = tmp_path
        self.env = {
            **SUBPROCESS_ENV,
            "ARCHIVER_DATA_DIR": str(tmp_path / "shared"),
            "ARCHIVER_SOURCES": str(tmp_path / "sources.csv"),
            "ARCHIVER_DATABASE_URL": postgres_url,
            "ARCHIVER_BROKER_URL": redis_url,
            "ARCHIVER_PER_HOST": str(LIMIT),
            "ARCHIVER_VISIBILITY_TIMEOUT": str(VISIBILITY),
        }
        self.settings = Settings.load(environ=self.env)
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        self.redis = redis.Redis.from_url(redis_url, socket_timeout=10)

    def start(self, name: str) -> None:
        log = (self.tmp / f"{name}.log").open("wb")
        self.workers[name] = subprocess.Popen(
            [sys.executable, str(WORKER), name], env=self.env, stdout=log, stderr=log, start_new_session=True
        )

    def kill(self, name: str) -> None:
        """kill -9 of the whole worker (its extraction process too), as a machine lost."""
        os.killpg(self.workers[name].pid, signal.SIGKILL)
        self.workers.pop(name).wait(timeout=10)

    def stop(self) -> None:
        for worker in self.workers.values():
            worker.send_signal(signal.SIGTERM)
        for worker in self.workers.values():
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)
        self.redis.close()

    def queue_drained(self, wait: float = 10.0) -> bool:
        """Nothing queued and nothing unacknowledged (the acknowledgement follows the commit the
        dispatcher saw, so it may take a moment)."""
        end = time.monotonic() + wait
        while (self.redis.llen(QUEUE), self.redis.hlen("unacked")) != (0, 0):
            if time.monotonic() > end:
                return False
            time.sleep(0.1)
        return True

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text("utf-8", errors="replace")[-3000:]

    def run_pass(self, deadline: float, during=None, expect: int = ARTICLES + GONE + MOVED) -> int:
        """One dispatcher tick (every citation due), then wait until the pass is finished."""
        with Dispatcher(self.settings) as dispatcher:
            queued = dispatcher.tick(timedelta(days=1), retry_base=timedelta(minutes=30))
            assert queued == expect
            (pass_id,) = dispatcher.open
            end = time.monotonic() + deadline
            while dispatcher.open:
                assert time.monotonic() < end, "the pass did not finish:\n" + "\n".join(map(self.log, self.workers))
                if during is not None:
                    during(dispatcher.store)
                dispatcher.finish_done()
                time.sleep(0.2)
            return pass_id


@pytest.fixture
def cluster(tmp_path, postgres_url, redis_url):
    made = Cluster(tmp_path, postgres_url, redis_url)
    yield made
    made.stop()


def overlaps(web) -> list[tuple[str, str, float]]:
    """For a failure's message: requests to one host that started within 50 ms of each other."""
    seen = sorted(web.requests, key=lambda r: r.at)
    return [
        (b.host, b.path, round(b.at - a.at, 3))
        for a, b in zip(seen, seen[1:], strict=False)
        if a.host == b.host and b.at - a.at < 0.05
    ]


def content(store: Store) -> dict[str, tuple]:
    """What a pass leaves per citation: its checks (outcome, status, verdict, content), its versions,
    its health."""
    held = {}
    for citation in store.citations():
        made = [
            (str(c.outcome), c.http_status, c.version_hash, c.verdicts.signal.kind) for c in store.checks(citation.id)
        ]
        versions = sorted(v.hash for v in store.versions(citation.id))
        health = store.health(citation.id)
        held[citation.id] = (made, versions, health.status if health else None)
    return held


def test_two_workers_leave_the_store_a_single_process_pass_leaves(cluster, web, settings):
    rows = build_web(web)
    write_sources(cluster.settings.sources, rows)
    for name in ("w1", "w2"):
        cluster.start(name)
    pass_id = cluster.run_pass(deadline=180)
    distributed_peak = dict(web.max_in_flight)

    local = settings.with_(per_host=LIMIT)
    write_sources(local.sources, rows)
    run_check(local, resolver=loopback_resolver)

    with Store.open(cluster.settings.data_dir, database_url=cluster.settings.database_url) as shared:
        with Store.open(local.data_dir) as alone:
            assert content(shared) == content(alone)
            assert len(content(shared)) == ARTICLES + GONE + MOVED
        workers = {w for w, n in checks.by_worker(shared.db, EPOCH).items() if n}
        assert set(checks.pass_outcomes(shared.db, pass_id)) == {r["id"] for r in rows}
    assert {w.split("@")[0] for w in workers} == {"w1", "w2"}  # both took a share
    assert max(distributed_peak.values()) <= LIMIT
    assert cluster.queue_drained()


def test_a_worker_killed_mid_pass_loses_nothing_and_does_nothing_twice(cluster, web):
    rows = build_web(web, delay=0.05)
    write_sources(cluster.settings.sources, rows)
    for name in ("w1", "w2"):
        cluster.start(name)
    killed = []

    def kill_a_third_of_the_way(store: Store) -> None:
        if not killed and sum(checks.by_worker(store.db, EPOCH).values()) >= len(rows) // 3:
            killed.append(cluster.redis.hlen("unacked"))  # tasks held by the workers at that moment
            cluster.kill("w1")

    pass_id = cluster.run_pass(deadline=240, during=kill_a_third_of_the_way)
    assert killed and killed[0] >= 1
    with Store.open(cluster.settings.data_dir, database_url=cluster.settings.database_url) as shared:
        for row in rows:
            held = shared.checks(row["id"])
            assert len(held) == 1, (row, held)  # nothing lost, nothing checked twice
            assert held[0].pass_id == pass_id
            hashes = [v.hash for v in shared.versions(row["id"])]
            assert len(hashes) <= 1, (row, hashes)  # one pass of an unchanged page: one version at most
        done = {w.split("@")[0]: n for w, n in checks.by_worker(shared.db, EPOCH).items()}
    assert done["w1"] >= 1 and done["w2"] >= 1 and sum(done.values()) == len(rows)
    assert max(web.max_in_flight.values()) <= LIMIT, (web.max_in_flight, overlaps(web))
    assert cluster.queue_drained()


def archiver(cluster: Cluster, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archiver", *args], env=cluster.env, capture_output=True, text=True, timeout=60
    )


def test_a_worker_lost_while_it_sweeps_for_lost_tasks_blocks_the_sweep_seconds_not_minutes(cluster):
    """Each worker sweeps for a dead worker's tasks every second under a lock in Redis; a worker killed
    holding it left the lock for kombu's 300 s, and the tasks it guarded came back only then (a pass
    hung so in CI). The lock a worker takes lives 20 s at most."""
    cluster.start("w1")
    deadline, ttls = time.monotonic() + 60, []
    while not ttls and time.monotonic() < deadline:
        ttl = cluster.redis.pttl("unacked_mutex")  # held for a moment each sweep: caught by polling
        if ttl > 0:
            ttls.append(ttl)
    assert ttls, "no worker took the sweep's lock within a minute"
    assert ttls[0] <= 20_000


def test_status_shows_the_queue_the_workers_and_their_throughput(cluster, web):
    rows = build_web(web)[:12]
    write_sources(cluster.settings.sources, rows)
    with Dispatcher(cluster.settings) as dispatcher:  # queued, no worker yet
        assert dispatcher.tick(timedelta(days=1), retry_base=timedelta(minutes=30)) == 12
        assert dispatcher.tick(timedelta(days=1), retry_base=timedelta(minutes=30)) == 0  # queued once only
    waiting = archiver(cluster, "status")
    assert waiting.returncode == 0, waiting.stderr
    assert "queue: 12 waiting, 0 running" in waiting.stdout
    cluster.start("w1")
    end = time.monotonic() + 60
    while not cluster.queue_drained(wait=0.5):
        assert time.monotonic() < end, cluster.log("w1")
    shown = archiver(cluster, "status")
    assert shown.returncode == 0, shown.stderr
    assert "queue: 0 waiting, 0 running" in shown.stdout
    (line,) = [x for x in shown.stdout.splitlines() if x.startswith("w1@")]
    assert line.split()[1:] == ["yes", "12", "12", "12"]  # answering, tasks, checks in 10 min, in 1 h
    assert "throughput: 12 checks in the last hour" in shown.stdout


@pytest.mark.parametrize("command", ["worker", "status"])
def test_worker_and_status_without_a_broker_say_what_to_set(cluster, command):
    env = {k: v for k, v in cluster.env.items() if k != "ARCHIVER_BROKER_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "archiver", command], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3
    assert "needs ARCHIVER_BROKER_URL" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("command", [["worker"], ["daemon", "--tick", "1"]])
def test_workers_and_their_dispatcher_without_a_shared_store_say_what_to_set(cluster, command):
    env = {k: v for k, v in cluster.env.items() if k != "ARCHIVER_DATABASE_URL"}
    write_sources(cluster.settings.sources, [{"id": "1", "url": "http://h1.test/a"}])
    done = subprocess.run(
        [sys.executable, "-m", "archiver", *command], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3, done.stderr
    assert "needs ARCHIVER_DATABASE_URL" in done.stderr and "Traceback" not in done.stderr


def test_a_broker_that_does_not_answer_is_named_without_its_password(cluster):
    env = {**cluster.env, "ARCHIVER_BROKER_URL": "redis://:hunter2@127.0.0.1:9/0"}
    done = subprocess.run(
        [sys.executable, "-m", "archiver", "status"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 4, done.stderr
    assert "BrokerError" in done.stderr and "127.0.0.1:9" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout and "Traceback" not in done.stderr


def test_a_pass_whose_every_check_failed_before_http_is_offline_and_counts_against_no_citation(cluster, settings):
    rows = [{"id": str(n), "url": f"http://gone{n}.invalid/a"} for n in range(4)]  # no name resolves
    write_sources(cluster.settings.sources, rows)
    cluster.start("w1")
    pass_id = cluster.run_pass(deadline=60, expect=4)

    local = settings.with_(per_host=LIMIT)
    write_sources(local.sources, rows)
    run_check(local, resolver=loopback_resolver)
    shared_store = Store.open(cluster.settings.data_dir, database_url=cluster.settings.database_url)
    with shared_store as shared, Store.open(local.data_dir) as alone:
        assert content(shared) == content(alone)  # the same health as a local offline pass
        offline = shared.db.scalar("SELECT offline FROM passes WHERE id = ?", [pass_id])
        assert offline == alone.db.scalar("SELECT offline FROM passes") == 1
