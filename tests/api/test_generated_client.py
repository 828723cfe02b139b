"""The OpenAPI document as a client generator reads it: unique operation ids, JSON when asked
the usual ways, and a Python client generated from it (openapi-python-client) that signs in,
creates a workflow, triggers its webhook and reads the run, against a live server."""

import importlib
import json
import os
import subprocess
import sys
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from tests.factories import UserFactory

PASSWORD = "correct horse battery"


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "accept"), [("?format=json", None),
                                               ("?format=openapi-json", None),
                                               ("", "application/json")])
def test_the_schema_is_json_when_asked(client, query, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = client.get("/api/schema/" + query, **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["openapi"].startswith("3.")


@pytest.mark.django_db
def test_the_schema_is_yaml_by_default_and_with_format_yaml(client):
    for query in ("", "?format=yaml"):
        response = client.get("/api/schema/" + query)
        assert response.status_code == 200
        assert response.content.startswith(b"openapi: 3")


@pytest.mark.django_db
def test_operation_ids_are_unique(client):
    doc = client.get("/api/schema/?format=json").json()
    ids = Counter(op["operationId"] for ops in doc["paths"].values() for op in ops.values()
                  if isinstance(op, dict) and "operationId" in op)
    assert [name for name, n in ids.items() if n > 1] == []
    assert doc["paths"]["/api/runs/retry"]["post"]["operationId"] == "runs_bulk_retry"


@pytest.fixture
def generated(live_server, tmp_path):
    """The client package generated from the live server's schema, imported."""
    schema = tmp_path / "schema.json"
    with urllib.request.urlopen(live_server.url + "/api/schema/?format=json") as answer:
        schema.write_bytes(answer.read())
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [str(bin_dir / "openapi-python-client"), "generate", "--path", str(schema),
         "--output-path", str(tmp_path / "wfaib_client"), "--meta", "none"],
        capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module("wfaib_client")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == "wfaib_client" or
                     m.startswith("wfaib_client.")]:
            del sys.modules[name]


def test_a_generated_client_logs_in_creates_triggers_and_reads_a_run(generated, live_server):
    from runs.dispatch import wait_for_run

    user = UserFactory()
    user.set_password(PASSWORD)
    user.save()

    login = importlib.import_module("wfaib_client.api.auth.auth_login")
    me = importlib.import_module("wfaib_client.api.auth.auth_me")
    create = importlib.import_module("wfaib_client.api.workflows.workflows_create")
    listing = importlib.import_module("wfaib_client.api.workflows.workflows_list")
    webhook = importlib.import_module("wfaib_client.api.webhook.webhook_trigger")
    run_get = importlib.import_module("wfaib_client.api.runs.runs_retrieve")
    start = importlib.import_module("wfaib_client.api.runs.workflows_runs_create")
    models = importlib.import_module("wfaib_client.models")

    anonymous = generated.Client(base_url=live_server.url, raise_on_unexpected_status=True)
    signed_in = login.sync(client=anonymous,
                           body=models.LoginRequest(email=user.email, password=PASSWORD))
    assert isinstance(signed_in, models.LoginResponse), signed_in
    api = generated.AuthenticatedClient(base_url=live_server.url, token=signed_in.token,
                                        prefix="Token", raise_on_unexpected_status=True)
    assert me.sync(client=api).email == user.email

    definition = {"name": "greeter", "nodes": [
        {"id": "in", "type": "webhook", "config": {}},
        {"id": "hello", "type": "transform", "config": {"expression": "'hi ' + input['who']"}},
    ], "edges": [{"from": "in", "to": "hello"}]}
    workflow = create.sync(client=api,
                           body=models.WorkflowRequest(name="greeter", definition=definition))
    assert isinstance(workflow, models.Workflow), workflow
    assert workflow.version == 1
    assert [w.id for w in listing.sync(client=api).results] == [workflow.id]

    answered = webhook.sync_detailed(workflow.id, client=api, body={"who": "Ada"})
    assert answered.status_code == 200, answered.content
    result = json.loads(answered.content)
    assert result["result"] == "hi Ada"

    run = run_get.sync(result["run"], client=api)
    assert run.status == "succeeded"
    assert [log.node_id for log in run.logs] == ["in", "hello"]

    queued = start.sync(workflow.id, client=api,
                        body=models.RunStartRequest(input_={"who": "Grace"}))
    assert isinstance(queued, models.Run), queued
    wait_for_run(queued.id, 30)
    assert run_get.sync(queued.id, client=api).result == "hi Grace"
