"""Finding the citations of an article: markers, references and the sentences that carry them. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from archiver.models import Citation
from archiver.urls import canonical, tracking_params

_REFERENCE = re.compile(r"^\s*\[(\d+)\]\s*(\S.*?)\s*$")
_MARKER = re.compile(r"\[(\d+)\]")
# A sentence ends at . ! ? or … (possibly after a closing quote or a marker) before a capital.
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[«\"“'‘(\[]?\s*[A-ZÀ-ÖØ-Þ0-9])")
# Openers that lean on the sentence before: its claim belongs to the same source.
_CONNECTIVES = re.compile(
    r"^(de plus|en outre|par ailleurs|en effet|ainsi|toutefois|cependant|moreover|in addition|"
    r"furthermore|also|however|besides)\b", re.I)


@dataclass(frozen=True)
class ImportWarning:
    """Something a careful editor would catch; it never stops an import."""

    kind: str  # missing_reference, uncited_reference, mangled_url, duplicate_url, tracking_params
    message: str
    line: int = 0
    citation_id: str = ""
    suggestion: str = ""


@dataclass
class ImportResult:
    citations: list[Citation] = field(default_factory=list)
    warnings: list[ImportWarning] = field(default_factory=list)


def split_sentences(paragraph: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(paragraph.strip()) if s.strip()]


def strip_markers(text: str) -> str:
    return " ".join(_MARKER.sub("", text).split())


def parse_text_article(text: str) -> ImportResult:
    """A plain-text article: bracketed markers [n] in the body, a numbered reference list `[n] URL`."""
    result = ImportResult()
    references: dict[str, tuple[str, int]] = {}
    body: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        ref = _REFERENCE.match(line)
        if ref and not _MARKER.sub("", line[ref.end(1) + 1:]).strip().count(" "):
            references.setdefault(ref.group(1), (ref.group(2), number))
        elif line.strip():
            body.append((number, line))
    claims: dict[str, tuple[str, int]] = {}
    for number, paragraph in body:
        sentences = split_sentences(paragraph)
        for i, sentence in enumerate(sentences):
            for marker in _MARKER.findall(sentence):
                claim = strip_markers(sentence)
                if i > 0 and _CONNECTIVES.match(claim) and not _MARKER.search(sentences[i - 1]):
                    claim = strip_markers(sentences[i - 1]) + " " + claim
                claims.setdefault(marker, (claim, number))
    for marker, (_claim, number) in claims.items():
        if marker not in references:
            result.warnings.append(ImportWarning(
                "missing_reference", f"marker [{marker}] in the text has no entry in the reference list",
                number, marker))
    for marker, (url, number) in sorted(references.items(), key=lambda kv: int(kv[0])):
        if marker not in claims:
            result.warnings.append(ImportWarning(
                "uncited_reference", f"reference [{marker}] is never cited in the text", number, marker))
        claim = claims.get(marker, ("", 0))[0]
        result.citations.append(Citation(marker, url, claim, line=number))
    result.warnings.extend(url_warnings(result.citations))
    return result


def url_warnings(citations: list[Citation]) -> list[ImportWarning]:
    """Tracking parameters and duplicates: noted, never silently changed."""
    warnings = []
    first: dict[str, str] = {}
    for c in citations:
        params = tracking_params(c.url)
        if params:
            warnings.append(ImportWarning(
                "tracking_params", f"[{c.id}] carries tracking parameter(s) {', '.join(params)}; "
                f"kept as cited, canonical form {canonical(c.url)}", c.line, c.id, canonical(c.url)))
        key = canonical(c.url)
        if key in first:
            warnings.append(ImportWarning(
                "duplicate_url", f"[{c.id}] cites the same page as [{first[key]}]", c.line, c.id))
        else:
            first[key] = c.id
    return warnings
