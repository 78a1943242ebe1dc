"""A fake Wayback Machine on 127.0.0.1: SPN2 jobs, the anonymous capture, CDX, availability,
archived pages, and faults (429 with Retry-After, 5xx, stalls), all inspectable by tests."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from simweb import Response, Seen, SimWeb


@dataclass
class Job:
    url: str
    polls_left: int  # "pending" answers before the outcome
    outcome: str = "success"  # or an error status_ext such as "error:blocked"
    timestamp: str = ""


@dataclass
class FakeWayback:
    web: SimWeb = field(default_factory=SimWeb)
    jobs: dict[str, Job] = field(default_factory=dict)
    cdx: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # url -> [(timestamp, status)]
    pages: dict[tuple[str, str], bytes] = field(default_factory=dict)  # (timestamp, url) -> body
    submit_faults: list[Response] = field(default_factory=list)  # answered first, one per submission
    submit_refusal: str = ""  # status_ext returned (HTTP 200) instead of a job
    polls_before_success: int = 1
    stall: float = 0.0  # seconds every answer waits
    clock: Callable[[], str] = field(default=lambda: time.strftime("%Y%m%d%H%M%S", time.gmtime()))
    snapshot: Callable[[str], bytes] | None = None  # what a capture of a URL archives
    spn1_headers: bool = False  # answer an anonymous save the old way: the capture in its headers
    _counter: int = 0

    def __post_init__(self) -> None:
        self.web.fallback = self._answer

    @property
    def base(self) -> str:
        return self.web.url("")

    def close(self) -> None:
        self.web.close()

    def submissions(self) -> list[Seen]:
        return [r for r in self.web.requests if r.path.startswith("/save") and not r.path.startswith("/save/status")]

    def archive(self, url: str, timestamp: str, body: bytes | str, status: int = 200) -> None:
        """A capture the archive already holds."""
        self.cdx.setdefault(url, []).append((timestamp, status))
        self.pages[(timestamp, url)] = body.encode() if isinstance(body, str) else body

    def _answer(self, seen: Seen) -> Response:
        if self.stall:
            time.sleep(self.stall)
        parts = urlsplit(seen.path)
        query = parse_qs(parts.query)
        path = parts.path
        if path == "/save" and seen.method == "POST":
            return self._submit(parse_qs(seen.body.decode())["url"][0], seen)
        if path == "/save/status/user":
            return _json({"available": 4, "processing": len([j for j in self.jobs.values() if j.polls_left])})
        if path.startswith("/save/status/"):
            return self._status(path.removeprefix("/save/status/"))
        if path.startswith("/save/"):
            original = unquote(seen.path.removeprefix("/save/"))
            fault = self._fault()
            if fault:
                return fault
            if self.submit_refusal:
                return _json({"status": "error", "status_ext": self.submit_refusal, "message": "refused"})
            if not self.spn1_headers and "json" in seen.headers.get("accept", ""):
                return self._new_job(original)  # keyless SPN2: a job id, as with keys
            stamp = self._capture(original)
            return Response(
                200,
                b"<html>captured</html>",
                {"Content-Type": "text/html", "Content-Location": f"/web/{stamp}/{original}"},
            )
        if path == "/cdx/search/cdx":  # the default text output: urlkey timestamp original mime status digest length
            url = query["url"][0]
            wanted = re.compile(query["filter"][0].split(":", 1)[1]) if "filter" in query else None
            lines = [
                f"key {ts} {url} text/html {st} SHA1 1000\n"
                for ts, st in sorted(self.cdx.get(url, []))
                if wanted is None or wanted.fullmatch(str(st))
            ]
            return Response(200, "".join(lines).encode(), {"Content-Type": "text/plain"})
        if path == "/wayback/available":
            return _json({"archived_snapshots": {}})  # as the real one so often answers
        if path.startswith("/web/"):
            stamp, _, original = seen.path.removeprefix("/web/").partition("/")
            body = self.pages.get((stamp.removesuffix("id_"), original))
            if body is None:
                return Response(404, b"<html><h1>Wayback Machine</h1><p>Hrm. This page is not archived.</p></html>")
            return Response(200, body, {"Content-Type": "text/html"})
        return Response(404, b"not found")

    def _fault(self) -> Response | None:
        return self.submit_faults.pop(0) if self.submit_faults else None

    def _submit(self, url: str, seen: Seen) -> Response:
        fault = self._fault()
        if fault:
            return fault
        if self.submit_refusal:
            return _json({"status": "error", "status_ext": self.submit_refusal, "message": "refused"})
        return self._new_job(url)

    def _new_job(self, url: str) -> Response:
        self._counter += 1
        job_id = f"spn2-{self._counter:04d}"
        self.jobs[job_id] = Job(url, self.polls_before_success)
        return _json({"url": url, "job_id": job_id})

    def _status(self, job_id: str) -> Response:
        job = self.jobs.get(job_id)
        if job is None:
            return _json({"status": "error", "status_ext": "error:not-found", "message": "no such job"})
        if job.polls_left > 0:
            job.polls_left -= 1
            return _json({"status": "pending", "job_id": job_id})
        if job.outcome != "success":
            return _json({"status": "error", "status_ext": job.outcome, "job_id": job_id, "message": "failed"})
        if not job.timestamp:
            job.timestamp = self._capture(job.url)
        return _json({"status": "success", "job_id": job_id, "timestamp": job.timestamp, "original_url": job.url})

    def _capture(self, url: str) -> str:
        stamp = self.clock()
        self.cdx.setdefault(url, []).append((stamp, 200))
        if self.snapshot is not None:
            self.pages[(stamp, url)] = self.snapshot(url)
        return stamp


def _json(data: object) -> Response:
    return Response(200, json.dumps(data).encode(), {"Content-Type": "application/json"})
