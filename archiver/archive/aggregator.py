"""Asking Memento endpoints for the captures of a URL: an aggregator (the Time Travel service of the
Memento project answers for every public web archive at once), a TimeMap or a TimeGate, our own
`archiver serve` included."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urljoin, urlsplit

from archiver.archive.memento import Memento, format_http_date, mementos_in, parse_links
from archiver.archive.session import ArchiveSession


async def look_up(session: ArchiveSession, endpoint: str, url: str, when: datetime | None) -> list[Memento] | None:
    """The mementos of `url` that a Memento endpoint knows; None when it could not be asked.

    `endpoint` is a URL prefix to which the original URL is appended: a TimeMap
    (`…/timemap/link/`) answers with link format, a TimeGate (`…/timegate/`) with a redirect to the
    memento closest to `Accept-Datetime`, whose `Link` header may name a TimeMap on the same host.
    """
    headers = {"Accept": "application/link-format", **({"Accept-Datetime": format_http_date(when)} if when else {})}
    answer = await session.request("GET", endpoint + url, headers=headers)
    if answer.status == 404:
        return []
    if 300 <= answer.status < 400:
        links = parse_links(answer.header("link"))
        timemap = next((link.url for link in links if "timemap" in link.rels), "")
        origin = urlsplit(endpoint)
        if timemap and urlsplit(urljoin(endpoint, timemap))[:2] == origin[:2]:
            listed = await session.request("GET", urljoin(endpoint, timemap), headers=headers)
            if listed.status == 200:
                return mementos_in(parse_links(listed.body.decode("utf-8", "replace")))
        location = urljoin(endpoint, answer.header("location"))
        chosen = [m for m in mementos_in(links) if m.url == location]
        return chosen or mementos_in(links)
    if answer.status != 200:
        return None
    return mementos_in(parse_links(answer.body.decode("utf-8", "replace")))
