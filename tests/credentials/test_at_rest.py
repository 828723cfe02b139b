"""No plaintext secret at rest: node-config secrets (a type's secret_fields, values under
secret keys such as an Authorization header) are encrypted in workflows_workflow.definition
and every saved version; the engine gets them decrypted; stored definitions are converted by
the migration; `manage.py rotate_keys` re-encrypts everything with the newest key."""

from __future__ import annotations

import importlib
import os
import tempfile

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from tests.factories import make_workflow, run_now, simple_definition
from tests.llm_servers import ModelServer
from tests.servers import LoopbackServer
from workflows.crypto import SEALED
from workflows.models import Credential, Workflow, WorkflowVersion
from workflows.services import credential_create, workflow_update

PLANTED = "sk-PLANTED-7f3a9c"
HEADER = "tok-PLANTED-header-55"


def definition(server_url: str, key: str = PLANTED, models_url: str | None = None) -> dict:
    """An llm node on `server_url` and an HTTP node reading `models_url` (else `server_url`)
    with a secret header."""
    return simple_definition(
        {"id": "ask", "type": "llm", "config": {"prompt": "hi", "model": "m",
                                                "base_url": f"{server_url}/v1",
                                                "api_key": key}},
        {"id": "call", "type": "http", "config": {
            "url": f"{models_url or server_url}/v1/models", "fail_on_error_status": False,
            "headers": {"Authorization": f"Bearer {HEADER}", "Accept": "json"}}})


def raw_rows() -> str:
    """Every stored definition and audit diff as the database holds it (text)."""
    cast = "::text" if connection.vendor == "postgresql" else ""
    texts = []
    with connection.cursor() as cursor:
        for sql in (f"SELECT definition{cast} FROM workflows_workflow",
                    f"SELECT definition{cast} FROM workflows_workflowversion",
                    f"SELECT diff{cast} FROM audit_auditevent"):
            cursor.execute(sql)
            texts += [str(row[0]) for row in cursor.fetchall()]
    return "\n".join(texts)


def sqlite_file_bytes() -> bytes:
    """The whole SQLite database as a file (VACUUM INTO a copy): what lies on disk."""
    path = os.path.join(tempfile.mkdtemp(), "copy.db")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM INTO %s", [path])
    with open(path, "rb") as handle:
        return handle.read()


@pytest.fixture
def llm():
    server = ModelServer(api_key=PLANTED).start()
    yield server
    server.stop()


@pytest.fixture
def models():
    server = LoopbackServer().start()
    server.route("GET", "/v1/models", lambda req: (
        200 if req.headers.get("Authorization") == f"Bearer {HEADER}" else 401, {}, b""))
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_a_planted_secret_is_nowhere_at_rest_and_the_engine_still_uses_it(user, llm, models,
                                                                         client_for):
    api = client_for(user)
    created = api.post("/api/workflows", {"name": "w", "definition": definition(
        llm.url, models_url=models.url)},
                       format="json")
    assert created.status_code == 201, created.content
    wid = created.json()["id"]
    shown = api.get(f"/api/workflows/{wid}").json()["definition"]
    assert PLANTED not in str(shown)  # masked in API output, as before
    # an edit sent back masked keeps the secret
    shown["nodes"][1]["config"]["prompt"] = "hello"
    assert api.put(f"/api/workflows/{wid}", {"name": "w", "definition": shown},
                   format="json").status_code == 200
    assert WorkflowVersion.objects.filter(workflow_id=wid).count() == 2
    workflow = Workflow.objects.get(pk=wid)
    assert workflow.definition["nodes"][1]["config"]["api_key"] == PLANTED  # plain in Python
    run = run_now(workflow, {"x": 1})
    assert run.status == "succeeded", run.error
    assert run.result["status"] == 200  # the decrypted header reached the server too
    assert models.requests[-1].headers["Authorization"] == f"Bearer {HEADER}"
    assert llm.requests[-1].headers["authorization"] == f"Bearer {PLANTED}"
    stored = raw_rows()
    assert SEALED in stored
    assert PLANTED not in stored
    assert HEADER not in stored
    if connection.vendor == "sqlite":
        on_disk = sqlite_file_bytes()
        assert PLANTED.encode() not in on_disk
        assert HEADER.encode() not in on_disk


@pytest.mark.django_db
def test_the_migration_seals_what_is_stored_in_plain_text(user):
    from django.apps import apps

    workflow = make_workflow(owner=user, definition=definition("http://127.0.0.1:9"))
    plain = '{"name": "w", "nodes": [{"id": "ask", "type": "llm", "config": ' \
            f'{{"prompt": "p", "api_key": "{PLANTED}"}}}}], "edges": []}}'
    with connection.cursor() as cursor:  # as stored before this change
        cursor.execute("UPDATE workflows_workflow SET definition = %s", [plain])
        cursor.execute("UPDATE workflows_workflowversion SET definition = %s", [plain])
    assert PLANTED in raw_rows()
    importlib.import_module("workflows.migrations.0006_sealed_definitions").seal_stored(
        apps, None)
    assert PLANTED not in raw_rows()
    assert Workflow.objects.get(pk=workflow.pk).definition["nodes"][0]["config"][
        "api_key"] == PLANTED


@pytest.mark.django_db
def test_rotate_keys_reencrypts_credentials_and_definitions(user, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.WFAIB = {**settings.WFAIB, "CREDENTIAL_KEYS": [old]}
    credential = credential_create(owner=user, name="c", kind="bearer_token",
                                   data={"token": "tok-rotate-1"})
    workflow = make_workflow(owner=user, definition=definition("http://127.0.0.1:9"))
    workflow_update(workflow=workflow, user=user, name="renamed")
    settings.WFAIB = {**settings.WFAIB, "CREDENTIAL_KEYS": [new, old]}
    call_command("rotate_keys", stdout=open(os.devnull, "w"))
    settings.WFAIB = {**settings.WFAIB, "CREDENTIAL_KEYS": [new]}  # the old key is gone
    assert Credential.objects.get(pk=credential.pk).data == {"token": "tok-rotate-1"}
    reread = Workflow.objects.get(pk=workflow.pk)
    assert reread.definition["nodes"][1]["config"]["api_key"] == PLANTED
    for version in WorkflowVersion.objects.filter(workflow=workflow):
        assert version.definition["nodes"][1]["config"]["api_key"] == PLANTED
    assert PLANTED not in raw_rows()
