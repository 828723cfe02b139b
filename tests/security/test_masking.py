"""Issue 17, item 2: one masking rule (wfaib/masking.py) for every output. The attack: read a
workflow's secrets back from the audit trail (workflow.create stored the whole definition) or
from the API (HTTP node headers such as Authorization were shown as stored)."""

from __future__ import annotations

import importlib
import json
import logging

import pytest
from django.apps import apps as django_apps
from rest_framework.test import APIClient

from audit.models import AuditEvent
from runs.models import Run
from tests.factories import UserFactory, make_workflow, run_now, simple_definition
from wfaib.masking import MASK, mask_text
from workflows.services import workflow_delete

pytestmark = pytest.mark.django_db

SECRETS = {
    "authorization": "Bearer sk-live-authorization-0001",
    "cookie": "sessionid=cookie-secret-0002",
    "x_api_key": "api-key-secret-0003",
    "proxy": "Basic cHJveHk6c2VjcmV0LTAwMDQ=",
    "llm": "sk-llm-api-key-0005",
    "token": "tok-secret-0006",
}


def secret_definition() -> dict:
    http = {"id": "call", "type": "http", "config": {
        "url": "https://api.example.com/items",
        "headers": {"Authorization": SECRETS["authorization"], "Cookie": SECRETS["cookie"],
                    "X-Api-Key": SECRETS["x_api_key"],
                    "Proxy-Authorization": SECRETS["proxy"],
                    "X-Webhook-Token": SECRETS["token"], "Accept": "application/json"}}}
    llm = {"id": "ask", "type": "llm", "config": {"prompt": "hi", "api_key": SECRETS["llm"]}}
    return simple_definition(http, llm)


def leaks(text: str) -> list[str]:
    return [name for name, value in SECRETS.items() if value in text]


@pytest.fixture
def owner_client():
    owner = UserFactory()
    client = APIClient()
    client.force_authenticate(owner)
    return owner, client


def test_audit_create_and_delete_events_hold_no_secret(owner_client):
    owner, client = owner_client
    answer = client.post("/api/workflows", {"name": "s", "definition": secret_definition()},
                         format="json")
    assert answer.status_code == 201, answer.content
    workflow_id = answer.json()["id"]
    created = AuditEvent.objects.get(action="workflow.create")
    stored = json.dumps(created.diff)
    assert leaks(stored) == []
    assert MASK in stored
    assert "application/json" in stored  # the rest of the definition is still recorded

    from workflows.models import Workflow

    workflow_delete(workflow=Workflow.objects.get(pk=workflow_id), actor=owner)
    deleted = AuditEvent.objects.get(action="workflow.delete")
    assert leaks(json.dumps(deleted.diff)) == []


def test_audit_update_of_a_header_secret_is_recorded_as_changed_only(owner_client):
    owner, client = owner_client
    workflow = make_workflow(owner=owner, definition=secret_definition())
    definition = secret_definition()
    definition["nodes"][1]["config"]["headers"]["Authorization"] = "Bearer sk-rotated-0007"
    answer = client.patch(f"/api/workflows/{workflow.pk}", {"definition": definition},
                          format="json")
    assert answer.status_code == 200
    update = AuditEvent.objects.get(action="workflow.update")
    text = json.dumps(update.diff)
    assert "sk-rotated-0007" not in text
    assert leaks(text) == []
    assert {"op": "replace", "path": "definition.nodes[id=call].config.headers.Authorization",
            "masked": True} in update.diff


def test_api_answers_mask_http_credential_headers_everywhere(owner_client):
    owner, client = owner_client
    workflow = make_workflow(owner=owner, definition=secret_definition())
    for url in (f"/api/workflows/{workflow.pk}", "/api/workflows",
                f"/api/workflows/{workflow.pk}/versions/1"):
        body = client.get(url).content.decode()
        assert leaks(body) == [], url
    shown = client.get(f"/api/workflows/{workflow.pk}").json()["definition"]
    headers = shown["nodes"][1]["config"]["headers"]
    assert headers == {"Authorization": MASK, "Cookie": MASK, "X-Api-Key": MASK,
                       "Proxy-Authorization": MASK, "X-Webhook-Token": MASK,
                       "Accept": "application/json"}


