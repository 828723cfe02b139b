"""Monthly budgets of model calls per workflow and per project: a call that would pass one
fails before it is made, naming the budget; the month's spend crossing 80 % is an audit event;
budgets are edited through the API and the admin."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Project
from accounts.services import project_create
from audit.models import AuditEvent
from runs.models import ModelCall
from tests.factories import UserFactory, make_workflow, run_now, simple_definition

pytestmark = pytest.mark.django_db
KEY = "sk-test"


def ask(server, node_id="ask", **config):
    return {"id": node_id, "type": "llm", "config": {
        "prompt": "{{ input.text }}", "base_url": server.url + "/v1", "api_key": KEY,
        "model": "test-model", "stream": False, **config}}


def test_a_call_that_would_pass_the_workflows_token_budget_is_not_made(llm_server):
    llm_server.reply("first", prompt_tokens=80, completion_tokens=10)
    workflow = make_workflow(name="bot", definition=simple_definition(
        ask(llm_server), ask(llm_server, "again", prompt="Say more about {{ input.content }}")),
        monthly_token_budget=100)
    run = run_now(workflow, input={"text": "hello"})
    assert run.status == "failed"
    assert run.error_node_id == "again"
    assert ("the workflow 'bot''s monthly tokens budget (100 tokens) would be exceeded: "
            "90 tokens spent this month") in run.error
    assert "the call was not made" in run.error
    assert KEY not in run.error
    assert llm_server.count("/v1/chat/completions") == 1  # the second call never left
    assert run.prompt_tokens == 80


def test_a_project_cost_budget_spent_this_month_stops_every_workflow_in_it(llm_server):
    owner = UserFactory()
    team = project_create(name="team", creator=owner, monthly_cost_budget=Decimal("0.50"))
    earlier = run_now(make_workflow(owner=owner, project=team,
                                    definition=simple_definition(ask(llm_server))),
                      input={"text": "x"})
    ModelCall.objects.create(run=earlier, workflow=earlier.workflow, project=team,
                             node_id="ask", provider="openai", model="m", cost=Decimal("0.5"))
    run = run_now(make_workflow(owner=owner, project=team, name="other",
                                definition=simple_definition(ask(llm_server))),
                  input={"text": "x"})
    assert run.status == "failed"
    assert "the project 'team''s monthly cost budget ($0.5000) would be exceeded" in run.error
    assert llm_server.count("/v1/chat/completions") == 1  # only the earlier run's call


def test_last_months_spend_does_not_count(llm_server):
    workflow = make_workflow(definition=simple_definition(ask(llm_server)),
                             monthly_token_budget=1000)
    earlier = run_now(workflow, input={"text": "x"})
    ModelCall.objects.filter(run=earlier).delete()
    ModelCall.objects.create(run=earlier, workflow=workflow, project=workflow.project,
                             node_id="ask", provider="openai", model="m", prompt_tokens=5000,
                             created_at=timezone.now() - dt.timedelta(days=40))
    assert run_now(workflow, input={"text": "x"}).status == "succeeded"


@pytest.mark.parametrize("parallelism", [1, 3])
def test_a_budget_stops_a_runaway_loop(llm_server, parallelism):
    loop = {"id": "each", "type": "loop",
            "config": {"items": "{{ input.items }}", "parallelism": parallelism}}
    body = ask(llm_server, prompt="{{ item }}")
    definition = simple_definition(loop, body, edges=[
        {"from": "trigger", "to": "each"}, {"from": "each", "to": "ask", "port": "each"}])
    for _ in range(40):
        llm_server.reply("ok", prompt_tokens=40, completion_tokens=10)
    workflow = make_workflow(name="loop", definition=definition, monthly_token_budget=300)
    run = run_now(workflow, input={"items": [f"item {i}" for i in range(40)]})
    assert run.status == "failed"
    assert "monthly tokens budget (300 tokens) would be exceeded" in run.error
    made = llm_server.count("/v1/chat/completions")
    assert made < 40
    assert ModelCall.objects.filter(run=run).count() == made  # every call made is in the ledger
    run.refresh_from_db()
    # at most one wave of parallel iterations passes the limit
    assert run.prompt_tokens + run.completion_tokens <= 300 + 50 * (parallelism - 1)


def test_crossing_80_percent_is_an_audit_warning_once(llm_server):
    for tokens in (70, 15, 5):
        llm_server.reply("ok", prompt_tokens=tokens, completion_tokens=0)
    workflow = make_workflow(name="watched", definition=simple_definition(ask(llm_server)),
                             monthly_token_budget=100)
    assert run_now(workflow, input={"text": "a"}).status == "succeeded"  # 70 %
    assert not AuditEvent.objects.filter(action="budget.warning").exists()
    run = run_now(workflow, input={"text": "b"})  # 85 %: crosses 80 %
    assert run.status == "succeeded", run.error
    event = AuditEvent.objects.get(action="budget.warning")
    assert event.object_type == "workflows.workflow"
    assert event.object_id == str(workflow.pk)
    assert event.extra["budget"] == "tokens"
    assert event.extra["spent"] == "85"
    assert event.extra["percent"] == 85.0
    assert event.extra["run"] == run.pk
    assert run_now(workflow, input={"text": "c"}).status == "succeeded"  # 90 %: no new one
    assert AuditEvent.objects.filter(action="budget.warning").count() == 1


def test_budgets_through_the_api():
    owner = UserFactory()
    api = APIClient()
    api.force_authenticate(owner)
    workflow = make_workflow(owner=owner)
    url = f"/api/workflows/{workflow.pk}"
    answer = api.patch(url, {"monthly_cost_budget": "12.5", "monthly_token_budget": 50000},
                       format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["monthly_cost_budget"] == 12.5
    assert answer.json()["monthly_token_budget"] == 50000
    workflow.refresh_from_db()
    assert workflow.monthly_cost_budget == Decimal("12.5")
    update = AuditEvent.objects.filter(action="workflow.update").first()
    assert {"op": "replace", "path": "monthly_cost_budget", "old": None,
            "new": "12.5000"} in update.diff
    for bad in ({"monthly_cost_budget": -1}, {"monthly_cost_budget": "lots"},
                {"monthly_token_budget": 0}, {"monthly_token_budget": 1.5}):
        answer = api.patch(url, bad, format="json")
        assert answer.status_code == 400, bad
        assert next(iter(bad)) in str(answer.json()), bad
    project = Project.objects.get(personal_owner=owner)
    answer = api.patch(f"/api/projects/{project.pk}", {"monthly_token_budget": 1000},
                       format="json")
    assert answer.status_code == 200, answer.content
    project.refresh_from_db()
    assert project.monthly_token_budget == 1000
    answer = api.patch(f"/api/projects/{project.pk}", {"monthly_token_budget": None},
                       format="json")
    assert answer.status_code == 200
    assert AuditEvent.objects.filter(action="project.update").count() == 2
