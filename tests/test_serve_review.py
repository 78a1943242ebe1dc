"""`archiver serve` as the editor's desk: the dashboard list, a citation's page, and review forms
that write only for an authenticated editor (hashed password, sessions that expire, CSRF token on
every form, Origin/Referer checked). A real server on 127.0.0.1 and a real store."""

from __future__ import annotations

import html
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from click.testing import CliRunner
from conftest import write_sources
from simweb import LOREM, article

from archiver import Store, run_check
from archiver.cli import cli
from archiver.models import HealthStatus
from archiver.report.words import COLOURS
from archiver.serve import Editing, make_server
from archiver.serve.auth import Sessions, hash_password, verify_password

PASSWORD = "correct horse battery staple"
HASH = hash_password(PASSWORD)


@pytest.fixture
def desk(web, settings, clock):
    """Article `a`: citation 1 drifted, 2 dead; article `b` cites the drifted page too."""
    story = web.page("/world/story", article("Kursk deployment", *LOREM))
    write_sources(
        settings.sources,
        [
            {"article": "a", "id": "1", "url": story, "claim": "Selon Séoul, 15 000 soldats ont été envoyés."},
            {"article": "a", "id": "2", "url": web.url("/world/gone")},
            {"article": "b", "id": "7", "url": story},
        ],
    )
    run_check(settings, clock=clock)
    clock.advance(days=2)
    web.page(story, article("Kursk deployment", LOREM[0].replace("about 15,000", "thousands of"), *LOREM[1:]))
    run_check(settings, clock=clock)
    return settings


@contextmanager
def serving(settings, editing: Editing | None = None) -> Iterator[str]:
    server = make_server(settings.data_dir, "127.0.0.1", 0, editing=editing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def editing(settings, **kw) -> Editing:
    return Editing(settings, HASH, **kw)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def login(client: httpx.Client, base: str, name: str = "Alice Editor", password: str = PASSWORD) -> httpx.Response:
    form = client.get("/login")
    assert form.status_code == 200
    return client.post(
        "/login", data={"name": name, "password": password, "csrf": csrf_of(form.text)}, headers={"Origin": base}
    )


def decisions(settings) -> list:
    with Store.open(settings.data_dir) as store:
        return store.review_history("a", "1")


def test_without_credentials_serve_stays_read_only(desk):
    with serving(desk, Editing(desk, "")) as base, httpx.Client(base_url=base) as client:
        page = client.get("/citations/a:1")
        assert page.status_code == 200 and "Read-only" in page.text and '<form method="post"' not in page.text
        assert client.get("/login").status_code == 403
        answer = client.post("/citations/a:1/review", data={"decision": "accept"}, headers={"Origin": base})
        assert answer.status_code == 403 and "read-only" in answer.text
    assert decisions(desk) == []


def test_an_editor_logs_in_decides_and_sees_the_decision(desk):
    with serving(desk, editing(desk)) as base, httpx.Client(base_url=base) as client:
        assert "Log in to review" in client.get("/citations/a:1").text
        answer = login(client, base)
        assert answer.status_code == 303
        cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("archiver_session="))
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie  # plain HTTP
        page = client.get("/citations/a:1").text
        assert "Editor: Alice Editor" in page and "Accept this version" in page
        done = client.post(
            "/citations/a:1/review",
            data={"decision": "accept", "note": "the figure was corrected", "csrf": csrf_of(page)},
            headers={"Origin": base},
        )
        assert done.status_code == 303 and done.headers["location"].startswith("/citations/a:1?done=")
        shown = client.get(done.headers["location"]).text
        assert "accepted by Alice Editor" in shown and "the figure was corrected" in shown
        assert 'class="status" style="background:#2e7d32">OK' in shown
    (kept,) = decisions(desk)
    assert kept.by == "Alice Editor" and kept.note == "the figure was corrected"


@pytest.mark.parametrize("token", ["", "forged-token"])
def test_a_forged_form_writes_nothing(desk, token):
    with serving(desk, editing(desk)) as base, httpx.Client(base_url=base) as client:
        login(client, base)
        data = {"decision": "ignore", **({"csrf": token} if token else {})}
        answer = client.post("/citations/a:1/review", data=data, headers={"Origin": base})
        assert answer.status_code == 403 and "CSRF" in answer.text
        form = client.get("/login")
        forged_login = client.post(
            "/login", data={"name": "x", "password": PASSWORD, "csrf": token or "none"}, headers={"Origin": base}
        )
        assert form.status_code == 200 and forged_login.status_code == 403
    assert decisions(desk) == []


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "http://evil.example"}, {"Referer": "http://evil.example/page"}, {}],
    ids=["other-origin", "other-referer", "neither"],
)
def test_a_post_from_another_origin_writes_nothing(desk, headers):
    with serving(desk, editing(desk)) as base, httpx.Client(base_url=base) as client:
        login(client, base)
        token = csrf_of(client.get("/citations/a:1").text)
        answer = client.post("/citations/a:1/review", data={"decision": "ignore", "csrf": token}, headers=headers)
        assert answer.status_code == 403 and "Origin/Referer" in answer.text
    assert decisions(desk) == []


