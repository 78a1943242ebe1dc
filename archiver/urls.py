"""Normalising and comparing URLs. Pure: no I/O."""

from __future__ import annotations

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


def is_http_url(url: str) -> bool:
    """An absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in {"http", "https"} and bool(parts.hostname)


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
