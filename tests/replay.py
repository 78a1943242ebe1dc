"""A web archive on 127.0.0.1 that answers with responses recorded from the real services.

Each file of `tests/recorded/` holds the exchanges of one recording (request, then status, reason,
headers and body as received) and, beside them, where they were recorded (`source`). A request is
answered by the recording whose recorded path it matches (exactly; by prefix when the recording
says `"match": {"prefix": true}`, the longest prefix winning; with the same `url` query parameter
when it says `"match": {"query": "url"}`). Exchanges of one recording are served in order, the last
one again once all were served. Anything else is a 404, as the archive answers for what it lacks.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from simweb import Response, Seen, SimWeb

RECORDED = Path(__file__).parent / "recorded"
_HOP_BY_HOP = {"transfer-encoding", "connection", "content-length", "keep-alive"}


@dataclass
class _Recording:
    name: str
    path: str
    query_url: str | None
    prefix: bool
    responses: list[Response]
    served: int = 0


@dataclass
class ReplayArchive:
    names: tuple[str, ...]
    web: SimWeb = field(default_factory=SimWeb)
    served: list[tuple[str, str, int]] = field(default_factory=list)  # (method, path, status)

    def __post_init__(self) -> None:
        self._recordings: list[_Recording] = []
        for name in self.names:
            doc = json.loads((RECORDED / name).read_text("utf-8"))
            match = doc.get("match", {})
            by_path: dict[tuple[str, str | None], _Recording] = {}
            for exchange in doc["exchanges"]:
                uri = urlsplit(exchange["request"]["uri"])
                query_url = parse_qs(uri.query).get("url", [""])[0] if match.get("query") == "url" else None
                key = (uri.path, query_url)
                if key not in by_path:
                    by_path[key] = _Recording(name, uri.path, query_url, bool(match.get("prefix")), [])
                    self._recordings.append(by_path[key])
                response = exchange["response"]
                headers = {k: v for k, v in response["headers"] if k.lower() not in _HOP_BY_HOP}
                by_path[key].responses.append(
                    Response(response["status"], base64.b64decode(response["body_base64"]), headers)
                )
        self.web.fallback = self._answer

    @property
    def base(self) -> str:
        return self.web.url("").rstrip("/")

    def close(self) -> None:
        self.web.close()

    def _answer(self, seen: Seen) -> Response:
        parts = urlsplit(seen.path)
        url = parse_qs(parts.query).get("url", [""])[0]
        matching = [
            r
            for r in self._recordings
            if (seen.path.startswith(r.path) if r.prefix else parts.path == r.path)
            and (r.query_url is None or r.query_url == url)
        ]
        if not matching:
            self.served.append((seen.method, seen.path, 404))
            return Response(
                404, b"<html><body><p>Not in the recordings.</p></body></html>", {"Content-Type": "text/html"}
            )
        recording = max(matching, key=lambda r: len(r.path))
        response = recording.responses[min(recording.served, len(recording.responses) - 1)]
        recording.served += 1
        self.served.append((seen.method, seen.path, response.status))
        return response
