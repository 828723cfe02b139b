"""Import from n8n: twelve n8n-format workflows written for these tests (fixtures/), covering
every converted node type and expression form, checked for converted vs unconverted counts,
for validating, and (where they need no outside service or a loopback one) for running."""

import json
from pathlib import Path

import pytest

from nodes.registry import registry
from runs.models import Run
from tests.factories import make_workflow, run_now
from workflows.n8n_import import CONVERTERS, convert
from workflows.validation import validate_definition
from workflows.variables import variable_create

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
JS = "language" in registry.get("code").Config.model_fields  # the JavaScript code node

# fixture -> (converted, not converted, dropped, expressions, expressions not converted)
EXPECTED = {
    "01_webhook_set_respond": (3, 0, 0, 2, 0),
    "02_schedule_http_if": (5, 0, 0, 4, 0),
    "03_switch_rules": (6, 0, 0, 3, 0),
    "04_merge_code_js": (5, 0, 0, 0, 0) if JS else (4, 1, 0, 0, 0),
    "05_loop_over_items": (5, 0, 0, 4, 1),
    "06_waits": (5, 0, 0, 1, 0),
    "07_execute_workflow": (2, 2, 0, 0, 0),
    "08_expressions": (3, 0, 0, 23, 6),
    "09_legacy_versions": (11, 0, 0, 7, 0) if JS else (10, 1, 0, 7, 0),
    "10_unknown_nodes": (2, 3, 1, 0, 0),
    "11_code_python_respond": (5, 0, 0, 3, 0),
    "12_schedules_merge_modes": (7, 1, 0, 0, 0),
}


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def test_the_fixtures_cover_every_listed_node_type():
    used = {n["type"] for name in EXPECTED for n in load(name)["nodes"]}
    listed = {f"n8n-nodes-base.{t}" for t in (
        "webhook", "httpRequest", "set", "if", "switch", "merge", "wait", "code",
        "respondToWebhook", "scheduleTrigger", "executeWorkflow", "splitInBatches", "noOp")}
    assert listed <= used
    assert listed <= set(CONVERTERS)
    assert len(EXPECTED) >= 10


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_fixture_converts_with_the_expected_counts_and_validates(name):
    conversion = convert(load(name))
    s = conversion.report["summary"]
    assert (s["converted"], s["not_converted"], s["dropped"], s["expressions"],
            s["expressions_not_converted"]) == EXPECTED[name], conversion.report
    assert validate_definition(conversion.definition) == []
    for node in conversion.report["nodes"]:
        if node["status"] != "converted":
            assert node["notes"], node  # every node not converted says why
    for expr in conversion.report["expressions"]:
        assert (expr["wfaib"] is None) == bool(expr["reason"]), expr


def _ids(conversion):
    return {n["id"]: n for n in conversion.definition["nodes"]}


def test_expression_forms_translate(user):
    conversion = convert(load("08_expressions"))
    mapping = _ids(conversion)["zoo"]["config"]["mapping"]
    assert mapping["json"] == "{{ input.name }}"
    assert mapping["node"] == "{{ nodes.start.n + 1 }}"
    assert mapping["dollar"] == "{{ nodes.start.name.upper() }}"
    assert mapping["input_item"] == "{{ input.n == 3 }}"
    assert mapping["now"] == "{{ now }}"
    assert mapping["literal"].startswith("{{")  # fixed text: its braces stay text
    # the converted expressions run, with the project's variable as vars
    kept = {k: v for k, v in mapping.items() if "n8n_unconverted" not in v}
    _ids(conversion)["zoo"]["config"]["mapping"] = kept
    workflow = make_workflow(owner=user, definition=conversion.definition)
    variable_create(project=workflow.project, key="region", value="eu")
    run = run_now(workflow, input={"name": "ada", "items": [1, 2, 3], "n": 3})
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.result == {
        "json": "ada", "node": 4, "dollar": "ADA", "input_item": True, "first": 3,
        "now": run.result["now"], "today": run.result["now"][:10], "wf": workflow.pk,
        "exec": run.pk, "var": "eu", "mixed": "Hi ada, you have 3 items", "logic": True,
        "webhook": "ada", "literal": "{{ not an expression }}"}


def test_an_unconverted_expression_fails_its_node_naming_the_original(user):
    conversion = convert(load("08_expressions"))
    workflow = make_workflow(owner=user, definition=conversion.definition)
    variable_create(project=workflow.project, key="region", value="eu")
    run = run_now(workflow, input={"name": "ada", "items": [1], "n": 3})
    assert run.status == Run.Status.FAILED
    assert "node 'zoo'" in run.error
    assert "n8n_unconverted" in run.error


def test_webhook_set_respond_runs(user):
    run = run_now(make_workflow(owner=user, definition=convert(
        load("01_webhook_set_respond")).definition), input={"name": "Ada", "n": 2})
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.result == {"greeting": "Hello, Ada!", "doubled": 4, "source": "n8n",
                          "active": True}
    assert run.response["status"] == 201


