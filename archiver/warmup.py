"""The extraction workers' start-up, paid once: this module is what their fork server imports (see
`workers`). It loads everything extracting and judging a page needs and pays the libraries' lazy
start-up, then forks every worker from there, warm.

Paid by each worker instead (each started afresh), it cost 2.5-3 s of CPU and 30-40 MiB per worker
per pass, as much CPU as extracting 70-90 real pages: importing the package (0.8 s), dateparser
(asked by htmldate, trafilatura's date finder, when a page writes its date in words), which compiles
the patterns of its 200 locales on first use (2 s), jusText's stop words (trafilatura's fallback for
short texts: 25 MiB), the public suffix list. Importing this module does it; nothing else imports it.

It also loads the rest of the service. Every worker imports its parent's main module again after
its fork (multiprocessing's start protocol: `archiver check` is a console script importing
`archiver.cli`, a program calling `run_check` imports the pipeline), and with it httpx, the store,
the report: 360 modules the workers never run. Loaded here, they come with the fork, frozen and
shared; loaded by each worker, each held its own copy and its collector walked 29,000 more objects.
"""

from __future__ import annotations

import gc
from datetime import UTC, datetime

from htmldate.extractors import external_date_parser

import archiver.cli  # noqa: F401 -- the service, as every worker's main module imports it (see above)
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


def warm() -> None:
    """Pay the lazy start-up of the extraction's libraries, then freeze what exists: the collector
    then never touches those objects, so the workers share their memory pages with this process."""
    give_pages_back()  # inherited by every worker forked from here (see `memory`)
    external_date_parser("12 Zzzq 2024", "%Y-%m-%d")  # unparsable: dateparser tries every locale
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


warm()
