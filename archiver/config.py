"""Settings: one frozen object, loaded once from the environment and flags, then passed down."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from archiver.errors import ConfigError
from archiver.models import BrowserMode

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_WAYBACK_URL = "https://web.archive.org"
DEFAULT_ARCHIVE_URL = "https://archive.org"


def default_user_agent() -> str:
    from archiver._version import __version__

    return f"citation-archiver/{__version__} (checks pages cited by articles for link rot and drift)"


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
    wayback_timeout: float = 60.0  # read timeout of an archive request
    capture_fresh_days: float = 30.0  # a capture of the same content this recent is not repeated
    job_max_age_hours: float = 24.0  # a capture job pending longer is given up
    wayback_poll_seconds: float = 10.0  # between two polls of a pending capture job
    wayback_poll_rounds: int = 6  # polls in one run before a pending job is left for the next
    wayback_retry_seconds: float = 60.0  # first back-off after a retryable refusal, doubling
    wayback: bool = True  # submit and look up captures after each check pass
    notify: tuple[str, ...] = field(default=(), repr=False)  # Apprise URLs for status changes (hold tokens)
    browser: BrowserMode = BrowserMode.AUTO  # auto falls back to never when Chromium is not found
    browser_pages: int = 2  # pages rendered at once; each is a Chromium renderer of 50-150 MiB
    chromium: str = ""  # Chromium's executable; "" looks for `chromium` on PATH
    screenshot_max_height: int = 8000  # pixels: a full-page screenshot is cut there

    def __post_init__(self) -> None:
        if not self.user_agent:
            object.__setattr__(self, "user_agent", default_user_agent())
        for name in ("connect_timeout", "read_timeout", "total_timeout"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("max_body_bytes", "max_redirects", "concurrency", "per_host", "rot_failures"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.workers < 0:
            raise ConfigError(f"workers must be 0 (one per core) or more, got {self.workers}")

    @property
    def extraction_workers(self) -> int:
        return self.workers or (os.cpu_count() or 1)

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
            except ValueError as exc:
                raise ConfigError(f"{var}={raw!r}: {exc}") from None
        if env.get("ARCHIVER_WAYBACK_URL") and not env.get("ARCHIVER_ARCHIVE_URL"):
            # one override moves every archive endpoint, so tests never leave loopback
            values["archive_url"] = values["wayback_url"]
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


def _positive_float(raw: str) -> float:
    value = float(raw)
    if value <= 0:
        raise ValueError("must be a positive number")
    return value


def _byte_size(raw: str) -> int:
    """`10485760`, `10M`, `512k`."""
    text = raw.strip().upper().removesuffix("B").removesuffix("I")
    scale = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(text[-1:], 1)
    number = text[:-1] if scale > 1 else text
    return int(float(number) * scale)


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


_ENV: dict[str, tuple[str, Callable[[str], Any]]] = {
    "ARCHIVER_DATA_DIR": ("data_dir", Path),
    "ARCHIVER_SOURCES": ("sources", Path),
    "ARCHIVER_USER_AGENT": ("user_agent", str),
    "ARCHIVER_CONNECT_TIMEOUT": ("connect_timeout", _positive_float),
    "ARCHIVER_READ_TIMEOUT": ("read_timeout", _positive_float),
    "ARCHIVER_TIMEOUT": ("total_timeout", _positive_float),
    "ARCHIVER_MAX_BODY": ("max_body_bytes", _byte_size),
    "ARCHIVER_MAX_REDIRECTS": ("max_redirects", int),
    "ARCHIVER_CONCURRENCY": ("concurrency", int),
    "ARCHIVER_PER_HOST": ("per_host", int),
    "ARCHIVER_WORKERS": ("workers", int),
    "ARCHIVER_ALLOW_PRIVATE": ("*", parse_allow_private),
    "ARCHIVER_ROT_FAILURES": ("rot_failures", int),
    "ARCHIVER_ROT_DAYS": ("rot_days", _positive_float),
    "ARCHIVER_PROBE_DAYS": ("probe_days", _positive_float),
    "ARCHIVER_WAYBACK_URL": ("wayback_url", _url),
    "ARCHIVER_ARCHIVE_URL": ("archive_url", _url),
    "ARCHIVER_IA_ACCESS": ("ia_access", str),
    "ARCHIVER_IA_SECRET": ("ia_secret", str),
    "ARCHIVER_WAYBACK_INTERVAL": ("wayback_interval", float),
    "ARCHIVER_WAYBACK_TIMEOUT": ("wayback_timeout", _positive_float),
    "ARCHIVER_CAPTURE_FRESH_DAYS": ("capture_fresh_days", _positive_float),
    "ARCHIVER_WAYBACK": ("wayback", _flag),
    "ARCHIVER_WAYBACK_POLL_ROUNDS": ("wayback_poll_rounds", int),
    "ARCHIVER_NOTIFY": ("notify", lambda raw: tuple(u for u in raw.replace(",", " ").split() if u)),
    "ARCHIVER_BROWSER": ("browser", BrowserMode),
    "ARCHIVER_BROWSER_PAGES": ("browser_pages", int),
    "ARCHIVER_CHROMIUM": ("chromium", str),
    "ARCHIVER_SCREENSHOT_MAX_HEIGHT": ("screenshot_max_height", int),
}
