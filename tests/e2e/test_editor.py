"""The builder in a real browser: sign in, build a workflow by dragging nodes from the palette,
connect and configure them, see a validation error on its field, undo/redo, save, run with a
payload, watch every node turn green, and read a node's output in the run viewer."""

import json
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import make_workflow
from workflows.models import Workflow
from workflows.services import workflow_update

from .conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def drop(page, node_type: str, fx: float, fy: float) -> None:
    """Drag a palette item onto the canvas at fractions (fx, fy) of its size."""
    canvas = page.get_by_test_id("canvas")
    box = canvas.bounding_box()
    page.get_by_test_id(f"palette-{node_type}").drag_to(
        canvas, target_position={"x": box["width"] * fx, "y": box["height"] * fy})


def connect(page, source: str, target: str, port: str = "main") -> None:
    """Drag from `source`'s output port to `target`'s input handle."""
    out = page.locator(
        f'[data-testid="node-{source}"] .react-flow__handle.source[data-port="{port}"]')
    inp = page.locator(f'[data-testid="node-{target}"] .react-flow__handle.target')
    a, b = out.bounding_box(), inp.bounding_box()
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=12)
    page.mouse.up()


def view_ready(page) -> None:
    """Wait until the editor has loaded its workflow and fitted the view to it: a node
    clicked before then can move under the pointer (the fit runs just after the nodes
    appear), and the click selects nothing."""
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-view", "ready")


def select_node(page, node_id: str) -> None:
    view_ready(page)
    page.locator(f'[data-testid="node-{node_id}"] .wf-node-id').click()
    expect(page.locator("#node-id")).to_have_value(node_id)


def test_build_save_run_and_inspect(page, live_server, e2e_user, api_server, loopback_allowed):
    api_server.json("GET", "/hello", {"greeting": "hello from the loopback"})
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(live_server.url + reverse("admin:workflows_workflow_editor_new"))

    # The palette comes from /api/node-types, grouped by category, searchable.
    expect(page.get_by_test_id("palette-webhook")).to_be_visible()
    page.get_by_label("Search nodes").fill("transf")
    expect(page.get_by_test_id("palette-http")).to_have_count(0)
    page.get_by_label("Search nodes").fill("")

    page.get_by_label("Workflow name").fill("Browser-built")
    drop(page, "webhook", 0.2, 0.25)
    drop(page, "transform", 0.5, 0.45)
    drop(page, "http", 0.8, 0.25)
    for node_id in ("webhook", "transform", "http"):
        expect(page.get_by_test_id(f"node-{node_id}")).to_be_visible()
    connect(page, "webhook", "transform")
    connect(page, "transform", "http")
    expect(page.locator(".react-flow__edge")).to_have_count(2)

    # Forms generated from each type's JSON Schema.
    select_node(page, "transform")
    expression = page.locator('[data-field="expression"] .cm-content')
    expect(page.locator('[data-field="expression"] .wf-badge-expr')).to_be_visible()
    expression.fill("{'who': input.name}")
    select_node(page, "http")
    expect(page.locator('[data-field="method"] select')).to_have_value("GET")
    url = page.locator('[data-field="url"] input')
    url.fill("not a url")

    # A validation error from the server appears on the node and on the field.
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("field-error-url")).to_contain_text("not a valid URL")
    expect(page.get_by_test_id("node-http")).to_have_attribute("data-errors", "1")
    assert not Workflow.objects.filter(name="Browser-built").exists()

    url.fill(f"{api_server.url}/hello")
    page.get_by_label("query key 1").fill("who")
    page.get_by_label("query value 1").fill("{{ input.who }}")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("version")).to_have_text("v1")
    expect(page.get_by_test_id("field-error-url")).to_have_count(0)
    workflow = Workflow.objects.get(name="Browser-built")
    assert [n["id"] for n in workflow.definition["nodes"]] == ["webhook", "transform", "http"]
    assert {(e["from"], e["to"]) for e in workflow.definition["edges"]} == {
        ("webhook", "transform"), ("transform", "http")}
    assert workflow.definition["nodes"][2]["config"] == {
        "url": f"{api_server.url}/hello", "query": {"who": "{{ input.who }}"}}
    assert page.url.endswith(reverse("admin:workflows_workflow_editor", args=[workflow.pk]))

    # Undo / redo of a deletion (Delete, Ctrl+Z, Shift+Ctrl+Z).
    select_node(page, "http")
    page.get_by_test_id("node-http").press("Delete")
    expect(page.get_by_test_id("node-http")).to_have_count(0)
    expect(page.locator(".react-flow__edge")).to_have_count(1)
    page.keyboard.press("Control+z")
    expect(page.get_by_test_id("node-http")).to_have_count(1)
    expect(page.locator(".react-flow__edge")).to_have_count(2)
    page.keyboard.press("Control+Shift+z")
    expect(page.get_by_test_id("node-http")).to_have_count(0)
    page.get_by_test_id("undo").click()
    expect(page.get_by_test_id("node-http")).to_have_count(1)
    select_node(page, "http")
    expect(page.locator('[data-field="url"] input')).to_have_value(f"{api_server.url}/hello")

    # Run with a payload; every node turns green.
    page.get_by_test_id("run").click()
    page.locator("#run-input").fill(json.dumps({"name": "Ada"}))
    page.get_by_test_id("start-run").click()
    expect(page.get_by_test_id("run-bar")).to_have_attribute("data-run-status", "succeeded",
                                                             timeout=30_000)
    for node_id in ("webhook", "transform", "http"):
        expect(page.get_by_test_id(f"node-{node_id}")).to_have_attribute(
            "data-status", "succeeded")
    paths = [r.path for r in api_server.requests]
    assert any("who=Ada" in p for p in paths), paths

    # Clicking a node shows its input and output from that run.
    select_node(page, "http")
    expect(page.get_by_test_id("run-output")).to_contain_text("hello from the loopback")

    # The run viewer shows the node's output.
    page.get_by_test_id("run-link").click()
    expect(page.get_by_test_id("run-viewer")).to_be_visible()
    expect(page.get_by_test_id("run-status")).to_have_text("succeeded")
    expect(page.get_by_test_id("log-http")).to_have_attribute("data-status", "succeeded")
    page.locator('[data-testid="log-http"] summary', has_text="Output").click()
    expect(page.get_by_test_id("output-http")).to_contain_text("hello from the loopback")
    assert page.js_errors == []


