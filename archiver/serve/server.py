"""The HTTP server of `archiver serve`: at most `max_connections` connections served at once (more
are answered 503), each closed after `idle_timeout` seconds of silence."""

from __future__ import annotations

import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger("archiver.serve")

MAX_CONNECTIONS = 32  # requests served at once; more wait for nobody: they get a 503 at once
IDLE_TIMEOUT = 10.0  # seconds a connection may send nothing before it is closed


class BoundedServer(ThreadingHTTPServer):
    """One thread per connection, but at most `max_connections` of them; a connection past the
    bound is answered 503 from the accepting thread and closed, so 500 half-sent requests never
    make 500 threads. Idle connections are closed after the handler's `timeout`."""

    daemon_threads = True
    request_queue_size = 128  # the kernel's accept queue: a burst waits there instead of retrying SYNs

    def __init__(self, address: tuple[str, int], max_connections: int) -> None:
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, BaseHTTPRequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            _busy(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.warning("connection from %s ended with an error", client_address[0] if client_address else "?")


def _busy(sock: socket.socket) -> None:
    """Answer 503 without waiting: a client that does not read loses the answer, not our time."""
    try:
        sock.setblocking(False)
        sock.send(
            b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: text/plain\r\n"
            b"Content-Length: 22\r\nConnection: close\r\n\r\ntoo many connections\r\n"
        )
    except OSError:
        pass
