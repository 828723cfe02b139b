"""External credential values: {"$env": NAME} and {"$vault": "mount/path#key"} are read when a
run uses the credential (never stored), against the process environment and a local HTTP
server speaking Vault's KV v2 read API."""

from __future__ import annotations

import json

import pytest

from tests.factories import make_workflow, run_now, simple_definition
from tests.servers import LoopbackServer
from workflows.models import Credential
from workflows.services import credential_create

pytestmark = pytest.mark.django_db

VAULT_TOKEN = "hvs.test-root-token"


@pytest.fixture
def api_server():
    server = LoopbackServer().start()
    server.route("GET", "/echo", lambda req: (200, {"Content-Type": "application/json"},
                                              json.dumps(req.headers).encode()))
    yield server
    server.stop()


@pytest.fixture
def vault(settings):
    """A KV v2 read endpoint: GET /v1/<mount>/data/<path> with X-Vault-Token."""
    secrets = {"/v1/secret/data/app/api": {"token": "tok-from-vault-1", "other": "x"}}
    server = LoopbackServer().start()

    def read(req):
        path = req.path.split("?", 1)[0]
        if req.headers.get("X-Vault-Token") != VAULT_TOKEN:
            return 403, {"Content-Type": "application/json"}, b'{"errors":["permission denied"]}'
        if path not in secrets:
            return 404, {"Content-Type": "application/json"}, b'{"errors":[]}'
        body = {"data": {"data": secrets[path], "metadata": {
            "created_time": "2026-11-30T00:00:00Z", "deletion_time": "", "destroyed": False,
            "version": 1}}}
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    for path in ("/v1/secret/data/app/api", "/v1/secret/data/app/missing"):
        server.route("GET", path, read)
    settings.WFAIB = {**settings.WFAIB, "VAULT_URL": server.url, "VAULT_TOKEN": VAULT_TOKEN}
    yield server
    server.stop()


def call(owner, server, credential):
    workflow = make_workflow(owner=owner, definition=simple_definition(
        {"id": "call", "type": "http", "config": {"url": f"{server.url}/echo",
                                                  "credential": credential.pk}}))
    return run_now(workflow)


def test_an_env_value_is_read_at_run_time_and_never_stored(user, api_server, monkeypatch):
    credential = credential_create(owner=user, name="t", kind="bearer_token",
                                   data={"token": {"$env": "WFAIB_SECRET_API_TOKEN"}})
    missing = call(user, api_server, credential)
    assert missing.status == "failed"
    assert "the environment variable 'WFAIB_SECRET_API_TOKEN' is not set" in missing.error
    monkeypatch.setenv("WFAIB_SECRET_API_TOKEN", "tok-from-env-1")
    run = call(user, api_server, credential)
    assert run.status == "succeeded", run.error
    assert api_server.requests[-1].headers["Authorization"] == "Bearer tok-from-env-1"
    assert Credential.objects.get(pk=credential.pk).data == {
        "token": {"$env": "WFAIB_SECRET_API_TOKEN"}}


def test_env_names_outside_the_prefix_are_refused_at_run_time(user, api_server, monkeypatch):
    monkeypatch.setenv("SOME_SERVER_SECRET", "do-not-leak-1")
    credential = credential_create(owner=user, name="t", kind="bearer_token",
                                   data={"token": {"$env": "SOME_SERVER_SECRET"}})
    run = call(user, api_server, credential)
    assert run.status == "failed"
    assert "may only name variables starting with 'WFAIB_SECRET_'" in run.error
    assert not api_server.requests


def test_a_vault_value_is_read_at_run_time(user, api_server, vault):
    credential = credential_create(owner=user, name="v", kind="api_key_header", data={
        "header_name": "X-Key", "api_key": {"$vault": "secret/app/api#token"}})
    run = call(user, api_server, credential)
    assert run.status == "succeeded", run.error
    assert api_server.requests[-1].headers["X-Key"] == "tok-from-vault-1"
    assert vault.requests[-1].headers["X-Vault-Token"] == VAULT_TOKEN
    assert "tok-from-vault-1" not in Credential.objects.get(pk=credential.pk).encrypted_data


@pytest.mark.parametrize(("ref", "reason"), [
    ("secret/app/missing#token", "the Vault secret 'secret/app/missing' does not exist"),
    ("secret/app/api#nokey", "the Vault secret 'secret/app/api' has no key 'nokey'"),
])
def test_vault_failures_name_the_field(user, api_server, vault, ref, reason):
    credential = credential_create(owner=user, name="v", kind="bearer_token",
                                   data={"token": {"$vault": ref}})
    run = call(user, api_server, credential)
    assert run.status == "failed"
    assert f"credential 'v' field 'token': {reason}" in run.error


def test_a_refused_vault_token_says_so(user, api_server, vault, settings):
    settings.WFAIB = {**settings.WFAIB, "VAULT_TOKEN": "hvs.wrong-token-7"}
    credential = credential_create(owner=user, name="v", kind="bearer_token",
                                   data={"token": {"$vault": "secret/app/api#token"}})
    run = call(user, api_server, credential)
    assert run.status == "failed"
    assert "Vault refused to read 'secret/app/api' (permission denied)" in run.error
    assert "hvs.wrong-token-7" not in run.error