def test_saving_a_masked_definition_back_keeps_every_stored_secret(owner_client):
    owner, client = owner_client
    workflow = make_workflow(owner=owner, definition=secret_definition())
    shown = client.get(f"/api/workflows/{workflow.pk}").json()
    shown["definition"]["nodes"][1]["config"]["url"] = "https://api.example.com/v2"
    answer = client.put(f"/api/workflows/{workflow.pk}", {
        "name": "s", "definition": shown["definition"], "version": shown["version"]},
        format="json")
    assert answer.status_code == 200, answer.content
    workflow.refresh_from_db()
    assert workflow.definition == {**secret_definition(), "name": workflow.definition["name"],
                                   "nodes": [secret_definition()["nodes"][0],
                                             {**secret_definition()["nodes"][1], "config": {
                                                 **secret_definition()["nodes"][1]["config"],
                                                 "url": "https://api.example.com/v2"}},
                                             # saving stamps the llm type's current version
                                             {**secret_definition()["nodes"][2], "version": 2}]}


def test_admin_form_and_export_mask_header_secrets(client):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    workflow = make_workflow(owner=admin_user, definition=secret_definition())
    page = client.get(f"/admin/workflows/workflow/{workflow.pk}/change/").content.decode()
    assert leaks(page) == []
    assert MASK in page
    exported = client.post("/admin/workflows/workflow/", {
        "action": "export_json", "_selected_action": [workflow.pk]})
    assert exported.status_code == 200
    assert leaks(exported.content.decode()) == []
    # An event written before the rule held the definition in plain text.
    AuditEvent.objects.filter(action="workflow.create").update(
        diff=[{"op": "add", "path": "definition", "new": secret_definition()}])
    events = client.get("/admin/audit/auditevent/").content.decode()
    detail = client.get(f"/admin/audit/auditevent/"
                        f"{AuditEvent.objects.get(action='workflow.create').pk}/change/")
    assert leaks(events + detail.content.decode()) == []
    migration = importlib.import_module("audit.migrations.0002_mask_secrets")
    migration.mask_events(django_apps, None)  # and the data migration masks it in place
    assert leaks(json.dumps(AuditEvent.objects.get(action="workflow.create").diff)) == []


def test_run_errors_mask_credentials_in_urls(owner_client, api_server, settings):
    """An HTTP node's error names its URL; user info and secret query parameters are masked in
    the run's API answer and the webhook's run_failed answer."""
    owner, client = owner_client
    api_server.json("GET", "/fail", {"no": 1}, status=500)
    url = f"{api_server.url}/fail?api_key=query-secret-0008&page=2"
    url = url.replace("http://", "http://admin:url-password-0009@")
    workflow = make_workflow(owner=owner, definition=simple_definition(
        {"id": "call", "type": "http", "config": {"url": url}}))
    run = run_now(workflow)
    assert run.status == Run.Status.FAILED
    assert "query-secret-0008" in run.error  # stored as the engine wrote it
    body = client.get(f"/api/runs/{run.pk}").content.decode()
    assert "query-secret-0008" not in body
    assert "url-password-0009" not in body
    assert "page=2" in body


def test_logs_mask_credentials(caplog):
    logger = logging.getLogger("wfaib.test.masking")
    from wfaib.masking import MaskingFilter

    handler = logging.StreamHandler()
    handler.addFilter(MaskingFilter())
    records: list[str] = []
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logger.addHandler(handler)
    try:
        logger.warning("calling %s with %s", "https://u:pw-0010@h.example/x?token=t-0011",
                       "Authorization: Bearer abcdef-0012")
    finally:
        logger.removeHandler(handler)
    assert records
    assert "pw-0010" not in records[0]
    assert "t-0011" not in records[0]
    assert "abcdef-0012" not in records[0]


def test_the_settings_install_the_masking_filter_on_the_console():
    from django.conf import settings

    console = settings.LOGGING["handlers"]["console"]
    assert "mask_secrets" in console["filters"]
    assert settings.LOGGING["filters"]["mask_secrets"]["()"] == "wfaib.masking.MaskingFilter"


@pytest.mark.parametrize(("text", "hidden"), [
    ("GET https://user:hunter2@example.com/a failed", "hunter2"),
    ("POST https://example.com/a?access_token=abc123&x=1 failed", "abc123"),
    ("Authorization: Bearer eyJhbGciOi.x.y", "eyJhbGciOi"),
    ("https://example.com/cb?code=oauth-code-1", "oauth-code-1"),
])
def test_mask_text(text, hidden):
    assert hidden not in mask_text(text)
    assert MASK in mask_text(text)
