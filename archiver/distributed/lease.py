"""Politeness across machines: at most `limit` checks of one host at once, whatever the number of
workers, through a lease semaphore in Redis. Per host a sorted set `archiver:host:{host}` of lease
token → expiry; one Lua script drops the expired leases and adds ours when fewer than the limit are
held, on Redis's clock (`TIME`), so the workers' clocks need not agree. A lease is short (`ttl`) and
renewed by its holder every third of it while the check runs, so a worker killed while holding one
frees its slot within `ttl` seconds, however long a check may take."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import redis

from archiver.errors import ArchiverError

_ACQUIRE = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], ms + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 1
end
return 0
"""
# the holder's lease lives on while it holds it: a new expiry, if the lease is still there
_RENEW = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  redis.call('ZADD', KEYS[1], 'XX', ms + tonumber(ARGV[1]), ARGV[2])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
  return 1
end
return 0
"""
POLL = 0.02  # seconds between tries while the host is busy


class HostBusy(ArchiverError):
    """The host's every slot stayed taken for the whole wait: try the task again later."""


def host_of(url: str) -> str:
    """The host a lease is for: the URL's host name, lower-cased (its port apart)."""
    return (urlsplit(url).hostname or url).lower()


class HostLease:
    """Leases on hosts, `limit` at a time per host, held `ttl` seconds at most."""

    def __init__(self, client: redis.Redis, limit: int, ttl: float) -> None:
        self.client = client
        self.limit = limit
        self.ttl_ms = int(ttl * 1000)
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)

    def try_acquire(self, host: str) -> str | None:
        """A lease token when a slot of `host` is free, else None."""
        token = secrets.token_hex(8)
        got = self._acquire(keys=[_key(host)], args=[self.limit, self.ttl_ms, token])
        return token if got == 1 else None

    def release(self, host: str, token: str) -> None:
        self.client.zrem(_key(host), token)

    @contextmanager
    def hold(self, host: str, wait: float) -> Iterator[None]:
        """Hold a slot of `host` for the block; HostBusy when none came free within `wait` seconds."""
        deadline = time.monotonic() + wait
        while (token := self.try_acquire(host)) is None:
            if time.monotonic() >= deadline:
                raise HostBusy(f"{host}: all {self.limit} slot(s) stayed taken for {wait:g}s")
            time.sleep(POLL)
        done = threading.Event()
        renewer = threading.Thread(target=self._keep, args=(host, token, done), daemon=True)
        renewer.start()
        try:
            yield
        finally:
            done.set()
            renewer.join(timeout=self.ttl_ms / 1000)
            self.release(host, token)

    def _keep(self, host: str, token: str, done: threading.Event) -> None:
        while not done.wait(self.ttl_ms / 3000):
            try:
                self._renew(keys=[_key(host)], args=[self.ttl_ms, token])
            except redis.RedisError:  # the broker away for a moment: the next renewal may succeed
                continue


def _key(host: str) -> str:
    return f"archiver:host:{host}"
