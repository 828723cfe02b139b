""""Test connection" per kind against real local servers: an HTTP API, an OpenAI-compatible
model list, SMTP (aiosmtpd) with login, the machine's PostgreSQL, SQLite; failures say why
without the secret; HTTP goes through the outbound address guard."""

from __future__ import annotations

import json
import socket
import sqlite3

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.servers import LoopbackServer, free_port
from workflows.services import credential_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def server():
    srv = LoopbackServer().start()
    yield srv
    srv.stop()


def make(user, kind, data, name="c"):
    return credential_create(owner=user, name=name, kind=kind, data=data)


def check(api, credential, **body):
    response = api.post(f"/api/credentials/{credential.pk}/test", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_an_http_credential_is_sent_to_the_given_url(api, user, server):
    def me(req):
        ok = req.headers.get("Authorization") == "Bearer tok-abc123"
        return (200 if ok else 401), {"Content-Type": "application/json"}, b"{}"

    server.route("GET", "/me", me)
    good = make(user, "bearer_token", {"token": "tok-abc123"})
    assert check(api, good, url=f"{server.url}/me") == {
        "ok": True, "message": f"GET {server.url}/me answered HTTP 200"}
    bad = make(user, "bearer_token", {"token": "tok-wrong1"}, name="bad")
    result = check(api, bad, url=f"{server.url}/me")
    assert result == {"ok": False, "message": f"GET {server.url}/me answered HTTP 401"}
    # the header credential and basic auth too
    server.route("GET", "/key", lambda req: (200 if req.headers.get("X-Key") == "k-123" else 403,
                                             {}, b""))
    header = make(user, "api_key_header", {"header_name": "X-Key", "api_key": "k-123"}, "h")
    assert check(api, header, url=f"{server.url}/key")["ok"] is True


def test_an_http_test_without_a_url_says_so_and_a_bad_url_is_400(api, user):
    credential = make(user, "bearer_token", {"token": "tok-abc123"})
    assert check(api, credential) == {
        "ok": False, "message": "give the URL to test against (body field `url`)"}
    bad = api.post(f"/api/credentials/{credential.pk}/test", {"url": "not a url"},
                   format="json")
    assert bad.status_code == 400
    assert "url" in bad.json()["fields"]


def test_the_http_test_goes_through_the_address_guard(api, user, server, settings):
    settings.WFAIB = {**settings.WFAIB, "HTTP_ALLOW": []}
    credential = make(user, "bearer_token", {"token": "tok-abc123"})
    result = check(api, credential, url=f"{server.url}/me")
    assert result["ok"] is False
    assert "refused" in result["message"]
    assert server.requests == []


def test_openai_lists_models_and_the_key_never_shows(api, user, server):
    def models(req):
        if req.headers.get("Authorization") != "Bearer sk-local-key":
            body = {"error": {"message": "Incorrect API key provided: sk-local-nope"}}
            return 401, {"Content-Type": "application/json"}, json.dumps(body).encode()
        return 200, {"Content-Type": "application/json"}, json.dumps(
            {"object": "list", "data": [{"id": "m1"}, {"id": "m2"}]}).encode()

    server.route("GET", "/v1/models", models)
    good = make(user, "openai", {"api_key": "sk-local-key", "base_url": f"{server.url}/v1"})
    assert check(api, good) == {"ok": True,
                               "message": f"GET {server.url}/v1/models answered HTTP 200; "
                                          f"2 models"}
    bad = make(user, "openai", {"api_key": "sk-local-nope", "base_url": f"{server.url}/v1"},
               name="bad")
    result = check(api, bad)
    assert result["ok"] is False
    assert "sk-local-nope" not in result["message"]


@pytest.fixture
def smtp_server():
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login, auth_data.password) == (b"mailer", b"smtp-pass-42")
        return AuthResult(success=ok, handled=False)

    port = free_port()
    controller = Controller(object(), hostname="127.0.0.1", port=port,
                            authenticator=authenticate, auth_require_tls=False)
    controller.start()
    yield port
    controller.stop()


def test_smtp_connects_and_logs_in(api, user, smtp_server):
    data = {"host": "127.0.0.1", "port": smtp_server, "security": "none",
            "username": "mailer", "password": "smtp-pass-42"}
    good = make(user, "smtp", data)
    assert check(api, good) == {
        "ok": True, "message": f"connected to 127.0.0.1:{smtp_server} and logged in as mailer"}
    bad = make(user, "smtp", {**data, "password": "smtp-wrong-99"}, name="bad")
    result = check(api, bad)
    assert result["ok"] is False
    assert result["message"] == (f"SMTP login as 'mailer' was refused by "
                                 f"127.0.0.1:{smtp_server} (535)")
    assert "smtp-wrong-99" not in result["message"]
    down = make(user, "smtp", {**data, "port": free_port()}, name="down")
    result = check(api, down)
    assert result["ok"] is False
    assert "Connection refused" in result["message"] or "Errno" in result["message"]