def test_concurrent_save_is_a_conflict_with_reload(page, live_server, e2e_user):
    workflow = make_workflow(owner=e2e_user, name="Shared")
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(live_server.url + reverse("admin:workflows_workflow_editor", args=[workflow.pk]))
    expect(page.get_by_test_id("version")).to_have_text("v1")

    # Someone else saves version 2 meanwhile.
    changed = {**workflow.definition, "nodes": [
        {**workflow.definition["nodes"][0], "config": {"description": "theirs"}}]}
    workflow_update(workflow=workflow, user=e2e_user, definition=changed)

    page.get_by_label("Workflow name").fill("Mine")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("conflict")).to_be_visible()
    workflow.refresh_from_db()
    assert workflow.name == "Shared"
    assert workflow.version == 2

    page.get_by_test_id("reload").click()
    expect(page.get_by_test_id("conflict")).to_have_count(0)
    expect(page.get_by_test_id("version")).to_have_text("v2")
    expect(page.get_by_label("Workflow name")).to_have_value("Shared")
    select_node(page, "trigger")
    expect(page.locator('[data-field="description"] input')).to_have_value("theirs")


def test_templates_layout_settings_secrets_clipboard_and_history(page, live_server, e2e_user):
    sign_in(page, live_server.url, e2e_user.email)

    # A new workflow from a built-in template, then auto-layout.
    page.goto(live_server.url + reverse("admin:workflows_workflow_editor_new"))
    page.get_by_test_id("templates").get_by_role("button", name="Summarise a webhook").click()
    for node_id in ("webhook", "summary", "post"):
        expect(page.get_by_test_id(f"node-{node_id}")).to_be_visible()
    before = page.get_by_test_id("node-post").bounding_box()
    page.get_by_test_id("auto-layout").click()
    expect(page.locator(".react-flow__edge")).to_have_count(2)
    page.wait_for_function(
        "([x, y]) => { const b = document.querySelector('[data-testid=node-post]')"
        ".getBoundingClientRect(); return Math.abs(b.x - x) > 1 || Math.abs(b.y - y) > 1 }",
        arg=[before["x"], before["y"]])

    # Secrets are write-only in the form.
    select_node(page, "summary")
    secret = page.locator('[data-field="api_key"] input[type=password]')
    secret.fill("sk-very-secret")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("version")).to_have_text("v1")
    workflow = Workflow.objects.get()
    assert workflow.definition["nodes"][1]["config"]["api_key"] == "sk-very-secret"
    page.reload()
    select_node(page, "summary")
    expect(page.locator('[data-field="api_key"] input[type=password]')).to_have_value("")
    expect(page.locator('[data-field="api_key"] input[type=password]')).to_have_attribute(
        "placeholder", re.compile("set"))

    # Node settings: on_error "route" adds an `error` output port.
    page.locator(".wf-settings summary").click()
    page.locator('.wf-settings [data-field="on_error"] select').select_option("route")
    expect(page.locator('[data-testid="node-summary"] [data-port="error"]')).to_have_count(1)

    # Copy and paste a node as JSON.
    page.get_by_test_id("node-post").click()
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    expect(page.get_by_test_id("node-post_2")).to_be_visible()
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("version")).to_have_text("v2")
    workflow.refresh_from_db()
    pasted = next(n for n in workflow.definition["nodes"] if n["id"] == "post_2")
    original = next(n for n in workflow.definition["nodes"] if n["id"] == "post")
    assert pasted["type"] == "http"
    assert pasted["config"] == original["config"]  # the template's URL and body, copied
    assert pasted["config"]["url"].startswith("https://")
    summary = next(n for n in workflow.definition["nodes"] if n["id"] == "summary")
    assert summary["settings"] == {"on_error": "route"}

    # Version history: diff v1 -> v2, restore v1 and save it as v3.
    page.get_by_test_id("history").click()
    page.get_by_label("From version").select_option("1")
    page.get_by_label("To version").select_option("2")
    page.get_by_role("button", name="Compare").click()
    expect(page.get_by_test_id("diff")).to_contain_text("node post_2 (http)")
    page.get_by_test_id("version-history").get_by_role("button", name="restore").click()
    expect(page.get_by_test_id("node-post_2")).to_have_count(0)
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("version")).to_have_text("v3")
    workflow.refresh_from_db()
    assert [n["id"] for n in workflow.definition["nodes"]] == ["webhook", "summary", "post"]
    assert page.js_errors == []


