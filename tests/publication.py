"""A publication of our own for the tests: 24 articles in every format the archiver reads (Markdown,
HTML, plain text, BibTeX, CSL-JSON, wikitext), citing 10 source pages of the simulated web, each page
cited by several articles (some with tracking parameters, some with a wrong figure in their claim).

`Source.fact` is the figure its page carries and a correct claim repeats; an article given
`WRONG` for a source cites the page for a figure the page never carried."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from simweb import LOREM, SimWeb, article


@dataclass(frozen=True)
class Source:
    key: str
    host: str
    path: str
    fact: str  # the figure the page carries
    sentence: str  # the page's sentence with the figure, `{}` where it goes
    claim: str  # an article's sentence citing it, `{}` where the figure goes

    def url(self, web: SimWeb) -> str:
        return web.url(self.path, self.host)


SOURCES = [
    Source("troops", "news.test", "/world/troops", "11,000", "Officials said {} soldiers were sent to Kursk.",
           "Officials said {} soldiers were sent to Kursk"),
    Source("containers", "wire.test", "/2025/containers", "16,000", "Ship records show {} containers crossed.",
           "Ship records show {} containers crossed the sea"),
    Source("losses", "blog.test", "/analysis/losses", "600", "About {} soldiers were killed in the spring.",
           "About {} soldiers were killed in the spring"),
    Source("engineers", "wire.test", "/2025/engineers", "400", "Nearly {} engineers came with the missiles.",
           "Nearly {} engineers came with the missiles"),
    Source("deal", "daily.test", "/story/deal", "5.5 billion", "The deal was worth {} dollars.",
           "The deal was worth {} dollars"),
    Source("report", "gov.test", "/report/2024", "1,200", "The report lists {} incidents.",
           "The report lists {} incidents"),
    Source("river", "science.test", "/river-heat", "2.5 degrees", "The river warmed by {} since 1990.",
           "The river warmed by {} since 1990"),
    Source("floods", "science.test", "/floods", "30 percent", "Floods rose by {} in a decade.",
           "Floods rose by {} in a decade"),
    Source("aid", "daily.test", "/story/aid", "72 million", "Aid reached {} people.", "Aid reached {} people"),
    Source("ships", "news.test", "/world/ships", "140", "At least {} ships were tracked.",
           "At least {} ships were tracked"),
]  # fmt: skip
BY_KEY = {s.key: s for s in SOURCES}
WRONG = "20,000"
FORMATS = ["md"] * 6 + ["html"] * 5 + ["txt"] * 5 + ["bib"] * 3 + ["json"] * 3 + ["wiki"] * 2


def serve_sources(web: SimWeb, changed: dict[str, str] | None = None, gone: tuple[str, ...] = ()) -> None:
    """Every source page on the simulated web; `changed` gives a source a new figure, `gone` answers 404."""
    for s in SOURCES:
        if s.key in gone:
            web.page(s.url(web), "<html><body><h1>404 Not Found</h1></body></html>", status=404)
            continue
        figure = (changed or {}).get(s.key, s.fact)
        web.page(s.url(web), article(s.key.title(), s.sentence.format(figure), *LOREM))


@dataclass(frozen=True)
class Cite:
    source: Source
    figure: str  # what the article's claim says
    url: str


def plan(web: SimWeb, n: int) -> list[Cite]:
    """What article `n` cites: three sources, by rotation (so each is cited by about seven articles);
    article 7 cites `troops` with a wrong figure; every fourth article cites with a tracking parameter."""
    picked = [SOURCES[n % 10], SOURCES[(n + 3) % 10], SOURCES[(n + 7) % 10]]
    cites = []
    for s in picked:
        url = s.url(web) + ("?utm_source=newsletter" if n % 4 == 3 else "")
        figure = WRONG if (n == 7 and s.key == "troops") else s.fact
        cites.append(Cite(s, figure, url))
    return cites


def write_publication(web: SimWeb, folder: Path) -> dict[str, list[Cite]]:
    """The 24 articles under `folder` (in sub-folders by format); returns what each article id cites."""
    cited: dict[str, list[Cite]] = {}
    for n, fmt in enumerate(FORMATS):
        name = f"{fmt}-{n:02d}"
        cites = plan(web, n)
        cited[name] = cites
        target = folder / fmt / f"{name}.{'wiki' if fmt == 'wiki' else fmt}"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(WRITERS[fmt](name, n, cites), encoding="utf-8")
    return cited


def _sentence(c: Cite) -> str:
    return c.source.claim.format(c.figure)


def _markdown(name: str, n: int, cites: list[Cite]) -> str:
    body = " ".join(f"{_sentence(c)}[^{i}]." for i, c in enumerate(cites, 1))
    notes = "\n".join(f"[^{i}]: {c.url}" for i, c in enumerate(cites, 1))
    return f'---\ntitle: "Story {name}"\ndate: 2025-03-{n + 1:02d}\n---\n\n# Story {name}\n\n{body}\n\n{notes}\n'


def _html(name: str, n: int, cites: list[Cite]) -> str:
    paragraphs = "\n".join(f'<p>{_sentence(c)}, <a href="{c.url}">according to the source</a>.</p>' for c in cites)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Story {name}</title>\n'
        f'<meta property="article:published_time" content="2025-03-{n + 1:02d}T08:00:00Z"></head>\n'
        f'<body><nav><a href="http://home.test/">Home</a></nav>\n<article><h1>Story {name}</h1>\n{paragraphs}\n'
        "</article></body></html>\n"
    )


def _text(name: str, n: int, cites: list[Cite]) -> str:
    body = " ".join(f"{_sentence(c)} [{i}]." for i, c in enumerate(cites, 1))
    refs = "\n".join(f"[{i}] {c.url}" for i, c in enumerate(cites, 1))
    return f"Story {name}\n\n{body}\n\nReferences\n{refs}\n"


def _bibtex(name: str, n: int, cites: list[Cite]) -> str:
    return "".join(
        f"@online{{{c.source.key},\n  title   = {{{c.source.key.title()}}},\n  url     = {{{c.url}}},\n"
        f"  urldate = {{2025-02-{10 + i:02d}}},\n}}\n\n"
        for i, c in enumerate(cites)
    )


def _csl(name: str, n: int, cites: list[Cite]) -> str:
    items = [
        {
            "id": c.source.key,
            "type": "webpage",
            "title": c.source.key.title(),
            "URL": c.url,
            "accessed": {"date-parts": [[2025, 2, 10 + i]]},
        }
        for i, c in enumerate(cites)
    ]
    return json.dumps(items, indent=2) + "\n"


def _wiki(name: str, n: int, cites: list[Cite]) -> str:
    body = " ".join(
        f'{_sentence(c)}.<ref name="{c.source.key}">{{{{cite web |url={c.url} |title={c.source.key.title()} '
        f"|access-date=2025-02-{10 + i:02d}}}}}</ref>"
        for i, c in enumerate(cites)
    )
    return f"'''Story {name}''' is a test article.\n\n{body}\n\n== References ==\n{{{{reflist}}}}\n"


WRITERS = {"md": _markdown, "html": _html, "txt": _text, "bib": _bibtex, "json": _csl, "wiki": _wiki}