def test_sessions_expire_and_a_wrong_password_opens_none(desk):
    with serving(desk, editing(desk, sessions=Sessions(lifetime=1.0))) as base, httpx.Client(base_url=base) as client:
        wrong = login(client, base, password="guess")
        assert wrong.status_code == 403 and "Wrong name or password" in wrong.text
        assert not any(c.startswith("archiver_session=") for c in wrong.headers.get_list("set-cookie"))
        login(client, base)
        token = csrf_of(client.get("/citations/a:1").text)
        time.sleep(1.3)
        late = client.post(
            "/citations/a:1/review", data={"decision": "ignore", "csrf": token}, headers={"Origin": base}
        )
        assert late.status_code == 403 and "session has expired" in late.text
    assert decisions(desk) == []


def test_cookies_are_secure_behind_a_proxy_that_says_tls_and_only_when_trusted(desk):
    for trusted, secure in ((True, True), (False, False)):
        with serving(desk, editing(desk, trust_proxy=trusted)) as base, httpx.Client(base_url=base) as client:
            proxied = {"X-Forwarded-Proto": "https"}
            form = client.get("/login", headers=proxied)
            origin = base.replace("http://", "https://") if trusted else base
            client.cookies.set("archiver_login", csrf_of(form.text))  # a Secure cookie: httpx keeps it for TLS
            answer = client.post(
                "/login",
                data={"name": "Alice", "password": PASSWORD, "csrf": csrf_of(form.text)},
                headers={**proxied, "Origin": origin},
            )
            assert answer.status_code == 303, answer.text
            cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("archiver_session="))
            assert ("; Secure" in cookie) is secure


def test_hash_password_prints_a_hash_that_serve_accepts_and_a_bad_one_is_refused(settings):
    result = CliRunner().invoke(cli, ["hash-password", "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    printed = result.output.strip()
    assert printed.startswith("scrypt$") and PASSWORD not in printed and verify_password(PASSWORD, printed)
    assert not verify_password("wrong", printed)
    settings.data_dir.mkdir()
    bad = CliRunner().invoke(
        cli,
        ["--data-dir", str(settings.data_dir), "serve", "--port", "0"],
        env={"ARCHIVER_EDITOR_PASSWORD_HASH": "plaintext"},
    )
    assert bad.exit_code == 3 and "ARCHIVER_EDITOR_PASSWORD_HASH is not a hash" in bad.output


def test_the_dashboard_filters_and_sorts_and_links_every_citation(desk):
    with serving(desk) as base, httpx.Client(base_url=base) as client:
        every = client.get("/").text
        for key in ("a:1", "a:2", "b:7"):
            assert f'href="/citations/{key}"' in every
        rotten = client.get("/", params={"status": "rotten"}).text
        assert 'href="/citations/a:2"' in rotten and 'href="/citations/a:1"' not in rotten
        only_b = client.get("/", params={"article": "b"}).text
        assert 'href="/citations/b:7"' in only_b and 'href="/citations/a:1"' not in only_b
        assert "1 citation(s) shown" in client.get("/", params={"article": "b", "host": "127.0.0.1"}).text
        by_id = client.get("/", params={"sort": "id"}).text
        assert by_id.index("/citations/a:1") < by_id.index("/citations/a:2") < by_id.index("/citations/b:7")
        for key in ("a:1", "a:2", "b:7"):
            assert client.get(f"/citations/{key}").status_code == 200


def test_the_citation_page_shows_what_an_editor_needs_to_decide(desk):
    with serving(desk) as base, httpx.Client(base_url=base) as client:
        page = client.get("/citations/a:1").text
        assert "Drifted" in page and "the source no longer says 15 000" in page  # status and evidence
        assert "Selon Séoul" in page and "Does the source still support it?" in page and "no longer" in page
        assert "2 checks" in page and "drift: fact_change" in page  # the timeline, with the drift event
        assert "Archived copies" in page and "Versions (2)" in page and "what changed from version 2" in page
        assert "The same page is cited by" in page and 'href="/citations/b:7"' in page
        dead = client.get("/citations/a:2").text
        assert "Rotten" in dead and "HTTP 404" in dead and "No version stored yet" in dead


def test_every_status_colour_meets_wcag_aa_under_white_text():
    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    for status in HealthStatus:
        ratio = (1.05) / (luminance(COLOURS[status]) + 0.05)
        assert ratio >= 4.5, f"{status}: {COLOURS[status]} is {ratio:.2f}:1"


def test_the_html_report_from_disk_links_files_that_open(desk, tmp_path):
    result = CliRunner().invoke(
        cli, ["--data-dir", str(desk.data_dir), "report", "--format", "html", "-o", str(tmp_path / "r.html")]
    )
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r.html").read_text()
    assert "file://snapshots" not in page
    links = re.findall(r'href="(file://[^"]+)"', page)
    assert links and all(link.startswith("file:///") for link in links)
    from urllib.parse import unquote, urlsplit

    assert all(__import__("pathlib").Path(unquote(urlsplit(html.unescape(x)).path)).is_file() for x in links)
