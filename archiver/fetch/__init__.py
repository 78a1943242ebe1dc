"""Fetching cited pages: bounded in time and size, guarded against private addresses.

- `guard`      which addresses may be connected to; names resolved by our resolver
- `transport`  the guard as an httpx transport (an httpcore pool with a guarded network backend)
- `body`       reading a body within the cap, counted after decompression
- `errors`     the one table from exceptions to recorded outcomes
- `client`     `Fetcher`: `fetch` (redirects followed) and `exchange` (one request)
"""

from archiver.fetch.client import ACCEPT_LANGUAGE, Fetcher
from archiver.fetch.guard import AddressGuard, AddressRefused, DNSFailure, Resolver, system_resolver

__all__ = ["ACCEPT_LANGUAGE", "AddressGuard", "AddressRefused", "DNSFailure", "Fetcher", "Resolver", "system_resolver"]
