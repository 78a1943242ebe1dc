"""`archiver annotate`: an article written back with each citation's best verified archived copy, in
the article's own format (`formats.annotate`: every other byte unchanged). Reads the store only.

Each citation of the file is found in the store by its URL (as cited, or its canonical form): its
watched URL's verified captures give the copy closest to the date the file says it was cited (else
the store's), and its health what Wikipedia's `url-status` says of the original link (`link_status`).
A citation the store does not watch, or whose page has no verified copy, is left as it is and listed."""

from __future__ import annotations

import codecs
from datetime import datetime
from pathlib import Path

from archiver.archive.selection import best_capture
from archiver.errors import SourceError
from archiver.formats import Annotated, ArchivedCopy, LinkStatus, annotate, detect_format, parse, read_article
from archiver.importing import LIMITS
from archiver.models import Health, HealthStatus
from archiver.models.time import parse_date
from archiver.store import Store
from archiver.urls import host_of, is_http_url


def annotate_file(store: Store, path: Path, *, templates: bool = False) -> Annotated:
    """The article at `path` with its archived copies written in (nothing is written to disk here)."""
    text = read_article(path, LIMITS)
    fmt = detect_format(text, path.name)
    parsed = parse(text, str(path), fmt, LIMITS)
    copies: dict[str, ArchivedCopy] = {}
    for cited in parsed.citations:
        row = store.citation(cited.url)
        if row is None:
            continue
        watched_id = row.watched_id or row.id
        when = _day(cited.cited_at) or row.cited
        capture = best_capture(store.captures(watched_id), when)
        if capture is None:
            continue
        status = link_status(store.health(row.id, row.article), cited.url)
        copies[cited.id] = ArchivedCopy(capture.url, capture.when, capture.original, status)
    done = annotate(text, copies, str(path), fmt, templates, LIMITS)
    if _has_bom(path):  # read_article drops a byte-order mark; the file keeps its own
        return Annotated("\ufeff" + done.text, done.format, done.written, done.left)
    return done


def article_file(store: Store, given: Path) -> Path:
    """The file to annotate: `given` when it is a file, else the source file of the article whose id
    it is (as `import` recorded it), else a SourceError saying what was looked for."""
    if given.is_file():
        return given
    found = next((a for a in store.articles() if a.id == str(given)), None)
    if found is None:
        raise SourceError(given, [(None, "no such file, nor an article id of the store")])
    if not found.source or is_http_url(found.source) or not Path(found.source).is_file():
        where = found.source or "no source recorded"
        raise SourceError(given, [(None, f"article {found.id}'s source is not a file here ({where}): name the file")])
    return Path(found.source)


def link_status(health: Health | None, cited_url: str) -> LinkStatus:
    """What the archived copy says of the original link, as InternetArchiveBot writes `url-status`:
    `usurped` when the domain now serves something else (a parked domain, or a rotten link whose
    address now ends on another site), `dead` when it is rotten, `live` otherwise (failing, blocked,
    paywalled or drifted links still lead to the page)."""
    if health is None or health.status is not HealthStatus.ROTTEN:
        return LinkStatus.LIVE
    elsewhere = bool(health.final_url) and _site(health.final_url) != _site(cited_url)
    if health.rot.kind == "parked" or (elsewhere and health.rot.kind in ("redirect_home", "soft_404")):
        return LinkStatus.USURPED
    return LinkStatus.DEAD


def _site(url: str) -> str:
    return host_of(url).removeprefix("www.")


def _day(text: str) -> datetime | None:
    try:
        return parse_date(text) if text else None
    except ValueError:
        return None


def _has_bom(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(3) == codecs.BOM_UTF8
    except OSError:
        return False
