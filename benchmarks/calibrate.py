"""What the real-page benchmark must know before it measures anything, from the corpus itself:

- for each article, an edit that really changes its extracted text (one paragraph gets a sentence);
- that the boilerplate varied on every answer never reaches the extracted text (else the re-check
  pass would have no right answer), and that the edit always does;
- trafilatura's own single-core cost on each page, for the floor, with the options the service uses
  (`archiver.extract.run_trafilatura`), from the decoded HTML (its parse included).

The text is the service's own (`archiver.extract.extract`), so "a full extraction would store a
new version" means exactly what the store decides: the hash of that text changed.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from realweb import CorpusPage, Edit, Template, content_type_of, read_body

from archiver.extract import decode, extract, run_trafilatura

EDIT_WORDS = 6  # a run of this many words of a paragraph, found verbatim in the markup, is edited
ADDED = ", a figure officials revised to 1,234 in a correction published later"
SAMPLES = 3  # answers with different boilerplate whose texts must all agree


@dataclass
class PageFacts:
    page: CorpusPage
    words: int = 0  # of the extracted text, as served (0 for error pages, which are not extracted)
    edit: Edit | None = None
    stable: bool = True  # varying boilerplate leaves the text alone
    quiet: bool = False  # visible boilerplate reached the text: served with invisible boilerplate only
    problem: str = ""  # why the page cannot carry a real change, or what leaks
    trafilatura_ms: float = 0.0  # median single-core CPU of the service's trafilatura call, a fresh answer each time
    trafilatura_same_bytes_ms: float = 0.0  # the same, timing one answer again and again (caches warm)
    bytes: int = 0


@dataclass
class Calibration:
    pages: list[PageFacts] = field(default_factory=list)

    @property
    def edits(self) -> dict[str, Edit]:
        return {f.page.file: f.edit for f in self.pages if f.edit is not None}

    @property
    def quiet(self) -> frozenset[str]:
        return frozenset(f.page.file for f in self.pages if f.quiet)

    @property
    def unstable(self) -> list[PageFacts]:
        return [f for f in self.pages if not f.stable]


def _codec(body: bytes) -> str:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def text_of(body: bytes) -> str:
    return extract(body, "", content_type_of(body)).text


def find_edit(body: bytes, text: str) -> Edit | None:
    """A run of words from one of the longest paragraphs that the markup carries verbatim (once in
    its markup, maybe again in its JSON-LD), with a clause appended to it."""
    codec = _codec(body)
    lines = sorted((line for line in text.split("\n") if len(line.split()) >= 25), key=len, reverse=True)
    for line in lines[:12]:
        words = line.split()
        for start in range(len(words) // 2, len(words) - EDIT_WORDS):
            try:
                old = " ".join(words[start : start + EDIT_WORDS]).encode(codec)
            except UnicodeEncodeError:
                continue
            if 1 <= body.count(old) <= 3:
                return Edit(old, old + ADDED.encode(codec))
    return None


def _texts(template: Template, rng: random.Random, visible: bool) -> set[str]:
    """The distinct texts of answers rendered at moments hours, minutes and seconds apart."""
    now = time.time()
    return {text_of(template.render(rng, now + k * 3661.0, visible)) for k in range(SAMPLES)}


def calibrate(corpus: Path, pages: list[CorpusPage], repeats: int = 3, seed: int = 7) -> Calibration:
    rng = random.Random(seed)
    result = Calibration()
    for page in pages:
        body = read_body(corpus, page)
        facts = PageFacts(page, bytes=len(body))
        result.pages.append(facts)
        if page.status != 200:
            continue  # an error page is judged by its status; its text is never a version
        plain = Template.of(body, None)
        texts = _texts(plain, rng, visible=True)
        if len(texts) != 1:
            facts.quiet = True
            texts = _texts(plain, rng, visible=False)
        facts.stable = len(texts) == 1
        text = texts.pop()
        facts.words = len(text.split())
        if not facts.stable:
            facts.problem = "even invisible boilerplate reaches the extracted text"
            continue
        edit = find_edit(body, text)
        if edit is None:
            facts.problem = "no paragraph of 25+ words found verbatim in the markup" if text else "no text"
        else:
            edited = Template.of(body.replace(edit.old, edit.new), Edit(edit.new, edit.new))
            changed = _texts(edited, rng, visible=not facts.quiet)
            if len(changed) != 1:
                facts.stable = False
                facts.problem = "the varying boilerplate reaches the edited page's text"
            elif changed.pop() == text:
                facts.problem = "the edit does not reach the extracted text"
            else:
                facts.edit = edit
    _time_trafilatura(corpus, result, repeats, rng)
    return result


def _time_trafilatura(corpus: Path, result: Calibration, repeats: int, rng: random.Random) -> None:
    """trafilatura's own single-core CPU on each page that answers, for the floor (see
    `time_trafilatura`). The old way (one answer timed again and again) is kept beside it as
    `trafilatura_same_bytes_ms`: within a few percent of it, either way, in our runs."""
    served = [f for f in result.pages if f.page.status == 200]
    templates = {f.page.file: _template(corpus, f) for f in served}
    fresh = _fresh_times(served, templates, repeats, rng)
    for facts in served:
        template, content_type = templates[facts.page.file]
        html = decode(template.render(rng, time.time(), not facts.quiet), content_type)
        facts.trafilatura_ms = fresh[facts.page.file]
        facts.trafilatura_same_bytes_ms = statistics.median(_cpu(run_trafilatura, html) for _ in range(repeats)) * 1000


def time_trafilatura(corpus: Path, pages: list[PageFacts], repeats: int, rng: random.Random) -> dict[str, float]:
    """Milliseconds of single-core CPU of the service's trafilatura call on each page that answers:
    the median of `repeats` rounds over all the pages, each timing on an answer of its own, pages in
    turn as the pass serves them (41 other pages between two answers of one page), never right after
    something extracted the same page. Run before the passes and again after them (see real.py)."""
    served = [f for f in pages if f.page.status == 200]
    return _fresh_times(served, {f.page.file: _template(corpus, f) for f in served}, repeats, rng)


def _fresh_times(
    served: list[PageFacts], templates: dict[str, tuple[Template, str]], repeats: int, rng: random.Random
) -> dict[str, float]:
    fresh: dict[str, list[float]] = {f.page.file: [] for f in served}
    for _ in range(repeats):
        for facts in served:
            template, content_type = templates[facts.page.file]
            html = decode(template.render(rng, time.time(), not facts.quiet), content_type)
            fresh[facts.page.file].append(_cpu(run_trafilatura, html))
    return {file: statistics.median(times) * 1000 for file, times in fresh.items()}


def _template(corpus: Path, facts: PageFacts) -> tuple[Template, str]:
    body = read_body(corpus, facts.page)
    return Template.of(body, None), content_type_of(body)


def _cpu(run: Callable[[str], object], html: str) -> float:
    """CPU seconds of `run(html)` (the service's own trafilatura call and options)."""
    t0 = time.process_time()
    run(html)
    return time.process_time() - t0
