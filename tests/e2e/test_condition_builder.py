"""The condition builder and dragging fields from the Input pane (issue 19), at desktop and
phone widths in light and dark: an If condition built from rows (with a value holding quotes,
`}}` and backslashes) is saved as the ordinary expression and a run takes the right branch;
a key of the Input pane dragged onto a field inserts its `{{ }}` expression there."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from runs.models import Run
from tests.factories import make_workflow, run_now, simple_definition

from .conftest import sign_in
from .walk import no_sideways_scroll, select_node, view_ready

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NASTY = 'O"Brien}} {{x}} \\d'


def branching(owner, expression):
    return make_workflow(owner=owner, name="Branch", definition=simple_definition(
        {"id": "if", "type": "condition", "config": {"expression": expression}},
        {"id": "yes", "type": "transform", "config": {"expression": "{{ input }}"}},
        {"id": "reply", "type": "respond", "config": {}},
        {"id": "later", "type": "delay", "config": {"seconds": 5}},
        edges=[{"from": "trigger", "to": "if"}, {"from": "if", "to": "yes", "port": "true"},
               {"from": "yes", "to": "reply"}, {"from": "if", "to": "later", "port": "false"}]))


def put(page, key, target) -> None:
    """Drag `key` onto `target`; on a phone (touch: no drag and drop) click the key, which
    copies its `{{ }}` expression, and paste it into the field."""
    if not page.phone:
        key.drag_to(target)
        return
    key.click()
    target.click()
    page.keyboard.press("Control+v")


def editor(page, live_server, workflow):
    page.goto(live_server.url + reverse("admin:workflows_workflow_editor", args=[workflow.pk]))


def test_build_an_if_condition_save_and_run_the_right_branch(walk, live_server, e2e_user):
    page = walk
    workflow = branching(e2e_user, "{{ input.total > 1000 }}")
    sign_in(page, live_server.url, e2e_user.email)
    editor(page, live_server, workflow)
    select_node(page, "if")

    # The saved expression is of the builder's shape: it opens as one row.
    cond = page.get_by_test_id("condition-cfg-expression")
    expect(cond).to_have_attribute("data-mode", "builder")
    expect(cond.get_by_label("Condition 1 field")).to_have_value("input.total")
    expect(cond.get_by_label("Condition 1 operator")).to_have_value("gt")
    cond.get_by_label("Condition 1 value").fill("100")
    cond.get_by_test_id("cond-add").click()
    cond.get_by_label("Condition 2 field").fill("input.name")
    cond.get_by_label("Condition 2 operator").select_option("equals")
    cond.get_by_label("Condition 2 value").fill(NASTY)
    expected = ('{{ input.total > 100 and input.name == '
                '"O\\"Brien\\x7d\\x7d \\x7b\\x7bx\\x7d\\x7d \\\\d" }}')
    expect(cond.get_by_test_id("cond-expression")).to_have_text(expected)
    # A number that is no number is named on its row and not written.
    cond.get_by_label("Condition 1 value").fill("lots")
    expect(cond.get_by_test_id("cond-error-0")).to_contain_text('"lots" is not a number')
    expect(cond.get_by_test_id("cond-expression")).to_have_text(expected)
    cond.get_by_label("Condition 1 value").fill("100")
    no_sideways_scroll(page)
    page.shot("builder")

    # Beside it, the raw expression is the same text.
    cond.get_by_test_id("cond-mode-expression").click()
    expect(cond.locator(".cm-content")).to_have_text(expected)
    page.shot("expression")
    cond.get_by_test_id("cond-mode-builder").click()
    expect(cond.get_by_label("Condition 2 value")).to_have_value(NASTY)

    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("version")).to_have_text("v2")
    workflow.refresh_from_db()
    node = next(n for n in workflow.definition["nodes"] if n["id"] == "if")
    assert node["config"]["expression"] == expected

    # A run whose name is that text, taken literally, goes to `yes`; the other is skipped.
    before = Run.objects.count()
    page.get_by_test_id("run").click()
    page.locator("#run-input").fill('{"total": 150, "name": "O\\"Brien}} {{x}} \\\\d"}')
    page.get_by_test_id("start-run").click()
    expect(page.get_by_test_id("run-bar")).to_have_attribute("data-run-status", "succeeded")
    assert Run.objects.count() == before + 1
    run = Run.objects.latest("id")
    status = {log.node_id: log.status for log in run.logs.all()}
    assert status["yes"] == "succeeded", status
    assert status["later"] == "skipped", status
    # ... and one character off goes the other way (run by the engine, as saved).
    other = run_now(workflow, {"total": 150, "name": NASTY.replace("\\", "/")})
    assert {log.node_id: log.status for log in other.logs.all()}["yes"] == "skipped"
    page.shot("ran")
    assert page.js_errors == []


def test_an_expression_of_another_shape_stays_raw(walk, live_server, e2e_user):
    page = walk
    workflow = branching(e2e_user, "{{ len(input.items) > 2 }}")
    sign_in(page, live_server.url, e2e_user.email)
    editor(page, live_server, workflow)
    select_node(page, "if")
    cond = page.get_by_test_id("condition-cfg-expression")
    expect(cond).to_have_attribute("data-mode", "expression")
    expect(cond.get_by_test_id("cond-mode-builder")).to_be_disabled()
    expect(cond.locator(".cm-content")).to_have_text("{{ len(input.items) > 2 }}")
    assert page.js_errors == []


def test_drag_a_field_from_the_input_pane_into_fields(walk, live_server, e2e_user):
    page = walk
    workflow = branching(e2e_user, "{{ input.total > 1000 }}")
    run_now(workflow, {"total": 5000, "customer": {"name": "Ada", "first name": "A"}})
    sign_in(page, live_server.url, e2e_user.email)
    editor(page, live_server, workflow)
    # Side by side, so the Input pane and the fields are both on screen. The view first fits
    # the graph (on a phone the nodes still move): a double click before may miss the node.
    view_ready(page)
    page.locator('[data-testid="node-if"] .wf-node-label').dblclick()
    panel = page.get_by_test_id("node-panel")
    expect(panel).to_have_attribute("data-expanded", "1")
    cond = page.get_by_test_id("condition-cfg-expression")
    data = page.get_by_test_id("run-input-data")
    expect(data).to_contain_text('"name": "Ada"')
    key = data.locator('.wf-json-key[data-path="input.customer.name"]')
    odd = data.locator('.wf-json-key[data-path=\'input.customer["first name"]\']')
    expect(odd).to_have_count(1)

    # Onto the builder's field: the path (a pasted {{ path }} is taken as the path).
    field = cond.get_by_label("Condition 1 field")
    field.fill("")
    put(page, key, field)
    expect(cond.get_by_label("Condition 1 field")).to_have_value("input.customer.name")
    cond.get_by_label("Condition 1 operator").select_option("starts_with")
    cond.get_by_label("Condition 1 value").fill("A")
    expect(cond.get_by_test_id("cond-expression")).to_have_text(
        '{{ input.customer.name.startswith("A") }}')
    page.shot("dragged-builder")

    # Onto the raw expression (CodeMirror): the expression at the drop point.
    cond.get_by_test_id("cond-mode-expression").click()
    code = page.get_by_test_id("condition-cfg-expression").locator(".cm-content")
    code.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    put(page, odd, code)
    expect(code).to_have_text('{{ input.customer["first name"] }}')

    # Onto a plain text field of another node: its expression.
    page.get_by_test_id("expand-panel").click()
    expect(panel).to_have_attribute("data-expanded", "0")
    page.locator('[data-testid="node-reply"] .wf-node-label').dblclick()
    expect(page.locator("#node-id")).to_have_value("reply")
    expect(panel).to_have_attribute("data-expanded", "1")
    total = page.get_by_test_id("run-input-data").locator('.wf-json-key[data-path="input.total"]')
    status = page.locator("#cfg-status")
    status.fill("")
    put(page, total, status)
    expect(status).to_have_value("{{ input.total }}")
    no_sideways_scroll(page)
    page.shot("dragged-text")
    assert page.js_errors == []
