"""Comparing texts: the similarity that soft-404 probes and drift both rely on."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def shingles(text: str, size: int = 3) -> set[tuple[str, ...]]:
    words = tokens(text)
    if len(words) < size:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def resemblance(a: str, b: str) -> float:
    """Jaccard similarity of word 3-shingles (Broder): 1.0 for the same text, near 0 for unrelated ones."""
    sa, sb = shingles(a), shingles(b)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)
