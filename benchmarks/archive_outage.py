"""How long `archiver check` takes, and how much memory, when the Wayback Machine misbehaves.

    python benchmarks/archive_outage.py            # 42 pages, every scenario
    python benchmarks/archive_outage.py --pages 10

Issue 16 measured 1,563 s for the archiving step of a 42-page pass with the archive down, a
`check` still running after 240 s against an archive dripping one byte a second
(`ARCHIVER_WAYBACK_TIMEOUT=10`), and a 2.9 GB `MemoryError` on an endless CDX answer. Each scenario
here runs a real `archiver check` (its own process, so its time and peak memory are its own)
against pages and a misbehaving archive on 127.0.0.1:

- down: nothing listens on the archive's port (connection refused);
- drip: the archive sends its headers, then one byte a second, forever;
- endless: the CDX answer never ends (lines as fast as the socket takes them);
- slow: every answer takes 2 s (under the deadline), with `ARCHIVER_ARCHIVE_BUDGET=30`.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PARAGRAPH = (
    "North Korean troops have been deployed to the Kursk region, according to officials in Seoul, who said "
    "about 15,000 soldiers had been sent since last autumn, in the first deployment of its kind in decades."
)


class Pages(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        body = (
            f"<html><head><title>Story {self.path}</title></head><body><article><h1>Story {self.path}</h1>"
            + "".join(f"<p>{PARAGRAPH} ({self.path}, {n})</p>" for n in range(8))
            + "</article></body></html>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Archive:
    """A raw server that answers every request with `head`, then `chunk` every `pause` seconds."""

    def __init__(self, head: bytes, chunk: bytes, pause: float, limit: int = 10**9) -> None:
        self.head, self.chunk, self.pause, self.limit = head, chunk, pause, limit
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(100)
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.stopped = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.answer, args=(conn,), daemon=True).start()

    def answer(self, conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            conn.sendall(self.head)
            for _ in range(self.limit):
                if self.stopped.is_set():
                    break
                conn.sendall(self.chunk)
                if self.pause:
                    time.sleep(self.pause)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stopped.set()
        self.sock.close()


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def run(pages: int, base: str, **env: str) -> tuple[float, float, str]:
    """One `archiver check` over `pages` pages with the archive at `base`: (seconds, peak MiB, last line)."""
    web = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        sources = Path(tmp) / "sources.csv"
        port = web.server_address[1]
        sources.write_text(
            "id,url\n" + "".join(f"{i},http://127.0.0.1:{port}/story/{i}\n" for i in range(1, pages + 1))
        )
        environ = {
            **os.environ,
            "ARCHIVER_ALLOW_PRIVATE": "127.0.0.1/32",
            "ARCHIVER_WAYBACK": "1",
            "ARCHIVER_WAYBACK_URL": base,
            "ARCHIVER_WAYBACK_INTERVAL": "0",
            **env,
        }
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "archiver", "--data-dir", f"{tmp}/data", "--sources", str(sources), "check"],
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        output = proc.stdout.read().decode() if proc.stdout else ""
        _pid, _status, usage = os.wait4(proc.pid, 0)
        elapsed = time.monotonic() - started
    web.shutdown()
    web.server_close()
    lines = [
        line for line in output.splitlines() if line.startswith("wayback:") or "unreachable" in line or "budget" in line
    ]
    return elapsed, usage.ru_maxrss / 1024, " | ".join(lines)[-300:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=42)
    args = parser.parse_args()
    http_ok = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"
    line = b"com,example)/ 20200101000000 https://example.com/ text/html 200 ABCDEFGHIJKLMNOPQRSTUVWXYZ234567 1234\n"
    never = 10**9
    scenarios: list[tuple[str, tuple[bytes, bytes, float, int] | None, dict[str, str]]] = [
        ("down (connection refused)", None, {}),
        (
            "drip (1 byte/s), ARCHIVER_WAYBACK_TIMEOUT=10",
            (http_ok, b" ", 1.0, never),
            {"ARCHIVER_WAYBACK_TIMEOUT": "10"},
        ),
        ("endless CDX answer", (http_ok, line * 4000, 0.0, never), {}),
        # one short answer, then 2 s before the connection closes: under the deadline, but they add up
        (
            "slow (2 s an answer), ARCHIVER_ARCHIVE_BUDGET=30",
            (http_ok, b"{}", 2.0, 1),
            {"ARCHIVER_ARCHIVE_BUDGET": "30"},
        ),
    ]
    print(f"{args.pages} pages; `archiver check` with the archive ...")
    for name, behaviour, env in scenarios:
        archive = Archive(*behaviour) if behaviour else None
        base = archive.base if archive else closed_port()
        try:
            seconds, mib, said = run(args.pages, base, **env)
        finally:
            if archive:
                archive.close()
        print(f"  {name:<50} {seconds:7.1f} s  peak {mib:6.0f} MiB   {said}")


if __name__ == "__main__":
    main()
