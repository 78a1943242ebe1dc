"""The per-host limit across machines (archiver/distributed/lease.py) on a real Redis: every holder
shares a host's slots, a released slot is free at once, a dead holder's slot frees itself when its
lease expires, and a live holder keeps its slot however long its check takes."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from archiver.distributed.lease import HostBusy, HostLease, host_of

pytest_plugins = ["services"]


@pytest.fixture
def client(redis_url):
    made = redis.Redis.from_url(redis_url, socket_timeout=10)
    yield made
    made.close()


def test_a_hosts_slots_are_shared_by_every_holder(client, redis_url):
    one, other = HostLease(client, 2, ttl=30), HostLease(redis.Redis.from_url(redis_url), 2, ttl=30)
    first, second = one.try_acquire("news.test"), other.try_acquire("news.test")
    assert first and second
    assert one.try_acquire("news.test") is None and other.try_acquire("news.test") is None
    assert one.try_acquire("blog.test") is not None  # another host has slots of its own
    other.release("news.test", second)
    assert one.try_acquire("news.test") is not None


def test_a_dead_holders_slot_frees_itself_when_its_lease_expires(client):
    lease = HostLease(client, 1, ttl=1.0)
    assert lease.try_acquire("news.test") is not None  # held by a worker then killed: never released
    assert lease.try_acquire("news.test") is None
    started = time.monotonic()
    with lease.hold("news.test", wait=5):
        waited = time.monotonic() - started
    assert 0.5 < waited < 2.5


def test_a_live_holder_keeps_its_slot_past_the_lease_time_and_a_waiter_gives_up_at_its_deadline(client):
    lease = HostLease(client, 1, ttl=0.6)
    inside, leave = threading.Event(), threading.Event()

    def long_check() -> None:
        with lease.hold("news.test", wait=5):
            inside.set()
            leave.wait(10)

    holder = threading.Thread(target=long_check)
    holder.start()
    assert inside.wait(5)
    started = time.monotonic()
    with pytest.raises(HostBusy, match="news.test: all 1 slot"), lease.hold("news.test", wait=2.0):
        pass
    assert time.monotonic() - started >= 2.0  # three lease times: the holder renewed its lease
    leave.set()
    holder.join(5)
    with lease.hold("news.test", wait=1.0):
        pass


def test_a_lease_is_per_host_name_whatever_the_port_or_case():
    assert host_of("http://News.Test:8080/a") == host_of("https://news.test/b") == "news.test"
