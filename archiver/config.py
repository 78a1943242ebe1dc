"""Settings: one frozen object, loaded once from the environment and flags, then passed down, each
stage given only its part (`fetch_settings`, `extract_settings`, `rot_policy`, `archive_settings`,
`browser_settings`)."""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from archiver.errors import ConfigError
from archiver.models import BrowserMode, RotPolicy
from archiver.server_urls import SECRETS, redacted_or_hidden
from archiver.server_urls import redacted as redacted  # re-exported: the settings name their servers
from archiver.server_urls import server_url as server_url

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DAY = 86_400
# Every number a setting takes: (low, high, low excluded). A value outside, or not finite (nan,
# inf), stops the command before anything is written. Generous: they catch typos, not tuning.
BOUNDS: dict[str, tuple[float, float, bool]] = {
    "connect_timeout": (0, 3600, True),
    "read_timeout": (0, 3600, True),
    "total_timeout": (0, DAY, True),
    "max_body_bytes": (1, 1024**3, False),
    "max_redirects": (1, 100, False),
    "concurrency": (1, 1000, False),
    "per_host": (1, 100, False),
    "workers": (0, 256, False),
    "rot_failures": (1, 1000, False),
    "rot_days": (0, 3650, True),
    "probe_days": (0, 3650, True),
    "wayback_interval": (0, 3600, False),
    "wayback_timeout": (0, 3600, True),
    "capture_fresh_days": (0, 3650, True),
    "job_max_age_hours": (0, 24 * 3650, True),
    "wayback_poll_seconds": (0, 3600, False),
    "wayback_poll_rounds": (0, 1000, False),
    "wayback_retry_seconds": (0, DAY, False),
    "extract_timeout": (0, 3600, True),
    "archive_budget": (0, 7 * DAY, True),
    "browser_pages": (1, 64, False),
    "screenshot_max_height": (1, 100_000, False),
    "visibility_timeout": (0, 7 * DAY, True),
}
DEFAULT_BOUNDS = (0.0, 1e9, False)  # a number setting not listed above: finite and not negative

DEFAULT_WAYBACK_URL = "https://web.archive.org"
DEFAULT_ARCHIVE_URL = "https://archive.org"
# The Time Travel service of the Memento project: one TimeMap across the public web archives.
DEFAULT_MEMENTO_AGGREGATOR = "https://timetravel.mementoweb.org/timemap/link/"


def default_user_agent() -> str:
    from archiver._version import __version__

    return f"citation-archiver/{__version__} (checks pages cited by articles for link rot and drift)"


@dataclass(frozen=True)
class FetchSettings:
    """What the fetcher (and each request a rendered page makes) is held to."""

    user_agent: str
    connect_timeout: float
    read_timeout: float
    total_timeout: float  # a whole fetch, redirects and body included
    max_body_bytes: int  # counted after decompression
    max_redirects: int
    concurrency: int  # requests in flight overall
    per_host: int  # requests in flight to one host
    allow_all_private: bool
    allow_networks: tuple[IPNetwork, ...]


@dataclass(frozen=True)
class ExtractSettings:
    """The worker processes that extract and judge pages."""

    workers: int  # processes (one per core unless set)
    timeout: float  # seconds one page's extraction may take before its worker is replaced


@dataclass(frozen=True)
class ArchiveSettings:
    """The archiving step: the archives asked, its pace and its bounds."""

    wayback_url: str
    archive_url: str
    ia_access: str = field(repr=False)  # Internet Archive keys: never logged
    ia_secret: str = field(repr=False)
    interval: float  # seconds between two capture requests, process-wide
    timeout: float  # one archive request in all, connection and body included
    budget: float  # seconds the whole step may take
    memento_endpoints: tuple[str, ...]
    capture_fresh_days: float
    job_max_age_hours: float
    poll_seconds: float
    poll_rounds: int
    retry_seconds: float
    user_agent: str
    fetch: FetchSettings  # another archive's memento is fetched like any page, through the guard
    extract: ExtractSettings  # and judged like one, in the same bounded workers

    @property
    def keys(self) -> bool:
        return bool(self.ia_access and self.ia_secret)


