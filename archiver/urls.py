"""Normalising and comparing URLs. Pure: no I/O."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that only say where a reader came from; they never select content.
TRACKING_PARAMS = frozenset(
    {
        "mod",
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "cmpid",
        "ocid",
        "ref",
        "ref_src",
        "smid",
        "smtyp",
        "xtor",
        "at_medium",
        "at_campaign",
        "guccounter",
        "_ga",
        "_gl",
        "yclid",
        "twclid",
        "s_cid",
        "icid",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "at_")


MAX_URL_CHARS = 8192  # longer than any browser or server accepts in practice
MAX_HOST_CHARS = 253  # the longest DNS name


def is_http_url(url: str) -> bool:
    """An absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in {"http", "https"} and bool(parts.hostname)


def why_unfetchable(url: str) -> str:
    """What makes `url` unfetchable as written ("" when nothing does): not absolute http(s), a
    space or control character, a port that is not a number from 1 to 65535, an oversized host.
    The one rule of what `check` fetches; `formats.records.classify_cited_url` applies it to what
    an article cites."""
    if len(url) > MAX_URL_CHARS:
        return f"is longer than {MAX_URL_CHARS} characters"
    bad = next((ch for ch in url if ch.isspace() or ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0), None)
    if bad is not None:
        return "contains spaces" if bad == " " else f"contains the control character {bad!r}"
    if not is_http_url(url):
        return "is not an absolute http:// or https:// URL"
    parts = urlsplit(url)
    hostport = parts.netloc.rpartition("@")[2]
    port = hostport.rpartition("]")[2].partition(":")[2] if hostport.startswith("[") else hostport.partition(":")[2]
    if port and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        return "has a port that is not a number from 1 to 65535"
    host = parts.hostname or ""
    if len(host) > MAX_HOST_CHARS:
        return f"has a host name longer than {MAX_HOST_CHARS} characters"
    return ""


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def is_tracking_param(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def tracking_params(url: str) -> list[str]:
    """Names of the tracking parameters a URL carries, in order."""
    return [k for k, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True) if is_tracking_param(k)]


def canonical(url: str) -> str:
    """The form two citations of the same page share: lower-case scheme and host, no default port,
    no fragment, no tracking parameters. The cited URL itself is kept as written elsewhere."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port is None or (scheme, port) in {("http", 80), ("https", 443)} else f"{host}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k)])
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def same_page(a: str, b: str) -> bool:
    """True when two URLs name the same page, ignoring scheme, `www.`, tracking and a trailing slash."""

    def key(u: str) -> tuple[str, str, str]:
        p = urlsplit(canonical(u))
        return (p.netloc.removeprefix("www."), p.path.rstrip("/") or "/", p.query)

    return key(a) == key(b)


_TRAILING_JUNK = ")]}>.,;:!?'\"»”’…"
_GLUED_NUMBER = re.compile(r"(\.(?:s?html?|php|aspx?|jsp|cms))(\d{1,3})$", re.I)


def mangled(url: str) -> tuple[str, str]:
    """What looks wrong with a cited URL, and a suggested correction; ("", "") when it looks right.
    The suggestion is only ever shown: the URL is kept as written."""
    fixed = url.strip()
    problems = []
    if any(ch.isspace() for ch in fixed):
        problems.append("contains spaces")
        fixed = "".join(fixed.split())
    lead = re.match(r"^\d{1,3}(?=(https?:|www\.))", fixed, re.I)
    if lead:
        problems.append(f"footnote number {lead.group(0)} glued before it")
        fixed = fixed[lead.end() :]
    doubled = re.match(r"^(https?:/{1,3})+(?=https?:)", fixed, re.I)
    if doubled:
        problems.append("doubled scheme")
        fixed = fixed[doubled.end() :]
    broken = re.match(r"^(https?):/{0,1}(?!/)|^(https?)//|^(https?)/(?!/)", fixed, re.I)
    if broken:
        scheme = next(g for g in broken.groups() if g)
        problems.append("broken scheme")
        fixed = f"{scheme.lower()}://" + fixed[broken.end() :].lstrip(":/")
    if fixed.lower().startswith("www.") or (
        not re.match(r"^[a-z][a-z0-9+.-]*:", fixed, re.I) and "." in fixed.split("/")[0]
    ):
        problems.append("missing scheme")
        fixed = "https://" + fixed
    kept = fixed.rstrip(_TRAILING_JUNK)  # rstrip, not a regex: linear on a URL of any length
    junk = fixed[len(kept) :]
    if junk and not (junk == ")" and "(" in fixed):
        problems.append(f"stray {junk!r} after the page name")
        fixed = kept
    glued = _GLUED_NUMBER.search(fixed)
    if glued:
        problems.append(f"footnote number {glued.group(2)} glued after it")
        fixed = fixed[: glued.start(2)]
    return ("; ".join(problems), fixed) if problems else ("", "")
