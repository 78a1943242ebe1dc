"""The web application of `archiver serve`: the dashboard, citation pages, the JSON API and the
Memento endpoint, read-only; and, for an editor logged in (see `serve.auth`), the review forms of
a citation's page, which record decisions through `archiver.review` like `archiver review` does.

Every form post is checked, in order: credentials configured (else 403: read-only), a body within
`MAX_FORM` bytes, its Origin (else Referer) ours, its CSRF token the session's (the login form's:
the double-submit cookie's), and for a review a live session."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from archiver.config import Settings
from archiver.errors import ArchiverError, ConfigError
from archiver.models import Decision, utcnow
from archiver.models.rows import CaptureRow
from archiver.report import build_entry, build_report, render_html
from archiver.report.build import build_page
from archiver.report.pages import Editor, Filters, citation_href, render_citation, render_dashboard, render_login
from archiver.review import decide
from archiver.serve import auth
from archiver.serve.memento import Answer, Archive, memento, memento_stamp, text, timegate, timemap
from archiver.serve.server import BoundedServer
from archiver.store import Store

log = logging.getLogger("archiver.serve")

PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'"
MAX_FORM = 16 * 1024  # bytes of a form post: a note of 2,000 characters and change
MAX_CONNECTIONS = 32  # requests served at once; more wait for nobody: they get a 503 at once
IDLE_TIMEOUT = 10.0  # seconds a connection may send nothing before it is closed
SCREENSHOT = re.compile(r"[A-Za-z0-9_./-]{1,200}\.png")


@dataclass
class Editing:
    """What writing needs: the settings (data directory, rot policy), the password hash (empty:
    read-only), whether a proxy's X-Forwarded-Proto is believed, and the live sessions."""

    settings: Settings | None = None
    password_hash: str = field(default="", repr=False)
    trust_proxy: bool = False
    sessions: auth.Sessions = field(default_factory=auth.Sessions)

    @property
    def enabled(self) -> bool:
        return bool(self.password_hash) and self.settings is not None