def test_schedule_http_if_runs_against_a_loopback_api(user, api_server):
    api_server.json("GET", "/queue", {"count": 9, "status": "ok"})
    text = json.dumps(load("02_schedule_http_if")).replace("https://api.example.com",
                                                           api_server.url)
    conversion = convert(json.loads(text))
    assert conversion.report["credentials"] == [{
        "node": "HTTP Request", "n8n_type": "httpHeaderAuth", "n8n_name": "Queue API key",
        "kind": "api_key_header", "placeholder": "n8n: Queue API key"}]
    assert _ids(conversion)["schedule_trigger"]["config"]["interval"] == 600
    run = run_now(make_workflow(owner=user, definition=conversion.definition))
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.result == {"alert": "queue at 9"}
    assert api_server.requests[-1].path.startswith("/queue?limit=10&since=")


@pytest.mark.parametrize(("body", "tier"), [
    ({"plan": "pro", "seats": 1, "email": "a@b.com"}, "pro"),
    ({"plan": "free", "seats": 60, "email": "a@b.com"}, "team"),
    ({"plan": "free", "seats": 1, "email": "a@uni.edu"}, "edu"),
    ({"plan": "free", "seats": 1, "email": "a@b.com"}, "free"),
])
def test_switch_rules_route_like_n8n(user, body, tier):
    conversion = convert(load("03_switch_rules"))
    cases = _ids(conversion)["switch"]["config"]["cases"]
    assert [c["name"] for c in cases] == ["Pro_plan", "Big_team", "case_2"]
    run = run_now(make_workflow(owner=user, definition=conversion.definition), input=body)
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.result == {"tier": tier}


def test_loop_over_items_posts_each_item(user, api_server):
    api_server.json("POST", "/orders", {"ok": True})
    text = json.dumps(load("05_loop_over_items")).replace("https://api.example.com",
                                                          api_server.url)
    conversion = convert(json.loads(text))
    edges = conversion.definition["edges"]
    assert {"from": "post_order", "to": "loop_over_items"} not in edges  # the back-edge
    run = run_now(make_workflow(owner=user, definition=conversion.definition), input={
        "orders": [{"id": 1, "qty": 2, "price": 3}, {"id": 2, "qty": 1, "price": 5}]})
    assert [r.json() for r in api_server.requests] == [{"id": 1, "total": 6},
                                                       {"id": 2, "total": 5}]
    assert run.status == Run.Status.FAILED  # `Done` reads $input.all(): reported, not guessed
    assert "n8n_unconverted" in run.error


def test_waits_convert_to_delay_wait_for_webhook_and_until(user):
    conversion = convert(load("06_waits"))
    nodes = _ids(conversion)
    assert nodes["wait"] == {**nodes["wait"], "type": "delay", "config": {"seconds": 300.0}}
    assert nodes["wait_for_approval"]["type"] == "wait_for_webhook"
    assert nodes["wait_for_approval"]["config"] == {"max_wait": 172800.0}
    assert nodes["wait_until"]["config"] == {"until": "2030-01-01T09:00:00"}
    run = run_now(make_workflow(owner=user, definition=conversion.definition), input={})
    assert run.status == Run.Status.WAITING, run.error


def test_execute_workflow_with_a_map_runs_the_child(user):
    child = make_workflow(owner=user, definition=convert(
        load("01_webhook_set_respond")).definition)
    data = load("07_execute_workflow")
    data["nodes"] = [n for n in data["nodes"] if n["name"] != "Execute Other"]
    data["connections"]["Execute Workflow"] = {"main": [[{
        "node": "No Operation, do nothing", "type": "main", "index": 0}]]}
    conversion = convert(data, workflow_map={"Ab12Cd34": child.pk})
    assert conversion.report["summary"]["not_converted"] == 0
    run = run_now(make_workflow(owner=user, definition=conversion.definition),
                  input={"name": "Bo", "n": 1})
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.result["greeting"] == "Hello, Bo!"


def test_python_code_and_respond_variants_run(user):
    conversion = convert(load("11_code_python_respond"))
    run = run_now(make_workflow(owner=user, definition=conversion.definition),
                  input={"values": [1, 2, 3]})
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.response["body"] == {"ok": True, "total": 6, "label": "n=3"}
    assert run.response["headers"]["X-Source"] == "n8n"
    empty = run_now(make_workflow(owner=user, definition=conversion.definition),
                    input={"values": [1]})
    assert empty.response["status"] == 204


def test_schedules_and_merge_modes(user):
    conversion = convert(load("12_schedules_merge_modes"))
    nodes = _ids(conversion)
    assert nodes["every_day"]["config"] == {"cron": "30 8 * * *", "timezone": "UTC"}
    assert nodes["every_2_hours"]["config"]["cron"] == "15 */2 * * *"
    assert nodes["weekly"]["config"]["cron"] == "0 9 * * 1,3"
    assert nodes["join"]["config"] == {"combine": "join", "key": "id"}
    assert nodes["pick"]["config"] == {"wait": "first"}
    assert convert(load("10_unknown_nodes")).definition["nodes"][0]["config"][
        "timezone"] == "Europe/Berlin"


def test_legacy_versions_convert_their_own_parameter_shapes():
    nodes = _ids(convert(load("09_legacy_versions")))
    assert nodes["n_if"]["config"]["expression"] == (
        '{{ ((input["score"]) > (5)) and (("@") in (input["email"])) }}')
    assert [c["name"] for c in nodes["switch"]["config"]["cases"]] == ["output_0", "output_1"]
    assert nodes["http_request"]["config"]["json_body"] == {
        "email": '{{ input["email"] }}', "score": '{{ nodes.set["score"] }}'}
    assert nodes["splitinbatches"]["type"] == "loop"
