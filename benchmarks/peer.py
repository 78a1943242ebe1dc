"""changedetection.io on the benchmark's simulated web: what a user would run instead of the service.

It is installed from PyPI, when asked, in its own virtual environment under a cache directory
(never in the project's), and started with its own scheduler and default fetcher (plain HTTP
requests, no browser), `FETCH_WORKERS` fetch workers, log level WARNING, and
`ALLOW_IANA_RESTRICTED_ADDRESSES=true` (the simulated hosts live on 127.0.0.0/8). Its default
watches are deleted; the benchmark's URLs go in through its API (`POST /api/v1/import`) by IP
literal: changedetection.io resolves every host name with the system resolver before it fetches,
and no name may be looked up outside the machine. The caller runs it inside a network namespace
that has only loopback (see benchmarks/real.py).

A pass is timed from the import (or the `recheck_all` call) until every watch has been checked
after it; the changes it reports are the watches whose `last_changed` moved in the pass.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from proctree import TreeSampler

CHANGEDETECTION = "changedetection.io==0.60.10"  # pinned: the figures are this version's
INSTALL_SECONDS = 1800
START_SECONDS = 180
POLL_SECONDS = 0.5
STALL_SECONDS = 10


class PeerError(Exception):
    """The peer could not be installed, started or driven; the message says which and why."""


def default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "archiver-bench"


def changedetection_venv(cache: Path | None, install: bool) -> Path:
    """The virtual environment holding changedetection.io, installed first when `install`."""
    venv = (cache or default_cache()) / ("changedetection-" + CHANGEDETECTION.split("==")[1])
    marker = venv / ".installed"
    if marker.is_file():
        return venv
    if not install:
        raise PeerError(f"changedetection.io is not installed in {venv}")
    print(f"installing {CHANGEDETECTION} into {venv} (once; a few minutes)", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        done = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--disable-pip-version-check", "-q", CHANGEDETECTION],
            capture_output=True,
            text=True,
            timeout=INSTALL_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise PeerError(f"installing {CHANGEDETECTION} took more than {exc.timeout:g}s") from None
    except (OSError, subprocess.CalledProcessError) as exc:
        raise PeerError(f"cannot create a virtual environment in {venv}: {exc}") from None
    if done.returncode != 0:
        tail = "\n".join(line for line in done.stderr.splitlines() if "Location 'file:" not in line)[-2000:]
        raise PeerError(f"pip could not install {CHANGEDETECTION} (exit {done.returncode}):\n{tail}")
    marker.write_text(CHANGEDETECTION + "\n")
    return venv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ChangeDetection:
    """A running changedetection.io, stopped by `close()` (by its pid: it is our own child)."""

    def __init__(self, venv: Path, datastore: Path, workers: int) -> None:
        datastore.mkdir(parents=True, exist_ok=True)
        self.datastore = datastore
        self.port = _free_port()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(datastore),
            "LANG": "C.UTF-8",
            "ALLOW_IANA_RESTRICTED_ADDRESSES": "true",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no price list fetched at import
            "LOGGER_LEVEL": "WARNING",
            "FETCH_WORKERS": str(workers),
        }
        self.log = (datastore / "changedetection.log").open("wb")
        script = venv / "bin" / "changedetection.py"
        self.process = subprocess.Popen(
            [str(venv / "bin" / "python"), str(script), "-d", str(datastore), "-p", str(self.port), "-h", "127.0.0.1"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", trust_env=False, timeout=60)
        try:
            self.key = self._wait_ready()
        except BaseException:
            self.close()  # it never became usable: stop it, or it outlives the benchmark
            raise

    def _wait_ready(self) -> str:
        deadline = time.monotonic() + START_SECONDS
        settings = self.datastore / "changedetection.json"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PeerError(f"changedetection.io exited with status {self.process.returncode}; see {self.log.name}")
            try:
                key = json.loads(settings.read_text())["settings"]["application"]["api_access_token"]
                if self.client.get("/api/v1/systeminfo", headers={"x-api-key": key}).status_code == 200:
                    return str(key)
            except (OSError, ValueError, KeyError, httpx.HTTPError):
                pass
            time.sleep(POLL_SECONDS)
        raise PeerError(f"changedetection.io did not answer its API within {START_SECONDS}s; see {self.log.name}")

    def api(self, method: str, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        """One API call. A read answered 500 is asked again (for up to 5 minutes): while an import
        adds watches in the background, its listings race it ("dictionary changed size during
        iteration")."""
        deadline = time.monotonic() + 300
        while True:
            response = self.client.request(method, path, headers={"x-api-key": self.key, **(headers or {})}, **kw)
            if response.status_code < 400:
                return response.json() if response.content else None
            if method != "GET" or response.status_code < 500 or time.monotonic() > deadline:
                raise PeerError(
                    f"changedetection.io answered {method} {path} with {response.status_code}: {response.text[:300]}"
                )
            time.sleep(POLL_SECONDS)

    def watches(self) -> dict[str, dict[str, Any]]:
        return dict(self.api("GET", "/api/v1/watch"))

    def count(self) -> int:
        """How many watches it holds."""
        return int(self.api("GET", "/api/v1/systeminfo")["watch_count"])

    def close(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()


def _idle(cd: ChangeDetection, deadline: float) -> None:
    """Nothing left in its queue (`recheck_all` skips a watch that is queued or still running)."""
    while True:
        info = cd.api("GET", "/api/v1/systeminfo")
        if not info.get("queue_size"):
            return
        if time.monotonic() > deadline:
            raise PeerError(f"changedetection.io still had {info.get('queue_size')} watches queued at the deadline")
        time.sleep(POLL_SECONDS)


def _wait_checked(cd: ChangeDetection, n: int, since: float, deadline: float) -> dict[str, dict[str, Any]]:
    """Every watch once checked at or after `since` (a whole second, as it records them). A watch
    left behind while nothing else moves for STALL_SECONDS is asked for again by itself."""
    while cd.count() < n:  # the import adds them in the background; listing meanwhile races it
        if time.monotonic() > deadline:
            raise PeerError(f"changedetection.io imported {cd.count()} of {n} URLs before the deadline")
        time.sleep(POLL_SECONDS)
    done_before, moved = -1, time.monotonic()
    while True:
        watches = cd.watches()
        left = [uuid for uuid, w in watches.items() if (w.get("last_checked") or 0) < since]
        if len(watches) >= n and not left:
            return watches
        if time.monotonic() > deadline:
            raise PeerError(f"changedetection.io checked {n - len(left)} of {n} watches before the deadline")
        if len(left) != done_before:
            done_before, moved = len(left), time.monotonic()
        elif time.monotonic() - moved > STALL_SECONDS:
            for uuid in left:
                cd.api("GET", f"/api/v1/watch/{uuid}", params={"recheck": "1"})
            moved = time.monotonic()
        time.sleep(POLL_SECONDS)


def run_changedetection(venv: Path, web: Any, n: int, workers: int, datastore: Path, phase: Any) -> dict[str, Any]:
    """Both passes of the benchmark, by changedetection.io; `phase` is real.py's Phase."""
    cd = ChangeDetection(venv, datastore, workers)
    result: dict[str, Any] = {"name": "changedetection", "version": CHANGEDETECTION, "fetch_workers": workers}
    try:
        for uuid in cd.watches():  # a new datastore comes with example watches of public sites
            cd.api("DELETE", f"/api/v1/watch/{uuid}")
        result["passes"] = []
        for label, generation in (("first", 0), ("re-check", 1)):
            web.set_generation(generation)
            _idle(cd, time.monotonic() + 600)
            time.sleep(1.1)  # the next whole second: `last_checked` has a one-second grain
            measure = phase(web)
            sampler = TreeSampler(cd.process.pid)
            cpu0 = sampler.tree_cpu()
            since, t0 = int(time.time()), time.monotonic()
            if label == "first":
                body = "\n".join(web.ip_url(k) for k in range(n))
                cd.api("POST", "/api/v1/import", content=body.encode(), headers={"content-type": "text/plain"})
            else:
                cd.api("GET", "/api/v1/watch", params={"recheck_all": "1"})
            watches = _wait_checked(cd, n, since, time.monotonic() + max(600.0, n * 0.6))
            wall = time.monotonic() - t0
            cpu = sampler.tree_cpu() - cpu0
            peaks = sampler.stop()
            q: dict[str, Any] = {
                "pass": label,
                "pages": n,
                "seconds": wall,
                "cpu_s": cpu,
                "cpu_ms_per_page": cpu * 1000 / n,
                "errors": sum(1 for w in watches.values() if w.get("last_error")),
                "error_examples": sorted({str(w["last_error"])[:120] for w in watches.values() if w.get("last_error")})[
                    :5
                ],
                "peak_tree_rss_mib": peaks.tree_rss,
                "peak_tree_pss_mib": peaks.tree_pss,
                "peak_processes": peaks.processes,
            }
            if label != "first":
                q["changes_reported"] = sum(1 for w in watches.values() if (w.get("last_changed") or 0) >= since)
            q.update(measure.end(cpu))
            result["passes"].append(q)
            print(
                f"  changedetection {label:<10} {wall:7.1f} s  CPU {q['cpu_ms_per_page']:5.1f} ms/page  errors "
                f"{q['errors']}  changes reported {q.get('changes_reported', '-')}  max in flight per origin "
                f"{q['server']['max_in_flight_any_origin']}  peak {peaks.tree_rss:.0f} MiB",
                flush=True,
            )
    finally:
        cd.close()
    return result
