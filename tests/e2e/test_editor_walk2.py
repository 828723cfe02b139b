"""The editor walk of issue 19, continued (fixtures in walk.py: desktop and phone, light and
dark): the expression fields' live preview with the last run's data, and the webhook panel's
custom path and test-event listener; import from n8n and the Variables link."""

import json
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import make_workflow, run_now, simple_definition

from .conftest import sign_in
from .walk import no_sideways_scroll, select_node

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def editor_url(live_server, workflow) -> str:
    return live_server.url + reverse("admin:workflows_workflow_editor", args=[workflow.pk])


def retype(page, locator, text: str) -> None:
    locator.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.type(text)


def test_expression_preview_shows_the_value_with_the_last_run(walk, live_server, e2e_user):
    page = walk
    workflow = make_workflow(owner=e2e_user, name="Preview", definition=simple_definition(
        {"id": "shape", "type": "transform", "config": {"expression": "input"}}))
    run_now(workflow, input={"n": 21, "name": "Ada"})
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(editor_url(live_server, workflow))
    select_node(page, "shape")
    preview = page.get_by_test_id("preview-expression")
    # The field's current text, evaluated with the input `shape` had in the last run.
    expect(page.get_by_test_id("preview-value-expression")).to_contain_text('"n":21')
    expect(preview).to_contain_text("Result (last run)")
    field = page.locator('[data-field="expression"] .cm-content')
    retype(page, field, "input['n'] * 2")
    expect(page.get_by_test_id("preview-value-expression")).to_have_text("42")
    expect(preview).to_contain_text("number")
    retype(page, field, "{{ input['name'].upper() }}")
    expect(page.get_by_test_id("preview-value-expression")).to_have_text('"ADA"')
    page.shot("preview")
    # Errors inline, while typing: a syntax error, then a failure at evaluation.
    retype(page, field, "input['n'] *")
    expect(page.get_by_test_id("preview-error-expression")).to_be_visible()
    expect(preview).to_have_attribute("data-state", "error")
    retype(page, field, "input['missing']")
    expect(page.get_by_test_id("preview-error-expression")).to_contain_text("missing")
    page.shot("preview-error")
    if page.phone:
        no_sideways_scroll(page)
    assert page.js_errors == []


def post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_webhook_custom_path_and_listening_for_a_test_event(walk, live_server, e2e_user):
    page = walk
    workflow = make_workflow(owner=e2e_user, name="Listen", definition=simple_definition(
        {"id": "echo", "type": "transform", "config": {"expression": "input"}}))
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(editor_url(live_server, workflow))
    select_node(page, "trigger")
    expect(page.get_by_test_id("webhook-listen-url")).to_have_text(
        f"{live_server.url}/hook/test/{workflow.pk}")

    # A bad path is refused by the API, the reason shown under the field.
    path = page.get_by_test_id("webhook-path")
    path.fill("Bad Path!")
    page.get_by_test_id("save-webhook-path").click()
    expect(page.get_by_test_id("webhook-path-error")).to_contain_text("lower-case")
    workflow.refresh_from_db()
    assert workflow.webhook_path in (None, "")

    path.fill("orders-in")
    page.get_by_test_id("save-webhook-path").click()
    expect(page.get_by_test_id("webhook-production-url")).to_have_text(
        f"{live_server.url}/hook/orders-in")
    test_url = f"{live_server.url}/hook/test/orders-in"
    expect(page.get_by_test_id("webhook-listen-url")).to_have_text(test_url)
    expect(page.get_by_test_id("webhook-listen-curl")).to_contain_text(f"curl -X POST '{test_url}'")
    workflow.refresh_from_db()
    assert workflow.webhook_path == "orders-in"
    # The path's save is a new version; the editor follows it (no conflict on the next save).
    expect(page.get_by_test_id("version")).to_have_text(f"v{workflow.version}")

    # Nobody listens yet: the test URL says so.
    status, body = post(test_url, {"early": True})
    assert status == 404
    assert body["code"] == "not_listening"

    page.get_by_test_id("listen").click()
    expect(page.get_by_test_id("listening")).to_be_visible()
    page.shot("listening")
    status, body = post(test_url, {"order": 7, "items": ["tea"]})
    assert status == 200, body
    captured = page.get_by_test_id("test-event-input")
    expect(captured).to_contain_text('"order": 7')
    expect(captured).to_contain_text('"tea"')
    expect(page.get_by_test_id("webhook-listen")).to_have_attribute("data-status", "captured")
    assert not workflow.runs.exists()  # a test event starts no run
    page.shot("test-event")
    if page.phone:
        no_sideways_scroll(page)

    # Saving the graph afterwards does not conflict with the path's save. (The save may make a
    # new version, e.g. for node positions: wait for the save itself, never for a fixed number.)
    before = workflow.version
    with page.expect_response(lambda r: r.request.method == "PUT"
                              and f"/api/workflows/{workflow.pk}" in r.url) as saved:
        page.get_by_test_id("save").click()
    assert saved.value.status == 200  # not 409: the editor knew the path's version
    expect(page.get_by_test_id("conflict")).to_have_count(0)
    workflow.refresh_from_db()
    assert workflow.version >= before
    expect(page.get_by_test_id("version")).to_have_text(f"v{workflow.version}")
    assert workflow.webhook_path == "orders-in"
    assert page.js_errors == []


