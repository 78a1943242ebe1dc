"""The fetcher against real sockets on loopback: limits, redirects, the address guard."""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading

import pytest
from conftest import loopback_resolver
from simweb import LOREM, Response, SimWeb, article

from archiver import __version__
from archiver.config import Settings
from archiver.fetch import AddressGuard, Fetcher
from archiver.models import Outcome, Validators


def fetch(settings: Settings, url: str, validators: Validators | None = None, resolver=loopback_resolver):
    async def go():
        async with Fetcher(settings.fetch_settings, resolver=resolver) as f:
            return await f.fetch(url, validators)

    return asyncio.run(go())


def test_user_agent_names_the_service_and_its_version(web, settings):
    url = web.page("/a", article("A", *LOREM))
    result = fetch(settings, url)
    assert result.outcome == Outcome.OK and result.status == 200
    assert web.requests[0].headers["user-agent"].startswith(f"citation-archiver/{__version__} ")


def test_guard_refuses_loopback_by_default_and_nothing_is_sent(web, settings):
    url = web.page("/a", article("A", *LOREM))
    result = fetch(Settings(data_dir=settings.data_dir), url)
    assert result.outcome == Outcome.REFUSED_ADDRESS
    assert "127.0.0.1" in result.error
    assert web.requests == []


def test_guard_checks_the_resolved_address_of_a_public_looking_name(web):
    url = web.page("/a", article("A", *LOREM))

    async def evil_dns(host, port):
        return ["127.0.0.1"]  # a "public" name that resolves to loopback

    result = fetch(Settings(), url.replace("127.0.0.1", "innocent.example.com"), resolver=evil_dns)
    assert result.outcome == Outcome.REFUSED_ADDRESS
    assert web.requests == []


def test_guard_applies_to_every_redirect_hop(web, settings):
    other = SimWeb(host="127.0.0.2")  # loopback too, but not in the allowed network
    try:
        secret = other.page("/secret", "metadata")
        web.redirect("/hop", secret)
        result = fetch(settings, web.url("/hop"))
        assert result.outcome == Outcome.REFUSED_ADDRESS
        assert [h.location for h in result.redirects] == [secret]
        assert other.requests == []
    finally:
        other.close()