def test_presence_shows_the_other_editor_and_offers_their_save(browser, page, live_server,
                                                               e2e_user):
    from tests.factories import UserFactory

    workflow = make_workflow(owner=e2e_user, name="Together")
    colleague = UserFactory(is_staff=True, is_superuser=True)
    editor_url = live_server.url + reverse("admin:workflows_workflow_editor", args=[workflow.pk])
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(editor_url)

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        other = context.new_page()
        other.set_default_timeout(15_000)
        sign_in(other, live_server.url, colleague.email)
        other.goto(editor_url)
        expect(other.get_by_test_id("presence")).to_contain_text(e2e_user.email)
        expect(page.get_by_test_id("presence")).to_contain_text(colleague.email)

        select_node(other, "trigger")
        other.locator('[data-field="description"] input').fill("from the colleague")
        other.get_by_test_id("save").click()
        expect(other.get_by_test_id("version")).to_have_text("v2")
    finally:
        context.close()

    expect(page.get_by_test_id("their-save")).to_contain_text(f"{colleague.email} saved version 2")
    page.get_by_test_id("load-their-save").click()
    expect(page.get_by_test_id("version")).to_have_text("v2")
    select_node(page, "trigger")
    expect(page.locator('[data-field="description"] input')).to_have_value("from the colleague")


def test_run_viewer_live_cancel_and_rerun(page, live_server, e2e_user):
    from runs.models import Run
    from runs.services import run_start
    from tests.factories import simple_definition

    workflow = make_workflow(owner=e2e_user, name="Slow", definition=simple_definition(
        {"id": "pause", "type": "delay", "config": {"seconds": 3600}}))
    run = run_start(workflow=workflow, input={"n": 7})
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(live_server.url + reverse("admin:runs_run_change", args=[run.pk]))
    expect(page.get_by_test_id("run-version")).to_have_text("version 1")

    # Live: the page follows the run until it waits on the delay.
    expect(page.get_by_test_id("run-status")).to_have_text("waiting", timeout=20_000)
    expect(page.get_by_test_id("log-pause")).to_have_attribute("data-status", "waiting")

    page.get_by_test_id("cancel-run").click()
    expect(page.get_by_test_id("run-status")).to_have_text("cancelled")
    run.refresh_from_db()
    assert run.status == Run.Status.CANCELLED

    page.get_by_test_id("rerun").click()
    page.wait_for_url(lambda url: f"/runs/run/{run.pk}/" not in url)
    rerun = Run.objects.exclude(pk=run.pk).get(workflow=workflow)
    assert rerun.input == {"n": 7}
    assert page.url.endswith(reverse("admin:runs_run_change", args=[rerun.pk]))
    expect(page.get_by_test_id("run-input")).to_contain_text('"n": 7')
    page.get_by_test_id("cancel-run").click()  # leave nothing waiting behind
    expect(page.get_by_test_id("run-status")).to_have_text("cancelled")
