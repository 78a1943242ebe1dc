"""The URLs of servers (a PostgreSQL database, a Redis broker): parsed when the settings load, and
shown in messages and logs without their password."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit


def redacted(url: str) -> str:
    """A database or broker URL fit for a message or a log: its password replaced by `***`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)))


def redacted_or_hidden(raw: str) -> str:
    try:
        return redacted(raw)
    except ValueError:
        return "(not shown: it may hold a password)"


SECRETS = ("ARCHIVER_DATABASE_URL", "ARCHIVER_BROKER_URL")


def server_url(*schemes: str) -> Callable[[str], str]:
    """A parser of a server's URL with one of these schemes and a host (a database, a broker)."""

    def parse(raw: str) -> str:
        url = raw.strip()
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
        except ValueError as exc:
            raise ValueError(f"is not a URL ({exc})") from None
        if parts.scheme not in schemes or not parts.hostname:
            raise ValueError(f"must be a {' or '.join(s + '://' for s in schemes)} URL with a host")
        return url

    return parse


__all__ = ["SECRETS", "redacted", "redacted_or_hidden", "server_url"]
