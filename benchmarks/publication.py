"""Benchmark: a publication's archive of articles, imported, recorded in the store and reported.

    python benchmarks/publication.py                     # 2,000 articles x 10 citations, 2,000 pages
    python benchmarks/publication.py --articles 10000    # 100,000 citations (a list's most)

Writes the articles (Markdown, each citing `--citations` of `--pages` pages, so a page is cited by
about articles x citations / pages of them), then times, each once: `archiver import` of the folder
(read, parse, merge into sources.csv), reading the list back, the store's sync of articles and
citations onto watched URLs (what every pass does first, a first time and again unchanged), the
publication report (JSON and Markdown) with nothing checked yet. No page is fetched: the network part
of a pass is bench.py's. Results print as a table; `--json FILE` keeps them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from archiver.importing import import_articles  # noqa: E402
from archiver.report import build_report, render_markdown  # noqa: E402
from archiver.sources import articles_of, read_sources  # noqa: E402
from archiver.store import Store  # noqa: E402
from archiver.store.watched import all_watched  # noqa: E402


def write_articles(folder: Path, articles: int, citations: int, pages: int) -> None:
    for n in range(articles):
        cited = [(n * 7 + k * 13) % pages for k in range(citations)]
        body = " ".join(f"Claim {n}.{k} says {k + 100} things.[^{k + 1}]" for k in range(citations))
        notes = "\n".join(f"[^{k + 1}]: https://site{p % 50}.example/story/{p}" for k, p in enumerate(cited))
        target = folder / f"{n // 1000:03d}" / f"story-{n:06d}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"---\ntitle: Story {n}\ndate: 2025-03-01\n---\n\n{body}\n\n{notes}\n", encoding="utf-8")


def timed(results: dict[str, float], name: str, fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn()
    results[name] = round(time.perf_counter() - start, 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--citations", type=int, default=10, help="citations per article")
    parser.add_argument("--pages", type=int, default=2000, help="distinct pages they cite")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_articles(root / "articles", args.articles, args.citations, args.pages)
        sources = root / "sources.csv"
        outcome = timed(results, "import (s)", lambda: import_articles([root / "articles"], sources))
        sources.write_text(outcome.merged, encoding="utf-8")
        listed = timed(results, "read sources.csv (s)", lambda: read_sources(sources))
        now = datetime.now(UTC)
        with Store.open(root / "data") as store:
            timed(results, "store sync, first (s)", lambda: store.sync_citations(listed, now, articles_of(listed)))
            timed(results, "store sync, unchanged (s)", lambda: store.sync_citations(listed, now, articles_of(listed)))
            watched = len(all_watched(store.db))
        with Store.open(root / "data", read_only=True) as store:
            report = timed(results, "report build + JSON (s)", lambda: build_report(store, now).to_json())
            timed(results, "report Markdown (s)", lambda: render_markdown(build_report(store, now)))
    counts = {"articles": len(report["articles"]), "citations": len(listed), "watched URLs": watched}
    for name, value in {**counts, **results}.items():
        print(f"{name:<28} {value:>10,}")
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)}, **counts, **results}, indent=2))


if __name__ == "__main__":
    main()