def test_postgresql_runs_select_1_and_a_failure_hides_the_password(api, user):
    good = make(user, "database", {"url": "postgresql://postgres@127.0.0.1:5432/postgres"})
    assert check(api, good) == {
        "ok": True, "message": "connected to PostgreSQL at 127.0.0.1:5432 and ran SELECT 1"}
    bad = make(user, "database", {
        "url": "postgresql://postgres:pg-secret-77@127.0.0.1:5432/wfaib_no_such_db"}, "bad")
    result = check(api, bad)
    assert result["ok"] is False
    assert "wfaib_no_such_db" in result["message"]
    assert "pg-secret-77" not in result["message"]


def test_sqlite_opens_an_existing_file_of_the_allowed_folders_only(api, user, tmp_path,
                                                                   settings):
    folder = tmp_path / "dbs"
    folder.mkdir()
    settings.WFAIB = {**settings.WFAIB, "SQLITE_DIRS": [str(folder)]}
    sqlite3.connect(folder / "data.db").close()
    good = make(user, "database", {"url": "sqlite:///data.db"})
    assert check(api, good) == {"ok": True,
                                "message": "opened the SQLite database and ran SELECT 1"}
    assert check(api, make(user, "database", {"url": f"sqlite:///{folder}/data.db"},
                           "absolute"))["ok"] is True
    missing = make(user, "database", {"url": "sqlite:///none.db"}, "missing")
    result = check(api, missing)
    assert result["ok"] is False
    assert result["message"] == "SQLite file 'none.db' does not exist"
    assert not (folder / "none.db").exists()
    # A file elsewhere on the server is no database a credential may test (or probe for).
    sqlite3.connect(tmp_path / "outside.db").close()
    for url in (f"sqlite:///{tmp_path}/outside.db", "sqlite:///../outside.db"):
        result = check(api, make(user, "database", {"url": url}, name=url))
        assert result["ok"] is False
        assert "outside the folders WFAIB_SQLITE_DIRS allows" in result["message"]


def test_sqlite_is_refused_without_allowed_folders(api, user, tmp_path, settings):
    settings.WFAIB = {**settings.WFAIB, "SQLITE_DIRS": []}
    sqlite3.connect(tmp_path / "data.db").close()
    result = check(api, make(user, "database", {"url": f"sqlite:///{tmp_path}/data.db"}))
    assert result == {"ok": False, "message": "SQLite files are not enabled here: the operator "
                      "lists the folders they may be in with WFAIB_SQLITE_DIRS"}


@pytest.fixture
def listener():
    """A TCP port that accepts nothing by itself: a connection made to it waits in the
    backlog, where the test can see it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock
    sock.close()


def connected(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        conn, _ = sock.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


@pytest.mark.parametrize(("kind", "data"), [
    ("smtp", lambda port: {"host": "127.0.0.1", "port": port, "security": "none",
                           "username": "mailer", "password": "smtp-pass-42"}),
    ("imap", lambda port: {"host": "127.0.0.1", "port": port, "ssl": False, "username": "wf",
                           "password": "imap-pw-31", "mailbox": "INBOX"}),
    ("database", lambda port: {"url": f"postgresql://app:pg-pass-9@127.0.0.1:{port}/app"}),
    ("database", lambda port: {"url": f"mysql://app:my-pass-9@127.0.0.1:{port}/app"}),
])
def test_an_internal_server_is_refused_unless_allowed(api, user, listener, settings, kind,
                                                      data):
    """smtp, imap and database tests connect only where the nodes may: an internal address
    is refused (and not connected to) unless WFAIB_HTTP_ALLOW permits it."""
    port = listener.getsockname()[1]
    credential = make(user, kind, data(port))
    settings.WFAIB = {**settings.WFAIB, "HTTP_ALLOW": []}
    result = check(api, credential)
    assert result == {"ok": False, "message": f"127.0.0.1:{port}: refused: 127.0.0.1 is "
                      f"a loopback address; allow it with WFAIB_HTTP_ALLOW"}
    assert not connected(listener)
    settings.WFAIB = {**settings.WFAIB, "HTTP_ALLOW": [f"127.0.0.1:{port + 1}"]}
    assert "port" in check(api, credential)["message"]  # allowed, on another port only
    assert not connected(listener)


def test_a_viewer_or_stranger_cannot_test(user, client_for):
    from tests.factories import UserFactory

    credential = make(user, "bearer_token", {"token": "tok-abc123"})
    stranger = client_for(UserFactory())
    response = stranger.post(f"/api/credentials/{credential.pk}/test", {}, format="json")
    assert response.status_code == 404
