"""The extraction workers' start-up, paid once: this module is what their fork server imports (see
`workers`). It loads everything extracting and judging a page needs and pays the libraries' lazy
start-up, then forks every worker from there, warm.

Paid by each worker instead (each started afresh), it cost 2.5-3 s of CPU and 30-40 MiB per worker
per pass, as much CPU as extracting 70-90 real pages: importing the package (0.8 s), dateparser
(asked by htmldate, trafilatura's date finder, when a page writes its date in words), which compiles
the patterns of its 200 locales on first use (2 s), jusText's stop words (trafilatura's fallback for
short texts: 25 MiB), the public suffix list. Importing this module does it; nothing else imports it.

Its workers never import their parent's main module. Multiprocessing's start protocol has every
worker import it again after its fork (`archiver check` is a console script importing
`archiver.cli`; a program calling `run_check` imports the pipeline): httpx, the store, the report,
360 modules the workers never run, each worker holding its own copy. Loading them here instead
(an earlier round) shared them, but the server still held 14 MiB of them. A worker runs the
functions of `WorkerPool.run`, which are importable by name (never a script's own); it needs its
parent's `sys.path`, never its main module.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping
from datetime import UTC, datetime
from multiprocessing import spawn
from typing import Any

from htmldate.extractors import external_date_parser

import archiver.workers  # noqa: F401 -- what a worker runs to start: its initializer, pebble's loop, asyncio
from archiver.analysis import Held, analyse
from archiver.memory import give_pages_back, release_free_heap
from archiver.models import FetchResult, Outcome

# A small article with what the detectors read (meta tags, JSON-LD, a heading, links, a date in
# words), so that their first real page finds every pattern compiled.
_PAGE = (
    b"""<!DOCTYPE html><html lang="en"><head><title>Warm-up article</title>
<meta property="og:type" content="article"><link rel="canonical" href="https://www.example.com/news/warm-up">
<script type="application/ld+json">{"@type": "NewsArticle", "isAccessibleForFree": true}</script>
</head><body><nav><a href="/">Home</a> <a href="/world">World</a></nav><article><h1>Warm-up article</h1>
<p class="date">Published on the third of March, 2024, at noon</p>
"""
    + b"".join(
        b"<p>Paragraph %d of the warm-up article says what the service reads on every page, in words "
        b"long enough to be kept by the extraction as the main text of the page.</p>" % n
        for n in range(12)
    )
    + b"""<p><a href="/subscribe">Subscribe</a></p></article></body></html>"""
)


# A note too short for trafilatura to trust its own extraction: it then asks jusText, whose stop
# words (every language's: 150,000 words, 25 MiB) are loaded on first use.
_SHORT = b"""<!DOCTYPE html><html lang="en"><head><title>Warm-up note</title></head><body><article>
<p>A short note, under the size trafilatura trusts.</p></article></body></html>"""
_URL = "https://www.example.com/news/warm-up"  # parsed for its domain (the public suffix list is loaded), never fetched


MAIN_MODULE_KEYS = frozenset({"init_main_from_path", "init_main_from_name"})  # in multiprocessing's start data
_prepare = spawn.prepare


def prepare_without_main(data: Mapping[str, Any]) -> None:
    """Multiprocessing's preparation of a child forked from here, except the import of the parent's
    main module (see the module's docstring)."""
    _prepare({key: value for key, value in data.items() if key not in MAIN_MODULE_KEYS})


def warm() -> None:
    """Pay the lazy start-up of the extraction's libraries, then freeze what exists: the collector
    then never touches those objects, so the workers share their memory pages with this process."""
    give_pages_back()  # inherited by every worker forked from here (see `memory`)
    external_date_parser("12 Zzzq 2024", "%Y-%m-%d")  # unparsable: dateparser tries every locale
    datetime.strptime("2024-03-03", "%Y-%m-%d")  # imports `_strptime`, which dates in pages need
    for body in (_PAGE, _SHORT):
        page = FetchResult(
            _URL,
            Outcome.OK,
            datetime.now(UTC),
            final_url=_URL,
            status=200,
            headers=(("Content-Type", "text/html; charset=utf-8"),),
            body=body,
        )
        analyse(page, [], Held())
    gc.freeze()
    # Give back the heap the warm-up freed (its pages' trees, dateparser's compiling): a worker
    # allocating where this process had free space copies that page from it, and both then hold it.
    release_free_heap()


spawn.prepare = prepare_without_main  # this process only forks workers (see `workers`)
warm()