FIXTURES = Path(__file__).resolve().parents[1] / "n8n_import" / "fixtures"


def test_import_from_n8n_with_its_report_and_the_variables_link(walk, live_server, e2e_user,
                                                               tmp_path):
    from workflows.models import Workflow

    page = walk
    workflow = make_workflow(owner=e2e_user, name="Here")
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(editor_url(live_server, workflow))
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-view", "ready")

    page.get_by_test_id("menu").click()
    link = page.get_by_test_id("variables-link")
    expect(link).to_have_attribute("href", reverse("admin:workflows_variable_changelist"))
    page.get_by_test_id("menu").click()

    # Not JSON at all: said at once, no request.
    text = tmp_path / "notes.json"
    text.write_text("this is { not json")
    page.get_by_test_id("import-n8n-file").set_input_files(str(text))
    expect(page.get_by_test_id("notice")).to_contain_text("notes.json is not JSON")
    expect(page.get_by_test_id("n8n-dialog")).to_have_count(0)

    # Not an n8n export: the API's reason, nothing created.
    bad = tmp_path / "not-n8n.json"
    bad.write_text(json.dumps({"hello": "world"}))
    page.get_by_test_id("menu").click()
    expect(page.get_by_test_id("import-n8n")).to_be_visible()
    page.get_by_test_id("import-n8n-file").set_input_files(str(bad))
    expect(page.get_by_test_id("n8n-error")).to_contain_text("nodes")
    expect(page.get_by_test_id("n8n-create")).to_be_disabled()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_test_id("n8n-dialog")).to_have_count(0)

    # A real export: the dry run's report first (nothing created), then the workflow.
    before = Workflow.objects.count()
    page.get_by_test_id("menu").click()
    page.get_by_test_id("import-n8n-file").set_input_files(str(FIXTURES / "10_unknown_nodes.json"))
    expect(page.get_by_test_id("n8n-summary")).to_contain_text("2 of 6 nodes converted")
    expect(page.get_by_test_id("n8n-summary")).to_contain_text("3 not converted")
    expect(page.locator('[data-testid^="n8n-node-"][data-status="not_converted"]')).to_have_count(3)
    expect(page.get_by_test_id("n8n-nodes")).to_contain_text("Google Sheets")
    assert Workflow.objects.count() == before
    page.shot("n8n-report")
    page.get_by_test_id("n8n-create").click()
    page.wait_for_url(lambda url: re.search(r"/workflow/\d+/editor/", url) is not None
                      and f"/workflow/{workflow.pk}/" not in url)
    created = Workflow.objects.exclude(pk=workflow.pk).get()
    assert created.name == "Slack digest"
    assert str(created.pk) in page.url
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-view", "ready")
    expect(page.locator('[data-testid^="node-"]').first).to_be_visible()
    assert page.js_errors == []
