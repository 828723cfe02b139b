"""The cost ledger: every model call of a run is a ModelCall row with the usage the provider
reported and its estimated cost; the node's RunLog and the Run carry the sums; the API reports
a month by project, workflow, model and day; the dashboard charts it."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client, override_settings
from rest_framework.test import APIClient

from runs.engine import pricing
from runs.models import ModelCall
from tests.factories import UserFactory, make_workflow, run_now, simple_definition

pytestmark = pytest.mark.django_db
PRICES = {"test-model": {"input": 2.0, "output": 8.0, "cached_input": 0.5}}


def prices(table=PRICES):
    return override_settings(WFAIB={**settings.WFAIB, "LLM_PRICES": table})


def ask(server, node_id="ask", **config):
    return {"id": node_id, "type": "llm", "config": {
        "prompt": "Summarise {{ input.text }}", "base_url": server.url + "/v1",
        "api_key": "sk-test", "model": "test-model", **config}}


def test_pricing_table_prefixes_and_overrides():
    assert pricing.cost("gpt-4o-mini-2024-07-18", prompt_tokens=1_000_000,
                        completion_tokens=0) == Decimal("0.15")  # the family's price
    assert pricing.cost("gpt-4o", prompt_tokens=0, completion_tokens=1_000_000) == Decimal("10")
    assert pricing.cost("unknown-model", prompt_tokens=10, completion_tokens=10) is None
    with prices({"gpt-4o": {"input": 1, "output": 1}, "mine": {"input": 0, "output": 0}}):
        # overridden per model, cached input at the input price when not given
        assert pricing.cost("gpt-4o", prompt_tokens=500_000, completion_tokens=500_000,
                            cached_tokens=100_000) == Decimal("1")
        assert pricing.cost("mine", prompt_tokens=10, completion_tokens=10) == Decimal(0)
        assert pricing.cost("gpt-4o-mini", prompt_tokens=1_000_000,
                            completion_tokens=0) == Decimal("0.15")  # longest prefix wins


def test_every_call_is_in_the_ledger_with_the_providers_usage(llm_server):
    llm_server.reply("first", prompt_tokens=100, completion_tokens=10, cached_tokens=40)
    llm_server.reply('{"bad": ', prompt_tokens=200, completion_tokens=20)  # repaired once
    llm_server.reply('{"ok": true}', prompt_tokens=250, completion_tokens=5)
    anthropic = ask(llm_server, "claude", provider="anthropic", base_url=llm_server.url,
                    response_format="json", prompt="Extract from {{ input.content }}")
    with prices():
        run = run_now(make_workflow(definition=simple_definition(ask(llm_server), anthropic)),
                      input={"text": "x"})
    assert run.status == "succeeded", run.error
    calls = list(ModelCall.objects.filter(run=run).order_by("id"))
    assert [(c.node_id, c.provider, c.prompt_tokens, c.completion_tokens, c.cached_tokens)
            for c in calls] == [("ask", "openai", 100, 10, 40),
                                ("claude", "anthropic", 200, 20, 0),
                                ("claude", "anthropic", 250, 5, 0)]
    reported = llm_server.reported
    assert run.prompt_tokens == sum(r["prompt_tokens"] for r in reported) == 550
    assert run.completion_tokens == sum(r["completion_tokens"] for r in reported) == 35
    first_cost = Decimal(60 * 2 + 40 * Decimal("0.5") + 10 * 8) / 1_000_000
    assert calls[0].cost == first_cost
    assert run.cost == sum(c.cost for c in calls)
    assert calls[0].workflow_id == run.workflow_id
    assert calls[0].project_id == run.workflow.project_id
    logs = {log.node_id: log for log in run.logs.all()}
    assert logs["claude"].usage["calls"] == 2
    assert logs["claude"].usage["prompt_tokens"] == 450
    assert logs["ask"].usage["cost"] == pytest.approx(float(first_cost))
    assert logs["trigger"].usage is None
    api = APIClient()
    api.force_authenticate(run.workflow.owner)
    body = api.get(f"/api/runs/{run.pk}").json()
    assert body["usage"] == {"prompt_tokens": 550, "completion_tokens": 35,
                             "total_tokens": 585, "cost": pytest.approx(float(run.cost))}
    assert next(log for log in body["logs"] if log["node_id"] == "claude")["usage"]["calls"] == 2


def test_a_failed_attempt_still_records_what_it_spent(llm_server):
    llm_server.reply("no json", prompt_tokens=7, completion_tokens=3)
    llm_server.reply("still none", prompt_tokens=9, completion_tokens=4)
    run = run_now(make_workflow(definition=simple_definition(
        ask(llm_server, response_format="json", model="no-price"))), input={"text": "x"})
    assert run.status == "failed"
    assert ModelCall.objects.filter(run=run).count() == 2
    assert run.prompt_tokens == 16
    assert run.cost == 0  # a model without a price: tokens counted, no cost
    assert ModelCall.objects.filter(run=run, cost__isnull=True).count() == 2
    assert run.logs.get(node_id="ask", status="failed").usage["cost"] is None


def test_parallel_loop_iterations_are_recorded_by_the_runs_thread(llm_server):
    loop = {"id": "each", "type": "loop",
            "config": {"items": "{{ input.texts }}", "parallelism": 3}}
    body = ask(llm_server, prompt="{{ item }}")
    definition = simple_definition(loop, body, edges=[
        {"from": "trigger", "to": "each"}, {"from": "each", "to": "ask", "port": "each"}])
    run = run_now(make_workflow(definition=definition), input={"texts": ["a b", "c", "d e f"]})
    assert run.status == "succeeded", run.error
    calls = ModelCall.objects.filter(run=run)
    assert sorted(calls.values_list("scope", flat=True)) == ["each[0]", "each[1]", "each[2]"]
    assert run.prompt_tokens == sum(r["prompt_tokens"] for r in llm_server.reported)


def test_usage_api_by_month_scoped_to_the_user(llm_server):
    owner = UserFactory()
    with prices():
        run = run_now(make_workflow(owner=owner, name="summariser", definition=simple_definition(
            ask(llm_server))), input={"text": "x"})
        run_now(make_workflow(definition=simple_definition(ask(llm_server))),  # someone else's
                input={"text": "y"})
    api = APIClient()
    api.force_authenticate(owner)
    report = api.get("/api/usage").json()
    assert report["totals"]["calls"] == 1
    assert report["totals"]["prompt_tokens"] == run.prompt_tokens
    assert report["totals"]["cost"] == pytest.approx(float(run.cost))
    assert [w["name"] for w in report["workflows"]] == ["summariser"]
    assert report["projects"][0]["id"] == run.workflow.project_id
    assert report["models"][0]["model"] == "test-model"
    today = next(d for d in report["days"] if d["calls"])
    assert today["total_tokens"] == run.prompt_tokens + run.completion_tokens
    month = report["month"]
    assert len(report["days"]) in (28, 29, 30, 31)
    assert api.get(f"/api/workflows/{run.workflow_id}/usage", {"month": month}).json()[
        "totals"]["calls"] == 1
    assert api.get(f"/api/projects/{run.workflow.project_id}/usage").json()["totals"][
        "calls"] == 1
    assert api.get("/api/usage", {"month": "2001-02"}).json()["totals"]["calls"] == 0


@pytest.mark.parametrize("month", ["2026-13", "26-01", "2026-1", "now", "2026-01-01"])
def test_a_bad_month_is_a_400_naming_it(month):
    api = APIClient()
    api.force_authenticate(UserFactory())
    answer = api.get("/api/usage", {"month": month})
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_month"
    assert "month" in answer.json()["message"]


def test_dashboard_charts_the_months_spend(llm_server):
    owner = UserFactory(is_staff=True)
    with prices():
        run_now(make_workflow(owner=owner, name="spender", definition=simple_definition(
            ask(llm_server))), input={"text": "x"})
    page = Client()
    page.force_login(owner)
    html = page.get("/admin/").content.decode()
    assert 'data-testid="spend-chart"' in html
    assert "spender $" in html
    assert "1 call" in html


def test_a_pure_node_s_model_calls_are_stored_with_a_deferred_run(monkeypatch):
    """A run of pure nodes executes before it is stored (executor.can_defer); the calls its
    nodes recorded are written with it."""
    from nodes.base import NodeType
    from nodes.context import ModelUsage
    from nodes.registry import registry
    from runs.engine.executor import can_defer, execute_deferred
    from runs.models import Run

    class Metered(NodeType):
        type = "metered_test"
        pure = True
        uses_models = True

        def run(self, ctx, config, input):
            return ctx.record_usage(ModelUsage(provider="openai", model="gpt-4o",
                                               prompt_tokens=1000, completion_tokens=100,
                                               cached_tokens=0, cost=None))

    monkeypatch.setattr(registry, "_types", {**registry._types, "metered_test": Metered})
    workflow = make_workflow(definition=simple_definition(
        {"id": "m", "type": "metered_test", "config": {}}))
    assert can_defer(workflow.definition)
    run = Run(workflow=workflow, version=workflow.versions.get(number=workflow.version),
              input={})
    assert execute_deferred(run) == "succeeded"
    call = ModelCall.objects.get(run=run)
    assert call.cost == Decimal("0.0035")  # 1000 * 2.50 + 100 * 10.00 per million
    run.refresh_from_db()
    assert run.prompt_tokens == 1000
    assert run.result["cost"] == pytest.approx(0.0035)
