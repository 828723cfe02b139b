"""The template gallery: at least twelve templates, each imported and run.

Templates without services run as imported with their sample input; those calling an HTTP API
run against a loopback server standing in for api.example.com, those calling an LLM against a
loopback OpenAI-compatible server (its key and URL filled in, as a user would). Templates that
wait (approval, delay) are run to their wait, then resumed.
"""

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone

from runs.engine.executor import execute_run
from runs.engine.resume_tokens import resume_token
from runs.models import Run, RunLog
from runs.services import run_resume_webhook
from tests.factories import make_workflow, run_now
from tests.llm_servers import ModelServer
from tests.servers import LoopbackServer
from workflows.gallery import all_templates, available_templates
from workflows.validation import validate_definition
from workflows.variables import variable_create

pytestmark = pytest.mark.django_db

EXPECTED: dict[str, Any] = {
    "webhook-json-api": {"greeting": "Hello, Ada!", "length": 3},
    "validate-signup": {"email": "ada@example.com", "name": "Ada"},
    "route-by-priority": {"queue": "urgent", "title": "Site down", "page_on_call": True},
    "order-totals-loop": {"lines": [{"sku": "A1", "total": 19.0}, {"sku": "B2", "total": 20}],
                          "grand_total": 39.0},
    "code-statistics": {"count": 8, "mean": 3.875, "min": 1.0, "max": 9.0},
    "clean-contacts": {"contacts": [{"email": "ada@x.org", "name": "Ada"},
                                    {"email": "bob@y.org", "name": "Bob"}], "count": 2},
    "enrich-from-two-apis": {"name": "Ada", "orders": 2, "spent": 30},
    "retry-then-fallback": {"source": "api", "data": {"ok": True}},
    "threshold-alert": "ok",
}


def test_the_gallery_has_at_least_twelve_valid_templates():
    templates = all_templates()
    assert len(templates) >= 12
    assert len({t["key"] for t in templates}) == len(templates)
    for t in templates:
        assert set(t) == {"key", "name", "description", "category", "services",
                          "sample_input", "definition"}, t["key"]
        assert set(t["services"]) <= {"http", "llm"}, t["key"]
        assert validate_definition(t["definition"]) == [], t["key"]
    assert {t["key"] for t in available_templates()} == {t["key"] for t in templates}


@pytest.fixture
def services():
    api, llm = LoopbackServer().start(), ModelServer().start()
    api.json("POST", "/hook", {"received": True})
    api.json("GET", "/health", {"status": "up"})
    api.json("GET", "/users/7", {"id": 7, "name": "Ada"})
    api.json("GET", "/orders", [{"total": 10}, {"total": 20}])
    api.json("GET", "/metrics", {"errors": 3})
    api.json("POST", "/alerts", {"sent": True})
    calls = {"flaky": 0}

    def flaky(_request):
        calls["flaky"] += 1
        if calls["flaky"] < 3:
            return 503, {"Content-Type": "application/json"}, b'{"busy": true}'
        return 200, {"Content-Type": "application/json"}, b'{"ok": true}'

    api.route("GET", "/flaky", flaky)
    yield api, llm
    api.stop()
    llm.stop()


def imported(template: dict, api: LoopbackServer, llm: ModelServer, user) -> Any:
    """The template as a user imports it and fills in its services."""
    text = json.dumps(template["definition"]).replace("https://api.example.com", api.url)
    definition = json.loads(text)
    for node in definition["nodes"]:
        if node["type"] == "llm":
            node["config"].update(base_url=llm.url + "/v1", api_key="sk-test")
    return make_workflow(owner=user, name=template["name"], definition=definition)


def _resume_due(run: Run) -> Run:
    past = (timezone.now() - dt.timedelta(seconds=1)).isoformat()
    for log in run.logs.filter(status=RunLog.Status.WAITING):
        RunLog.objects.filter(pk=log.pk).update(output={**log.output, "resume_at": past})
    Run.objects.filter(pk=run.pk).update(status=Run.Status.QUEUED)
    execute_run(run.pk)
    run.refresh_from_db()
    return run


# The AI templates (embeddings, vector store, agent tools) run in test_gallery_ai.py against a
# model server that speaks embeddings and tool calls.
AI_TEMPLATES = {"rag-ingest", "rag-answer", "agent-workflow-tools", "email-extraction"}


@pytest.mark.parametrize("key", sorted(t["key"] for t in all_templates()
                                       if t["key"] not in AI_TEMPLATES))
def test_every_template_runs_on_import(key, services, user):
    api, llm = services
    template = next(t for t in all_templates() if t["key"] == key)
    workflow = imported(template, api, llm, user)
    run = run_now(workflow, input=template["sample_input"])
    if key == "approval-by-link":
        assert run.status == Run.Status.WAITING, run.error
        assert run.logs.get(node_id="ask").output["approve_url"].endswith(
            resume_token(run.pk, "approval"))
        run_resume_webhook(token=resume_token(run.pk, "approval"), payload={"approved": True})
        execute_run(run.pk)
        run.refresh_from_db()
        assert run.result == {"request": "Buy 3 laptops", "approved": True}
    elif key == "delayed-follow-up":
        assert run.status == Run.Status.WAITING, run.error
        run = _resume_due(run)
        assert run.result == {"to": "ada@example.com", "subject": "How is it going, Ada?"}
    assert run.status == Run.Status.SUCCEEDED, (key, run.error)
    if key in EXPECTED:
        assert run.result == EXPECTED[key], key
    if key == "webhook-llm-http":
        assert api.requests[-1].json()["summary"].startswith("echo: Summarise")
    if key == "llm-triage":
        assert run.response["body"]["label"] == "urgent"
    if key == "scheduled-http-check":
        assert run.result["status"] == 200


def test_the_threshold_template_reads_its_project_variable(services, user):
    api, llm = services
    template = next(t for t in all_templates() if t["key"] == "threshold-alert")
    workflow = imported(template, api, llm, user)
    variable_create(project=workflow.project, key="error_threshold", value="2")
    run = run_now(workflow)
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert api.requests[-1].json() == {"text": "errors: 3"}


def test_the_api_lists_the_gallery(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    answer = client.get("/api/workflow-templates")
    assert answer.status_code == 200
    assert len(answer.json()) >= 12
    assert all(t["definition"]["name"] == t["name"] for t in answer.json())