@dataclass(frozen=True)
class BrowserSettings:
    """The headless browser, and the fetch rules every request of a rendered page keeps."""

    mode: BrowserMode
    pages: int  # rendered at once
    chromium: str  # the executable; "" looks on PATH
    screenshot_max_height: int
    fetch: FetchSettings
    screenshots: bool = True  # a screenshot of every new version (a rendering of its own when fetched over HTTP)


@dataclass(frozen=True)
class Settings:
    """Everything the service can be told. Build it with `Settings.load()`; tests use `replace()`."""

    data_dir: Path = Path("snapshots")
    sources: Path = Path("sources.csv")
    user_agent: str = ""
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0  # a whole fetch, redirects and body included
    max_body_bytes: int = 10 * 1024 * 1024  # counted after decompression
    max_redirects: int = 10
    concurrency: int = 16  # requests in flight overall
    per_host: int = 2  # requests in flight to one host
    workers: int = 0  # extraction processes; 0 means one per core
    allow_all_private: bool = False
    allow_networks: tuple[IPNetwork, ...] = ()
    rot_failures: int = 3  # failed checks before a transient failure counts as rot
    rot_days: float = 3.0  # ... spread over at least this many days
    probe_days: float = 30.0  # how long a site's answer to a random URL is trusted
    wayback_url: str = DEFAULT_WAYBACK_URL
    archive_url: str = DEFAULT_ARCHIVE_URL
    ia_access: str = field(default="", repr=False)  # Internet Archive S3-like keys: never logged
    ia_secret: str = field(default="", repr=False)
    wayback_interval: float = 10.0  # seconds between two capture requests, process-wide
    wayback_timeout: float = 60.0  # total time of one archive request, connection and body included
    archive_budget: float = 600.0  # seconds the archiving step of a run may take in all
    memento_endpoints: tuple[str, ...] = (DEFAULT_MEMENTO_AGGREGATOR,)  # TimeMap or TimeGate URL prefixes
    capture_fresh_days: float = 30.0  # a capture of the same content this recent is not repeated
    job_max_age_hours: float = 24.0  # a capture job pending longer is given up
    wayback_poll_seconds: float = 10.0  # between two polls of a pending capture job
    wayback_poll_rounds: int = 6  # polls in one run before a pending job is left for the next
    wayback_retry_seconds: float = 60.0  # first back-off after a retryable refusal, doubling
    wayback: bool = True  # submit and look up captures after each check pass
    notify: tuple[str, ...] = field(default=(), repr=False)  # Apprise URLs for status changes (hold tokens)
    editor_password_hash: str = field(default="", repr=False)  # `archiver hash-password`; empty: serve read-only
    trust_proxy: bool = False  # believe X-Forwarded-Proto (serve behind a TLS proxy): Secure cookies
    extract_timeout: float = 30.0  # seconds one page's extraction may take before its worker is replaced
    browser: BrowserMode = BrowserMode.AUTO  # auto falls back to never when Chromium is not found
    browser_pages: int = 2  # pages rendered at once; each is a Chromium renderer of 50-150 MiB
    chromium: str = ""  # Chromium's executable; "" looks for `chromium` on PATH
    screenshot_max_height: int = 8000  # pixels: a full-page screenshot is cut there
    screenshots: bool = True  # a screenshot of every new version, when the browser mode is not never
    database_url: str = field(default="", repr=False)  # postgresql://…: the store in PostgreSQL (holds a password)
    broker_url: str = field(default="", repr=False)  # redis://…: distributed mode (holds a password)
    visibility_timeout: float = 900.0  # seconds a check's task may stay unacknowledged before it is redelivered

    def __post_init__(self) -> None:
        if not self.user_agent:
            object.__setattr__(self, "user_agent", default_user_agent())
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                low, high, exclusive = BOUNDS.get(f.name, DEFAULT_BOUNDS)
                if not (math.isfinite(value) and (value > low if exclusive else value >= low) and value <= high):
                    var = next((v for v, (name, _) in _ENV.items() if name == f.name), "")
                    shown = f"{f.name} ({var})" if var else f.name
                    above = "above" if exclusive else "from"
                    raise ConfigError(f"{shown} must be a finite number {above} {low:g} up to {high:g}, got {value!r}")

    @property
    def extraction_workers(self) -> int:
        return self.workers or (os.cpu_count() or 1)

    @property
    def fetch_settings(self) -> FetchSettings:
        return FetchSettings(
            self.user_agent,
            self.connect_timeout,
            self.read_timeout,
            self.total_timeout,
            self.max_body_bytes,
            self.max_redirects,
            self.concurrency,
            self.per_host,
            self.allow_all_private,
            self.allow_networks,
        )

    @property
    def extract_settings(self) -> ExtractSettings:
        return ExtractSettings(self.extraction_workers, self.extract_timeout)

    @property
    def rot_policy(self) -> RotPolicy:
        return RotPolicy(self.rot_failures, timedelta(days=self.rot_days))

    @property
    def archive_settings(self) -> ArchiveSettings:
        return ArchiveSettings(
            wayback_url=self.wayback_url.rstrip("/"),
            archive_url=self.archive_url.rstrip("/"),
            ia_access=self.ia_access,
            ia_secret=self.ia_secret,
            interval=self.wayback_interval,
            timeout=self.wayback_timeout,
            budget=self.archive_budget,
            memento_endpoints=self.memento_endpoints,
            capture_fresh_days=self.capture_fresh_days,
            job_max_age_hours=self.job_max_age_hours,
            poll_seconds=self.wayback_poll_seconds,
            poll_rounds=self.wayback_poll_rounds,
            retry_seconds=self.wayback_retry_seconds,
            user_agent=self.user_agent,
            fetch=self.fetch_settings,
            extract=self.extract_settings,
        )

    @property
    def browser_settings(self) -> BrowserSettings:
        return BrowserSettings(
            self.browser,
            self.browser_pages,
            self.chromium,
            self.screenshot_max_height,
            self.fetch_settings,
            self.screenshots,
        )

    @property
    def database_path(self) -> Path:
        return self.data_dir / "archiver.db"

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read `ARCHIVER_*` variables from `environ` (default: the process environment);
        explicit overrides (CLI flags) win over them. None overrides are ignored."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        known = {f.name for f in fields(cls)}
        for var, (name, parse) in _ENV.items():
            raw = env.get(var)
            if raw is None or raw == "":
                continue
            try:
                values.update(parse(raw) if name == "*" else {name: parse(raw)})
            except (ValueError, OverflowError) as exc:
                shown = redacted_or_hidden(raw) if var in SECRETS else raw
                raise ConfigError(f"{var}={shown[:80]!r}: {exc}") from None
        if env.get("ARCHIVER_WAYBACK_URL") and not env.get("ARCHIVER_ARCHIVE_URL"):
            # one override moves every archive endpoint, so tests never leave loopback
            values["archive_url"] = values["wayback_url"]
        if env.get("ARCHIVER_WAYBACK_URL") and not env.get("ARCHIVER_MEMENTO_AGGREGATOR"):
            values["memento_endpoints"] = ()  # ... and the aggregator is only asked when named
        for key, value in overrides.items():
            if key not in known:
                raise ConfigError(f"unknown setting {key!r}")
            if value is not None:
                values[key] = value
        return cls(**values)


