"""The http node authenticates with a stored credential: header key, bearer, basic auth and
OAuth2 (client credentials; authorization code with the connect flow and refresh), against a
local API and a local OAuth2 token server started by the test."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.factories import make_workflow, run_now, simple_definition
from tests.servers import LoopbackServer
from workflows.models import Credential
from workflows.services import credential_create

pytestmark = pytest.mark.django_db(transaction=True)


class OAuthServer:
    """A token endpoint (client credentials, authorization code, refresh) and an API that
    accepts only the latest access token."""

    def __init__(self, server: LoopbackServer):
        self.server, self.issued, self.grants = server, 0, []
        self.valid: set[str] = set()
        self.refresh_ok = True
        server.route("POST", "/token", self.token)
        server.route("GET", "/api", self.api)

    def token(self, req):
        form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        self.grants.append(form)
        if (form.get("client_id"), form.get("client_secret")) != ("app", "app-secret-1"):
            return self._json(401, {"error": "invalid_client"})
        grant = form.get("grant_type")
        if grant == "authorization_code" and form.get("code") != "the-code":
            return self._json(400, {"error": "invalid_grant"})
        if grant == "refresh_token" and (not self.refresh_ok
                                         or form.get("refresh_token") != "refresh-1"):
            return self._json(400, {"error": "invalid_grant"})
        self.issued += 1
        token = f"access-{self.issued}"
        self.valid = {token}
        answer = {"access_token": token, "token_type": "Bearer", "expires_in": 3600}
        if grant == "authorization_code":
            answer["refresh_token"] = "refresh-1"
        return self._json(200, answer)

    def api(self, req):
        token = req.headers.get("Authorization", "").removeprefix("Bearer ")
        # the token's number: the token itself is a secret the run scrubs from outputs
        return self._json(200 if token in self.valid else 401,
                          {"seen": token.removeprefix("access-")})

    @staticmethod
    def _json(status, body):
        return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


@pytest.fixture
def oauth():
    server = LoopbackServer().start()
    yield OAuthServer(server)
    server.stop()


def call(owner, url, credential):
    workflow = make_workflow(owner=owner, definition=simple_definition(
        {"id": "call", "type": "http", "config": {"url": url, "credential": credential}}))
    return run_now(workflow)


def test_header_bearer_and_basic_credentials_are_applied(user):
    server = LoopbackServer().start()
    try:
        server.route("GET", "/echo", lambda req: (200, {"Content-Type": "application/json"},
                                                  json.dumps(req.headers).encode()))
        key = credential_create(owner=user, name="key", kind="api_key_header",
                                data={"header_name": "X-Api-Key", "api_key": "key-123"})
        credential_create(owner=user, name="basic", kind="basic_auth",
                          data={"username": "ann", "password": "pw-456"})
        run = call(user, f"{server.url}/echo", key.pk)
        assert run.status == "succeeded", run.error
        assert server.requests[-1].headers["X-Api-Key"] == "key-123"
        run = call(user, f"{server.url}/echo", "basic")
        assert run.status == "succeeded", run.error
        assert server.requests[-1].headers["Authorization"] == "Basic YW5uOnB3LTQ1Ng=="
        smtp = credential_create(owner=user, name="mail", kind="smtp", data={"host": "h"})
        refused = call(user, f"{server.url}/echo", smtp.pk)
        assert refused.status == "failed"
        assert "of kind 'smtp'; this node needs one of: api_key_header" in refused.error
    finally:
        server.stop()


def oauth_data(oauth, **extra):
    return {"grant_type": "client_credentials", "token_url": f"{oauth.server.url}/token",
            "client_id": "app", "client_secret": "app-secret-1", **extra}


def test_client_credentials_fetch_a_token_once_and_store_it_encrypted(user, oauth):
    from django.db import connection

    credential = credential_create(owner=user, name="cc", kind="oauth2", data=oauth_data(oauth))
    first = call(user, f"{oauth.server.url}/api", credential.pk)
    assert first.status == "succeeded", first.error
    assert first.result["body"] == {"seen": "1"}
    second = call(user, f"{oauth.server.url}/api", credential.pk)
    assert second.result["body"] == {"seen": "1"}  # cached, not fetched again
    assert oauth.issued == 1
    stored = Credential.objects.get(pk=credential.pk).data
    assert stored["access_token"] == "access-1"
    assert stored["expires_at"] > time.time() + 3000
    with connection.cursor() as cursor:
        cursor.execute("SELECT encrypted_data FROM workflows_credential")
        assert all("access-1" not in row[0] for row in cursor.fetchall())
    # A token about to expire is renewed before the call.
    credential.data = {**stored, "expires_at": time.time() + 5}
    credential.save()
    third = call(user, f"{oauth.server.url}/api", credential.pk)
    assert third.result["body"] == {"seen": "2"}


def test_a_refused_client_fails_the_node_without_the_secret(user, oauth):
    credential = credential_create(owner=user, name="cc", kind="oauth2",
                                   data=oauth_data(oauth, client_secret="wrong-secret-9"))
    run = call(user, f"{oauth.server.url}/api", credential.pk)
    assert run.status == "failed"
    assert "OAuth2 credential 'cc': the token endpoint answered HTTP 401 (invalid_client)" \
        in run.error
    assert "wrong-secret-9" not in run.error


def test_authorization_code_connect_refresh_and_expiry(user, oauth, api, client):
    credential = credential_create(owner=user, name="ac", kind="oauth2", data=oauth_data(
        oauth, grant_type="authorization_code", authorize_url="https://idp.example/authorize",
        scope="read"))
    never = call(user, f"{oauth.server.url}/api", credential.pk)
    assert never.status == "failed"
    assert "the access token was never obtained" in never.error
    started = api.post(f"/api/credentials/{credential.pk}/oauth2/connect").json()
    query = parse_qs(urlsplit(started["authorize_url"]).query)
    assert started["authorize_url"].startswith("https://idp.example/authorize?")
    assert query["client_id"] == ["app"]
    assert query["scope"] == ["read"]
    assert query["redirect_uri"] == [started["redirect_uri"]]
    state = query["state"][0]
    # the provider sends the browser back with a code
    bad = client.get("/api/oauth2/callback", {"code": "the-code", "state": state + "x"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "oauth2_connect_refused"
    done = client.get("/api/oauth2/callback", {"code": "the-code", "state": state})
    assert done.status_code == 200, done.content
    assert done.json() == {"ok": True, "credential": credential.pk}
    replay = client.get("/api/oauth2/callback", {"code": "the-code", "state": state})
    assert replay.status_code == 400
    assert "already used" in replay.json()["message"]
    stored = Credential.objects.get(pk=credential.pk).data
    assert (stored["access_token"], stored["refresh_token"]) == ("access-1", "refresh-1")
    assert call(user, f"{oauth.server.url}/api", credential.pk).result["body"] == {
        "seen": "1"}
    # expired: the refresh token renews it
    credential.data = {**stored, "expires_at": time.time() - 10}
    credential.save()
    renewed = call(user, f"{oauth.server.url}/api", credential.pk)
    assert renewed.result["body"] == {"seen": "2"}
    assert oauth.grants[-1]["grant_type"] == "refresh_token"
    # expired and the refresh refused: the node fails saying to connect again
    oauth.refresh_ok = False
    credential.refresh_from_db()
    credential.data = {**credential.data, "expires_at": time.time() - 10}
    credential.save()
    failed = call(user, f"{oauth.server.url}/api", credential.pk)
    assert failed.status == "failed"
    assert "could not be refreshed: connect the credential again" in failed.error
    assert "refresh-1" not in failed.error
    assert "app-secret-1" not in failed.error


def test_connect_is_only_for_authorization_code_credentials(user, oauth, api):
    credential = credential_create(owner=user, name="cc", kind="oauth2", data=oauth_data(oauth))
    response = api.post(f"/api/credentials/{credential.pk}/oauth2/connect")
    assert response.status_code == 400
    assert response.json()["code"] == "oauth2_connect_refused"


def test_test_connection_of_an_oauth2_credential_fetches_a_token(user, oauth, api):
    credential = credential_create(owner=user, name="cc", kind="oauth2", data=oauth_data(oauth))
    response = api.post(f"/api/credentials/{credential.pk}/test",
                        {"url": f"{oauth.server.url}/api"}, format="json")
    assert response.json() == {"ok": True,
                               "message": f"GET {oauth.server.url}/api answered HTTP 200"}
    assert oauth.issued == 1
