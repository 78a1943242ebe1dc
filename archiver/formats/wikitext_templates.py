"""How archived copies are written into wikitext templates, as InternetArchiveBot writes them: the
`archive-url`, `archive-date` and `url-status` parameters added to a cite template in its own layout
(inline or one parameter a line, its spacing kept), a `{{Webarchive}}` after a bare link, or a bare
link turned into a `{{cite web}}`. Pure: no I/O."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from mwparserfromhell.nodes import ExternalLink, Template

from archiver.formats.dates import DateStyle, write_date
from archiver.formats.records import ArchivedCopy, Insertion

ARCHIVE_URL = ("archive-url", "archiveurl")
ARCHIVE_DATE = ("archive-date", "archivedate")


@dataclass(frozen=True)
class _Layout:
    sep: str  # before each "|"
    lead: str  # between "|" and the name
    eq: str  # name-trailing space, "=", value-leading space


def _layout(tpl: Template) -> _Layout:
    """The template's own spacing, by majority of its parameters."""
    seps = [_trailing_ws(str(tpl.name))]
    leads: list[str] = []
    eqs: list[str] = []
    for i, p in enumerate(tpl.params):
        if not p.showkey:
            continue
        name, value = str(p.name), str(p.value)
        leads.append(name[: len(name) - len(name.lstrip())])
        eqs.append(_trailing_ws(name) + "=" + value[: len(value) - len(value.lstrip(" \t"))])
        if i < len(tpl.params) - 1:
            seps.append(_trailing_ws(value))

    def common(values: list[str], default: str) -> str:
        return Counter(values).most_common(1)[0][0] if values else default

    return _Layout(common(seps, " "), common(leads, ""), common(eqs, "="))


def _trailing_ws(s: str) -> str:
    return s[len(s.rstrip()) :]


def template_insertions(tpl: Template, copy: ArchivedCopy, style: DateStyle) -> list[Insertion]:
    """Archive-url, archive-date and url-status added to the template (or filled where it carries
    them empty), as insertions into its own text; every other character stays."""
    source = str(tpl)
    layout = _layout(tpl)
    wanted = [
        (ARCHIVE_URL, _template_safe(copy.capture_url)),
        (ARCHIVE_DATE, write_date(copy.captured_at.date(), style)),
        (("url-status",), copy.status.value),
    ]
    # where each parameter's value sits in the source: "{{" name ("|" param)* "}}"
    spans: dict[str, tuple[int, int]] = {}
    pos = 2 + len(str(tpl.name))
    for p in tpl.params:
        body = str(p)
        if p.showkey:
            value_start = pos + 1 + len(str(p.name)) + 1
            spans.setdefault(str(p.name).strip().lower(), (value_start, value_start + len(str(p.value))))
        pos += 1 + len(body)
    last = tpl.params[-1]
    last_value_end = pos - len(_trailing_ws(str(last)))
    insertions: list[Insertion] = []
    added: list[str] = []
    for names, value in wanted:
        present = next((n for n in names if n in spans), None)
        if present is None:
            added.append(f"{layout.sep}|{layout.lead}{names[0]}{layout.eq}{value}")
            continue
        start, end = spans[present]
        old = source[start:end]
        if old.strip() == value:
            continue
        if old.strip():  # an url-status the bot's verdict replaces
            content_start = start + len(old) - len(old.lstrip())
            insertions.append(Insertion(content_start, value, content_start + len(old.strip())))
        else:
            spaces = len(old) - len(old.lstrip(" \t"))
            space = "" if spaces or not layout.eq.endswith(" ") else " "
            insertions.append(Insertion(start + spaces, space + value))
    if added:
        insertions.append(Insertion(last_value_end, "".join(added)))
    return insertions


def webarchive(copy: ArchivedCopy, style: DateStyle) -> str:
    return (
        f"{{{{Webarchive |url={_template_safe(copy.capture_url)} |date={write_date(copy.captured_at.date(), style)}}}}}"
    )


def cite_web(link: ExternalLink, copy: ArchivedCopy, style: DateStyle) -> str:
    """A bare link as the cite template InternetArchiveBot makes of it ("Archived copy" when the link
    has no label)."""
    title = link_label(link) or "Archived copy"
    return (
        f"{{{{cite web |url={_template_safe(str(link.url).strip())} |title={title.replace('|', '{{!}}')}"
        f" |archive-url={_template_safe(copy.capture_url)} |archive-date={write_date(copy.captured_at.date(), style)}"
        f" |url-status={copy.status.value}}}}}"
    )


def _template_safe(url: str) -> str:
    """A URL that cannot end a template parameter early."""
    return url.replace("|", "%7C").replace("{", "%7B").replace("}", "%7D").replace(" ", "%20")


def link_label(link: ExternalLink) -> str:
    return " ".join(link.title.strip_code().split()) if link.title is not None else ""