def make_handler(archive: Archive, editing: Editing) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "citation-archiver"

        def log_message(self, fmt: str, *args: Any) -> None:
            log.info("%s %s", self.address_string(), fmt % args)

        def do_HEAD(self) -> None:  # noqa: N802
            self._answer(self._get, head=True)

        def do_GET(self) -> None:  # noqa: N802
            self._answer(self._get, head=False)

        def do_POST(self) -> None:  # noqa: N802
            self._answer(self._post, head=False)

        def _answer(self, route: Callable[[str, dict[str, str]], Answer], head: bool) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            try:
                status, headers, body = route(parts.path, query)
            except (ValueError, OverflowError) as exc:
                status, headers, body = text(400, str(exc))
            except ArchiverError as exc:  # the store cannot be read: say so, never an empty reply
                log.error("%s: %s", self.path[:200], exc)
                status, headers, body = text(503, f"the store cannot be read: {exc}")
            except Exception:  # the HTTP boundary: a bug answers 500 and is logged, it never drops the connection
                log.exception("%s failed", self.path[:200])
                status, headers, body = text(500, "internal error (logged by the server)")
            self.send_response(status)
            for name, value in headers.items():
                for one in value.split("\n") if name == "Set-Cookie" else [value]:
                    self.send_header(name, one)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "same-origin")
            self.end_headers()
            if not head:
                self.wfile.write(body)

        # GET -----------------------------------------------------------------------------------------

        def _get(self, path: str, query: dict[str, str]) -> Answer:
            raw = self.path.split("?", 1)[0]
            if path in ("/", "/index.html"):
                with archive.open() as store:
                    report = build_report(store, utcnow(), archive.article)
                return _page(render_dashboard(report, Filters.of(query), self._editor()))
            if path == "/report":
                with archive.open() as store:
                    return _page(render_html(build_report(store, utcnow(), archive.article), local_files=False))
            if path == "/api/report":
                with archive.open() as store:
                    return _json(build_report(store, utcnow(), archive.article).to_json())
            if path == "/login":
                return self._login_form("")
            if path.startswith("/files/"):
                return self._file(unquote(path[len("/files/") :]))
            if raw.startswith("/memento/"):
                return memento(archive, raw[len("/memento/") :])
            if raw.startswith("/timegate/"):
                return timegate(archive, unquote(raw[len("/timegate/") :]), self.headers.get("Accept-Datetime"))
            if raw.startswith("/timemap/link/"):
                return timemap(archive, unquote(raw[len("/timemap/link/") :]))
            if raw.startswith("/api/citations/"):
                return self._api_citation(unquote(raw[len("/api/citations/") :]))
            if raw.startswith("/citations/"):
                return self._citation(unquote(raw[len("/citations/") :]), query.get("done", ""))
            return text(404, "not found")

        def _citation(self, key: str, message: str) -> Answer:
            with archive.open() as store:
                row = store.citation(key)
                if row is None or row.key != key:
                    return text(404, f"no citation {key}")
                view = build_page(store, row)
            return _page(render_citation(view, self._editor(), message[:200]))

        def _api_citation(self, key: str) -> Answer:
            with archive.open() as store:
                row = store.citation(key)
                if row is None or row.key != key or row.removed_at is not None:
                    return text(404, f"no citation {key}")
                watched_id = row.watched_id or row.id
                entry = build_entry(store, row).to_json()
                entry["versions_list"] = [
                    {
                        "hash": v.hash,
                        "first_seen": v.first_seen,
                        "title": v.title,
                        "words": v.words,
                        "memento": f"{archive.base}/memento/{memento_stamp(v)}/{row.url}",
                    }
                    for v in store.versions(watched_id)
                ]
                entry["captures"] = [_capture_json(c) for c in store.captures(watched_id)]
            return _json(entry)

        def _file(self, relative: str) -> Answer:
            """A screenshot, by its path in the data directory (PNG files only, never outside it)."""
            if not SCREENSHOT.fullmatch(relative) or ".." in relative.split("/"):
                return text(404, "not found")
            path = (archive.data_dir / relative).resolve()
            if not path.is_relative_to(archive.data_dir.resolve()) or not path.is_file():
                return text(404, "not found")
            return 200, {"Content-Type": "image/png", "Cache-Control": "max-age=86400"}, path.read_bytes()

        # who is asking -------------------------------------------------------------------------------

        def _cookies(self) -> dict[str, str]:
            return auth.read_cookies(self.headers.get("Cookie"))

        def _session(self) -> tuple[str, auth.Session | None]:
            sid = self._cookies().get(auth.SESSION_COOKIE, "")
            return sid, (editing.sessions.get(sid) if sid and editing.enabled else None)

        def _editor(self) -> Editor:
            _, session = self._session()
            if session is None:
                return Editor(editing.enabled)
            return Editor(True, session.editor, session.csrf)

        def _secure(self) -> bool:
            forwarded = self.headers.get("X-Forwarded-Proto", "")
            return editing.trust_proxy and forwarded.split(",")[0].strip().lower() == "https"

        def _origin(self) -> str:
            host = self.headers.get("Host", "")
            return f"{'https' if self._secure() else 'http'}://{host}"

        def _login_form(self, message: str, status: int = 200) -> Answer:
            if not editing.enabled:
                return text(403, "serve is read-only: no editor credentials are configured")
            token = auth.new_token()
            cookie = auth.cookie(auth.LOGIN_COOKIE, token, secure=self._secure(), max_age=3600)
            code, headers, body = _page(render_login(token, message))
            return status, {**headers, "Set-Cookie": cookie}, body

        # POST ----------------------------------------------------------------------------------------

        def _post(self, path: str, query: dict[str, str]) -> Answer:
            if not editing.enabled:
                return text(403, "serve is read-only: no editor credentials are configured")
            length = self.headers.get("Content-Length", "")
            if not length.isdigit():
                return text(411, "a form post needs a Content-Length")
            if int(length) > MAX_FORM:
                return text(413, f"a form post is at most {MAX_FORM} bytes")
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(length)).decode("utf-8", "replace")).items()}
            if not auth.same_origin(self.headers.get("Origin"), self.headers.get("Referer"), self._origin()):
                return text(403, "refused: the form was not posted from this site (Origin/Referer)")
            if path == "/login":
                return self._login(form)
            sid, session = self._session()
            if session is None:
                return self._login_form("Your session has expired or you are not logged in: log in again.", 403)
            if not auth.same_token(form.get("csrf", ""), session.csrf):
                return text(403, "refused: the form's CSRF token is missing or wrong; reload the page")
            if path == "/logout":
                editing.sessions.end(sid)
                cookie = auth.cookie(auth.SESSION_COOKIE, "", secure=self._secure(), max_age=0)
                return 303, {"Location": "/", "Set-Cookie": cookie}, b""
            if path.startswith("/citations/") and path.endswith("/review"):
                return self._review(unquote(path[len("/citations/") : -len("/review")]), form, session)
            return text(404, "not found")

        def _login(self, form: dict[str, str]) -> Answer:
            if not auth.same_token(form.get("csrf", ""), self._cookies().get(auth.LOGIN_COOKIE, "")):
                return text(403, "refused: the login form's CSRF token is missing or wrong; reload the page")
            name = " ".join(form.get("name", "").split())[:100]
            if not name or not auth.verify_password(form.get("password", ""), editing.password_hash):
                log.warning("failed editor login from %s", self.address_string())
                return self._login_form("Wrong name or password.", 403)
            sid, _ = editing.sessions.start(name)
            secure = self._secure()
            cookies = "\n".join(
                [
                    auth.cookie(auth.SESSION_COOKIE, sid, secure=secure, max_age=int(editing.sessions.lifetime)),
                    auth.cookie(auth.LOGIN_COOKIE, "", secure=secure, max_age=0),
                ]
            )
            return 303, {"Location": "/", "Set-Cookie": cookies}, b""

        def _review(self, key: str, form: dict[str, str], session: auth.Session) -> Answer:
            settings = editing.settings
            assert settings is not None  # `enabled`
            choice = form.get("decision", "")
            undo = choice == "undo"
            try:
                decision = None if undo else Decision(choice)
            except ValueError:
                return text(400, f"unknown decision {choice[:40]!r}")
            try:
                with Store.open(settings.data_dir, database_url=settings.database_url) as store:
                    done = decide(
                        store,
                        key,
                        decision,
                        by=session.editor,
                        note=form.get("note", ""),
                        undo=undo,
                        now=utcnow(),
                        policy=settings.rot_policy,
                    )
            except ConfigError as exc:
                return text(400, str(exc))
            what = f"undid {done.review.decision}" if done.undone else f"recorded: {done.review.decision}"
            location = citation_href(done.citation.key) + "?" + f"done={what.replace(' ', '+')}"
            return 303, {"Location": location}, b""

    return Handler