def parse_allow_private(raw: str) -> dict[str, Any]:
    """`1`/`true` allows every private address; otherwise a comma-separated list of networks."""
    text = raw.strip().lower()
    if text in {"1", "true", "yes", "all"}:
        return {"allow_all_private": True, "allow_networks": ()}
    if text in {"0", "false", "no", "none"}:
        return {"allow_all_private": False, "allow_networks": ()}
    nets = []
    for part in raw.split(","):
        part = part.strip()
        if part:
            try:
                nets.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"{part!r} is neither 1/0 nor an IP network such as 127.0.0.1/32") from None
    return {"allow_all_private": False, "allow_networks": tuple(nets)}


def _number(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("must be a number") from None
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _positive_float(raw: str) -> float:
    value = _number(raw)
    if value <= 0:
        raise ValueError("must be a positive number")
    return value


def _whole(raw: str) -> int:
    text = raw.strip()
    if not (text.lstrip("+-").isascii() and text.lstrip("+-").isdigit()) or len(text) > 12:
        raise ValueError("must be a whole number")
    return int(text)


def _byte_size(raw: str) -> int:
    """`10485760`, `10M`, `512k`."""
    text = raw.strip().upper().removesuffix("B").removesuffix("I")
    scale = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(text[-1:], 1)
    number = _number(text[:-1] if scale > 1 else text)
    if number * scale > 2**62:
        raise ValueError("is too large")
    return int(number * scale)


def _flag(raw: str) -> bool:
    text = raw.strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError("must be 1 or 0")


def _url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return raw.rstrip("/")


def _endpoints(raw: str) -> tuple[str, ...]:
    """Memento TimeMap or TimeGate URL prefixes, space- or comma-separated; `none` for none."""
    parts = tuple(p for p in raw.replace(",", " ").split() if p)
    if parts in ((), ("none",), ("0",)):
        return ()
    bad = [p for p in parts if not p.startswith(("http://", "https://"))]
    if bad:
        raise ValueError(f"{bad[0]!r} is not an http:// or https:// URL prefix (or `none`)")
    return parts


_ENV: dict[str, tuple[str, Callable[[str], Any]]] = {
    "ARCHIVER_DATA_DIR": ("data_dir", Path),
    "ARCHIVER_SOURCES": ("sources", Path),
    "ARCHIVER_USER_AGENT": ("user_agent", str),
    "ARCHIVER_CONNECT_TIMEOUT": ("connect_timeout", _positive_float),
    "ARCHIVER_READ_TIMEOUT": ("read_timeout", _positive_float),
    "ARCHIVER_TIMEOUT": ("total_timeout", _positive_float),
    "ARCHIVER_MAX_BODY": ("max_body_bytes", _byte_size),
    "ARCHIVER_MAX_REDIRECTS": ("max_redirects", _whole),
    "ARCHIVER_CONCURRENCY": ("concurrency", _whole),
    "ARCHIVER_PER_HOST": ("per_host", _whole),
    "ARCHIVER_WORKERS": ("workers", _whole),
    "ARCHIVER_ALLOW_PRIVATE": ("*", parse_allow_private),
    "ARCHIVER_ROT_FAILURES": ("rot_failures", _whole),
    "ARCHIVER_ROT_DAYS": ("rot_days", _positive_float),
    "ARCHIVER_PROBE_DAYS": ("probe_days", _positive_float),
    "ARCHIVER_WAYBACK_URL": ("wayback_url", _url),
    "ARCHIVER_ARCHIVE_URL": ("archive_url", _url),
    "ARCHIVER_IA_ACCESS": ("ia_access", str),
    "ARCHIVER_IA_SECRET": ("ia_secret", str),
    "ARCHIVER_WAYBACK_INTERVAL": ("wayback_interval", _number),
    "ARCHIVER_WAYBACK_TIMEOUT": ("wayback_timeout", _positive_float),
    "ARCHIVER_ARCHIVE_BUDGET": ("archive_budget", _positive_float),
    "ARCHIVER_MEMENTO_AGGREGATOR": ("memento_endpoints", _endpoints),
    "ARCHIVER_CAPTURE_FRESH_DAYS": ("capture_fresh_days", _positive_float),
    "ARCHIVER_WAYBACK": ("wayback", _flag),
    "ARCHIVER_WAYBACK_POLL_ROUNDS": ("wayback_poll_rounds", _whole),
    "ARCHIVER_EXTRACT_TIMEOUT": ("extract_timeout", _positive_float),
    "ARCHIVER_NOTIFY": ("notify", lambda raw: tuple(u for u in raw.replace(",", " ").split() if u)),
    "ARCHIVER_EDITOR_PASSWORD_HASH": ("editor_password_hash", str),
    "ARCHIVER_TRUST_PROXY": ("trust_proxy", _flag),
    "ARCHIVER_BROWSER": ("browser", BrowserMode),
    "ARCHIVER_BROWSER_PAGES": ("browser_pages", int),
    "ARCHIVER_CHROMIUM": ("chromium", str),
    "ARCHIVER_SCREENSHOT_MAX_HEIGHT": ("screenshot_max_height", int),
    "ARCHIVER_SCREENSHOTS": ("screenshots", _flag),
    "ARCHIVER_DATABASE_URL": ("database_url", server_url("postgresql", "postgres")),
    "ARCHIVER_BROKER_URL": ("broker_url", server_url("redis", "rediss")),
    "ARCHIVER_VISIBILITY_TIMEOUT": ("visibility_timeout", _positive_float),
}
