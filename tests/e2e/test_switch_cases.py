"""The Switch node's case rows (issue 19), at desktop and phone widths in light and dark: two
cases built through the form (a name and a condition from the builder each; a duplicate name is
named on its row and blocks saving), moved, saved as the `cases` list the node runs; the new
case's port appears on the canvas, and a run from the editor takes that port."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from runs.models import Run
from tests.factories import make_workflow, simple_definition

from .conftest import sign_in
from .walk import no_sideways_scroll, select_node

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def switching(owner):
    return make_workflow(owner=owner, name="Route", definition=simple_definition(
        {"id": "sw", "type": "switch",
         "config": {"cases": [{"name": "big", "expression": "{{ input.total > 1000 }}"}]}},
        {"id": "bigs", "type": "transform", "config": {"expression": "{{ input }}"}},
        {"id": "other", "type": "transform", "config": {"expression": "{{ input }}"}},
        edges=[{"from": "trigger", "to": "sw"}, {"from": "sw", "to": "bigs", "port": "big"},
               {"from": "sw", "to": "other", "port": "default"}]))


def test_build_switch_cases_save_and_run_the_right_port(walk, live_server, e2e_user):
    page = walk
    workflow = switching(e2e_user)
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(live_server.url + reverse("admin:workflows_workflow_editor", args=[workflow.pk]))
    select_node(page, "sw")

    cases = page.get_by_test_id("cases-cfg-cases")
    expect(cases).to_have_attribute("data-mode", "rows")
    expect(cases.get_by_label("Case 1 name")).to_have_value("big")
    first = cases.get_by_test_id("condition-cfg-cases-0")
    expect(first).to_have_attribute("data-mode", "builder")
    expect(first.get_by_label("Condition 1 value")).to_have_value("1000")

    # A second case: a taken name is named on its row and blocks saving.
    cases.get_by_test_id("case-add").click()
    expect(cases.get_by_label("Case 2 name")).to_have_value("case_2")
    cases.get_by_label("Case 2 name").fill("big")
    expect(cases.get_by_test_id("case-error-1")).to_contain_text(
        '"big" is already the name of case 1')
    second = cases.get_by_test_id("condition-cfg-cases-1")
    second.get_by_label("Condition 1 field").fill("input.kind")
    second.get_by_label("Condition 1 operator").select_option("equals")
    second.get_by_label("Condition 1 value").fill("refund")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Not saved")
    expect(page.get_by_test_id("version")).to_have_text("v1")
    cases.get_by_label("Case 2 name").fill("")
    expect(cases.get_by_test_id("case-error-1")).to_contain_text("needs a name")
    cases.get_by_label("Case 2 name").fill("refund")
    expect(cases.get_by_test_id("case-error-1")).to_have_count(0)

    # Refunds are checked first: moved up, with their condition.
    cases.get_by_label("Move case 2 up").click()
    expect(cases.get_by_label("Case 1 name")).to_have_value("refund")
    moved = cases.get_by_test_id("condition-cfg-cases-0")
    expect(moved.get_by_label("Condition 1 value")).to_have_value("refund")
    expect(cases.get_by_label("Case 2 name")).to_have_value("big")
    # The canvas follows: the new case's port is there, in order.
    port = '[data-testid="node-sw"] .react-flow__handle.source[data-port="refund"]'
    expect(page.locator(port)).to_have_count(1)
    no_sideways_scroll(page)
    page.shot("cases")

    # The raw JSON is the same list.
    cases.get_by_test_id("cases-mode-json").click()
    expect(cases.get_by_label("Cases as JSON")).to_have_value(
        '[\n  {\n    "name": "refund",\n'
        '    "expression": "{{ input.kind == \\"refund\\" }}"\n  },\n'
        '  {\n    "name": "big",\n    "expression": "{{ input.total > 1000 }}"\n  }\n]')
    page.shot("json")
    # Text that is no JSON is named (and not written); back on the rows, the list as it was.
    cases.get_by_label("Cases as JSON").fill('[{"name": "refund"')
    expect(cases.get_by_test_id("cases-error")).to_contain_text("not valid JSON")
    cases.get_by_test_id("cases-mode-rows").click()
    expect(cases.get_by_label("Case 1 name")).to_have_value("refund")
    expect(cases.get_by_test_id("cases-error")).to_have_count(0)

    # A node on the new port (its "+"), then save: the list the node runs.
    page.get_by_test_id("port-plus-sw-refund").click()
    page.get_by_test_id("quick-add").get_by_test_id("quick-add-respond").click()
    expect(page.get_by_test_id("node-respond")).to_be_visible()
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("version")).to_have_text("v2")
    workflow.refresh_from_db()
    node = next(n for n in workflow.definition["nodes"] if n["id"] == "sw")
    assert node["config"]["cases"] == [
        {"name": "refund", "expression": '{{ input.kind == "refund" }}'},
        {"name": "big", "expression": "{{ input.total > 1000 }}"}]
    assert ("sw", "respond", "refund") in [
        (e["from"], e["to"], e.get("port")) for e in workflow.definition["edges"]]

    # A big refund: the first matching case, refund, is taken; big and default are not.
    before = Run.objects.count()
    page.get_by_test_id("run").click()
    page.locator("#run-input").fill('{"kind": "refund", "total": 5000}')
    page.get_by_test_id("start-run").click()
    expect(page.get_by_test_id("run-bar")).to_have_attribute("data-run-status", "succeeded")
    assert Run.objects.count() == before + 1
    run = Run.objects.latest("id")
    status = {log.node_id: log.status for log in run.logs.all()}
    assert status["respond"] == "succeeded", status
    assert status["bigs"] == "skipped", status
    assert status["other"] == "skipped", status
    expect(page.get_by_test_id("node-respond")).to_have_attribute("data-status", "succeeded")
    expect(page.get_by_test_id("node-bigs")).to_have_attribute("data-status", "skipped")
    page.shot("ran")
    assert page.js_errors == []