def _page(body: str) -> Answer:
    return 200, {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": PAGE_CSP}, body.encode()


def _capture_json(c: CaptureRow) -> dict[str, object]:
    """A known capture as the API shows it (the names of its stored columns)."""
    fields = {k: v for k, v in asdict(c).items() if k not in ("watched_id", "replay")}
    verified = None if c.verified is None else int(c.verified)
    return {"citation_id": c.watched_id, **fields, "url": c.url, "verified": verified}


def _json(data: Any) -> Answer:
    return 200, {"Content-Type": "application/json"}, json.dumps(data, ensure_ascii=False, indent=2).encode()


def make_server(
    data_dir: Path,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    max_connections: int = MAX_CONNECTIONS,
    idle_timeout: float = IDLE_TIMEOUT,
    article: str | None = None,
    editing: Editing | None = None,
    database_url: str = "",
) -> BoundedServer:
    """The server; `editing` (with a password hash) lets a logged-in editor record decisions."""
    server = BoundedServer((host, port), max_connections)
    bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    handler = make_handler(
        Archive(data_dir, f"http://{shown}:{bound_port}", article, database_url), editing or Editing()
    )
    handler.timeout = idle_timeout  # StreamRequestHandler puts it on the socket: every read waits this long at most
    server.RequestHandlerClass = handler
    return server
