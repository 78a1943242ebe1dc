"""Who may write through `archiver serve`: one editor password (only its scrypt hash is kept, in
`ARCHIVER_EDITOR_PASSWORD_HASH`; `archiver hash-password` prints it), sessions held in memory with
an absolute lifetime, a CSRF token per session (and a double-submit token for the login form), and
the Origin (else Referer) of every form post checked against our own origin. Without a hash
configured, nothing is written: `serve` stays read-only. No I/O beyond the clock it is given."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

SCHEME = "scrypt"
N, R, P = 2**14, 8, 1  # scrypt's interactive-login parameters (16 MiB, tens of milliseconds)
SESSION_SECONDS = 8 * 3600.0  # a working day, then log in again
MAX_SESSIONS = 1000
SESSION_COOKIE = "archiver_session"
LOGIN_COOKIE = "archiver_login"  # the login form's double-submit CSRF token
MAX_PASSWORD = 1024


def hash_password(password: str, salt: bytes | None = None) -> str:
    """`scrypt$N$r$p$salt$hash` (base64): what `ARCHIVER_EDITOR_PASSWORD_HASH` holds."""
    if not password or len(password) > MAX_PASSWORD:
        raise ValueError(f"a password of 1 to {MAX_PASSWORD} characters")
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    return "$".join([SCHEME, str(N), str(R), str(P), _b64(salt), _b64(digest)])


def check_hash(stored: str) -> str:
    """What is wrong with a configured hash ("" when nothing is)."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != SCHEME or not all(p.isdigit() for p in parts[1:4]):
        return "is not a hash printed by `archiver hash-password` (scrypt$N$r$p$salt$hash)"
    try:
        _unb64(parts[4]), _unb64(parts[5])
    except ValueError:
        return "has a salt or hash that is not base64"
    if not (2**10 <= int(parts[1]) <= 2**20 and 1 <= int(parts[2]) <= 32 and 1 <= int(parts[3]) <= 16):
        return "has scrypt parameters out of range"
    return ""


def verify_password(password: str, stored: str) -> bool:
    if not password or len(password) > MAX_PASSWORD or check_hash(stored):
        return False
    _, n, r, p, salt, digest = stored.split("$")
    got = hashlib.scrypt(
        password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=len(_unb64(digest)), maxmem=2**27
    )
    return hmac.compare_digest(got, _unb64(digest))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError(str(exc)) from None


@dataclass(frozen=True)
class Session:
    editor: str  # the name given at login: the author of the decisions made in this session
    csrf: str
    expires: float


class Sessions:
    """Editor sessions, in memory (a restart logs everyone out), each with its CSRF token."""

    def __init__(self, lifetime: float = SESSION_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.lifetime = lifetime
        self.clock = clock
        self._lock = threading.Lock()
        self._by_id: dict[str, Session] = {}

    def start(self, editor: str) -> tuple[str, Session]:
        sid = secrets.token_urlsafe(32)
        session = Session(editor, secrets.token_urlsafe(32), self.clock() + self.lifetime)
        with self._lock:
            now = self.clock()
            self._by_id = {k: s for k, s in self._by_id.items() if s.expires > now}
            while len(self._by_id) >= MAX_SESSIONS:
                self._by_id.pop(next(iter(self._by_id)))
            self._by_id[sid] = session
        return sid, session

    def get(self, sid: str) -> Session | None:
        with self._lock:
            session = self._by_id.get(sid)
            if session is not None and session.expires <= self.clock():
                del self._by_id[sid]
                return None
            return session

    def end(self, sid: str) -> None:
        with self._lock:
            self._by_id.pop(sid, None)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(given: str, expected: str) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def same_origin(origin: str | None, referer: str | None, ours: str) -> bool:
    """A form post comes from our own pages: its Origin is ours, or (a browser that sends none) its
    Referer is on our origin. Neither sent: refused."""
    if origin:
        return origin.rstrip("/") == ours
    if referer:
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}" == ours
    return False


def cookie(name: str, value: str, *, secure: bool, max_age: int) -> str:
    """A cookie scripts cannot read, never sent by another site's request, Secure over TLS."""
    flags = f"; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Strict" + ("; Secure" if secure else "")
    return f"{name}={value}{flags}"


def read_cookies(header: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (header or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name not in out:
            out[name] = value
    return out