@pytest.mark.parametrize(
    "address,public",
    [
        ("93.184.216.34", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("224.0.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("240.0.0.1", False),
        # addresses that embed another, judged by what they embed
        ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::1", False),  # 6to4 of 169.254.169.254
        ("2002:5db8:d822::1", True),  # 6to4 of a public address
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of the metadata address
        ("64:ff9b::5db8:d822", True),  # NAT64 of a public address
        ("64:ff9b:1::a00:1", False),  # local-use NAT64
        ("::ffff:10.0.0.1", False),  # IPv4-mapped
        ("::127.0.0.1", False),  # IPv4-compatible (deprecated)
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo whose client is 192.0.2.45
        ("2001:0:5db8:d822:0:0:a247:2ddd", True),  # Teredo between public addresses
        # special-purpose ranges Python's tables call global
        ("fec0::1", False),  # site-local
        ("192.0.0.8", False),  # IETF protocol assignments
        ("192.0.0.170", False),
        ("192.88.99.1", False),  # retired 6to4 relay
        ("3fff::1", False),  # documentation
        ("5f00::1", False),  # segment routing
    ],
)
def test_guard_classifies_addresses(address, public):
    assert AddressGuard().permits(address) is public
    assert AddressGuard(allow_all=True).permits(address) is True


@pytest.mark.parametrize(
    "embedding", ["2002:7f00:1::1", "64:ff9b::7f00:1", "2001:0:4136:e378:8000:63bf:80ff:fffe", "fec0::1", "192.0.0.8"]
)
def test_guard_refuses_a_name_resolving_to_an_address_that_embeds_loopback(web, settings, embedding):
    """Even with 127.0.0.1 allowed, a name resolving to an IPv6 form of it (or another closed
    range) is refused before any connection: nothing reaches the server."""
    url = web.page("/a", article("A", *LOREM))

    async def evil_dns(host, port):
        return [embedding]

    result = fetch(settings, url.replace("127.0.0.1", "innocent.example.com"), resolver=evil_dns)
    assert result.outcome == Outcome.REFUSED_ADDRESS and embedding in result.error
    assert web.requests == []


def test_redirect_loop_is_named(web, settings):
    web.redirect("/a", "/b")
    web.redirect("/b", "/a")
    result = fetch(settings, web.url("/a"))
    assert result.outcome == Outcome.REDIRECT_LOOP
    assert len(result.redirects) == 2


def test_too_many_redirects_stops_at_the_limit(web, settings):
    for i in range(20):
        web.redirect(f"/r{i}", f"/r{i + 1}", 302)
    result = fetch(settings.with_(max_redirects=5), web.url("/r0"))
    assert result.outcome == Outcome.TOO_MANY_REDIRECTS and len(result.redirects) == 6
    assert web.hits("/r7") == 0


def test_total_timeout_cuts_a_slow_server(web, settings):
    url = web.set("/slow", Response(200, b"late", {"Content-Type": "text/html"}, delay=3))
    result = fetch(settings.with_(total_timeout=0.5), url)
    assert result.outcome == Outcome.TIMEOUT
    assert result.elapsed_ms < 2500


def test_body_over_the_cap_is_refused(web, settings):
    url = web.page("/big", b"<p>" + b"x" * 200_000 + b"</p>")
    assert fetch(settings.with_(max_body_bytes=100_000), url).outcome == Outcome.TOO_LARGE


def test_gzip_bomb_stops_at_the_cap_after_decompression(web, settings):
    bomb = gzip.compress(b"\0" * 50_000_000)  # ~50 KB on the wire, 50 MB inflated
    url = web.set("/bomb", Response(200, bomb, {"Content-Type": "text/html", "Content-Encoding": "gzip"}))
    result = fetch(settings.with_(max_body_bytes=1_000_000), url)
    assert result.outcome == Outcome.TOO_LARGE and result.body == b""


def test_gzip_body_is_decoded(web, settings):
    url = web.set(
        "/gz",
        Response(200, article("Zipped", *LOREM).encode(), {"Content-Type": "text/html", "Content-Encoding": "gzip"}),
    )
    result = fetch(settings, url)
    assert result.outcome == Outcome.OK and b"Zipped" in result.body


def test_connection_refused_is_named(settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connections are refused
        result = fetch(settings, f"http://127.0.0.1:{port}/")
    assert result.outcome == Outcome.CONNECT_ERROR


def test_reset_mid_response_is_named(settings):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()

        def serve():
            conn, _ = server.accept()
            conn.recv(1024)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")
            conn.close()

        threading.Thread(target=serve, daemon=True).start()
        result = fetch(settings, f"http://127.0.0.1:{server.getsockname()[1]}/")
    assert result.outcome == Outcome.RESET


def test_unsupported_scheme_is_a_bad_url(settings):
    assert fetch(settings, "file:///etc/passwd").outcome == Outcome.BAD_URL


def test_per_host_and_overall_concurrency_are_limited(web, settings):
    urls = []
    for i in range(6):
        for host in ("a.test", "b.test"):
            urls.append(web.set(web.url(f"/p{i}", host), Response(200, b"<p>x</p>", delay=0.2)))

    async def go():
        async with Fetcher(settings.with_(per_host=2, concurrency=3).fetch_settings, resolver=loopback_resolver) as f:
            return await asyncio.gather(*(f.fetch(u) for u in urls))

    results = asyncio.run(go())
    assert all(r.outcome == Outcome.OK for r in results)
    assert web.max_in_flight["a.test"] <= 2 and web.max_in_flight["b.test"] <= 2
    assert sum(web.max_in_flight.values()) >= 3  # both hosts were served at once


def test_connections_are_kept_alive_for_the_next_page_of_their_site(web, settings):
    """A site cited many times is connected to once per slot, not once per page: more connections
    open (hosts × per-host limit) than the overall concurrency must not make the pool drop each
    one once it is idle (httpcore 1.0.9 compared its keep-alive limit with every connection it held,
    idle or busy: a pass then opened a new connection, and over TLS shook hands, for every URL)."""
    hosts = [f"site{n}.test" for n in range(5)]
    urls = [web.set(web.url(f"/p{i}", h), Response(200, b"<p>x</p>", delay=0.05)) for i in range(6) for h in hosts]

    async def go():
        async with Fetcher(settings.with_(per_host=2, concurrency=4).fetch_settings, resolver=loopback_resolver) as f:
            queue = iter(urls)

            async def runner():
                return [await f.fetch(u) for u in queue]

            return [r for rs in await asyncio.gather(*(runner() for _ in range(4))) for r in rs]

    results = asyncio.run(go())
    assert len(results) == 30 and all(r.outcome == Outcome.OK for r in results)
    assert web.connections <= len(hosts) * 2  # at most one per slot of each site (was 30: one per page)


def test_the_per_host_limit_counts_each_origin_scheme_host_and_port(web, settings):
    """Two ports of one host are two origins: each gets its own slots, and neither gets more."""
    other = SimWeb()
    try:
        urls = [site.set(site.url(f"/p{i}", "a.test"), Response(200, b"<p>x</p>", delay=0.3))
                for i in range(2) for site in (web, other)]  # fmt: skip

        async def go():
            async with Fetcher(
                settings.with_(per_host=1, concurrency=4).fetch_settings, resolver=loopback_resolver
            ) as f:
                return await asyncio.gather(*(f.fetch(u) for u in urls))

        assert all(r.outcome == Outcome.OK for r in asyncio.run(go()))
    finally:
        other.close()
    assert web.max_in_flight["a.test"] == 1 and other.max_in_flight["a.test"] == 1  # one at a time per origin
    first_a, first_b = web.requests[0].at, other.requests[0].at
    assert abs(first_a - first_b) < 0.3  # the second origin did not wait for the first one's slot


def test_cookies_do_not_carry_over_between_fetches(web, settings):
    def meter(seen):
        return Response(
            200,
            f"<p>{seen.headers.get('cookie', 'none')}</p>".encode(),
            {"Content-Type": "text/html", "Set-Cookie": "meter=1; Path=/"},
        )

    url = web.set("/metered", meter)

    async def go():
        async with Fetcher(settings.fetch_settings, resolver=loopback_resolver) as f:
            return [await f.fetch(url), await f.fetch(url)]

    first, second = asyncio.run(go())
    assert b"none" in first.body and b"none" in second.body
