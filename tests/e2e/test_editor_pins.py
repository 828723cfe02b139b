"""Pinned data and single steps in the editor (issue 19, "Beyond the walk"), at desktop and
phone widths in light and dark: pin a node's output from the Output pane (marked on the
canvas), run one step on it, run from a node, run the workflow as a test run, unpin. A counted
loopback HTTP server shows whether the pinned node ran."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from runs.models import Run
from tests.factories import make_workflow, run_now, simple_definition
from workflows.models import Workflow

from .conftest import sign_in
from .walk import no_sideways_scroll, select_node

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def counted(owner, api_server):
    api_server.json("GET", "/count", {"source": "server"})
    return make_workflow(owner=owner, name="Pins", definition=simple_definition(
        {"id": "call", "type": "http", "config": {"url": api_server.url + "/count"}},
        {"id": "check", "type": "transform",
         "config": {"expression": "{{ {'seen': input.body.source} }}"}},
        {"id": "after", "type": "transform", "config": {"expression": "{{ input.seen }}"}}))


def finished(page, run_id_before: int) -> int:
    """Wait for a run newer than `run_id_before` to succeed in the run bar; its id."""
    bar = page.get_by_test_id("run-bar")
    expect(bar).not_to_contain_text(f"#{run_id_before}:")
    expect(bar).to_have_attribute("data-run-status", "succeeded")
    latest = Run.objects.order_by("-id").first()
    assert latest is not None
    assert latest.pk > run_id_before
    return latest.pk


def test_pin_output_run_step_run_from_here_and_unpin(walk, live_server, e2e_user, api_server):
    page = walk
    workflow = counted(e2e_user, api_server)
    first = run_now(workflow, {"x": 1})
    assert first.status == Run.Status.SUCCEEDED, first.error
    assert api_server.count("/count") == 1
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(live_server.url + reverse("admin:workflows_workflow_editor", args=[workflow.pk]))

    # Pin the HTTP node's output from the Output pane: marked on the canvas and in the pane.
    select_node(page, "call")
    page.get_by_test_id("tab-output").click()
    page.get_by_test_id("pin-output").click()
    expect(page.get_by_test_id("pinned-badge")).to_be_visible()
    expect(page.get_by_test_id("node-call")).to_have_attribute("data-pinned", "1")
    expect(page.get_by_test_id("pin-mark-call")).to_be_visible()
    pin = Workflow.objects.get(pk=workflow.pk).pinned["call"]
    assert pin["value"]["body"] == {"source": "server"}
    assert pin["port"] == "main"
    no_sideways_scroll(page)
    page.shot("pinned")

    # Run step on `check`: only it runs, on the pinned data; the HTTP node is not called.
    select_node(page, "check")
    page.get_by_test_id("run-step").click()
    step = finished(page, first.pk)
    run = Run.objects.get(pk=step)
    assert run.trigger == Run.Trigger.TEST
    assert run.test["mode"] == "step"
    assert run.test["pinned"] == ["call"]
    assert {log.node_id for log in run.logs.all()} == {"trigger", "call", "check"}
    page.get_by_test_id("tab-output").click()
    expect(page.get_by_test_id("run-output")).to_contain_text('"seen": "server"')
    assert api_server.count("/count") == 1
    page.shot("step")

    # Run from here on `check`: it and what follows run, the pinned node still not called.
    page.get_by_test_id("run-from").click()
    from_run = finished(page, step)
    assert Run.objects.get(pk=from_run).logs.filter(node_id="after",
                                                    status="succeeded").exists()
    assert api_server.count("/count") == 1

    # The toolbar's Run: a test run because a node is pinned (the dialog says so).
    page.get_by_test_id("run").click()
    expect(page.get_by_test_id("run-dialog-pinned")).to_contain_text("call")
    page.get_by_test_id("start-run").click()
    whole = finished(page, from_run)
    assert Run.objects.get(pk=whole).test["mode"] == "workflow"
    assert api_server.count("/count") == 1

    # Unpin: the mark goes, the pane offers "Pin output" again.
    select_node(page, "call")
    page.get_by_test_id("tab-output").click()
    page.get_by_test_id("unpin").click()
    expect(page.get_by_test_id("node-call")).to_have_attribute("data-pinned", "0")
    expect(page.get_by_test_id("pin-output")).to_be_visible()
    assert Workflow.objects.get(pk=workflow.pk).pinned == {}
    # The run viewer shows the test run like any other run.
    page.goto(live_server.url + reverse("admin:runs_run_change", args=[whole]))
    expect(page.get_by_test_id("run-status")).to_have_text("succeeded")
    page.shot("run-viewer", full_page=True)
    assert page.js_errors == []


def stored_pins(workflow) -> dict:
    return Workflow.objects.get(pk=workflow.pk).pinned


def wait_stored(page, workflow, check) -> None:
    """Wait (polling the database, never a fixed time) until the stored pins pass `check`."""
    for _ in range(200):
        if check(stored_pins(workflow)):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"stored pins never matched: {stored_pins(workflow)}")


def test_pin_undo_redo_and_hand_typed_pin(walk, live_server, e2e_user):
    """Pinning is one step of the editor's undo history (Ctrl+Z, Shift+Ctrl+Z), and undo and
    redo write the pins back to the server; a pin's JSON is edited by hand, invalid JSON said
    inline and never stored."""
    page = walk
    workflow = make_workflow(owner=e2e_user, name="Undo pins", definition=simple_definition(
        {"id": "shape", "type": "transform", "config": {"expression": "{{ {'n': 1} }}"}}))
    run_now(workflow, {})
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(live_server.url + reverse("admin:workflows_workflow_editor", args=[workflow.pk]))
    select_node(page, "shape")
    page.get_by_test_id("tab-output").click()
    page.get_by_test_id("pin-output").click()
    expect(page.get_by_test_id("node-shape")).to_have_attribute("data-pinned", "1")
    assert stored_pins(workflow)["shape"]["value"] == {"n": 1}
    version = Workflow.objects.get(pk=workflow.pk).version

    # Undo: unpinned in the editor and on the server; the graph is not "unsaved" for it.
    page.locator("body").click(position={"x": 2, "y": 2})
    page.keyboard.press("Control+z")
    expect(page.get_by_test_id("node-shape")).to_have_attribute("data-pinned", "0")
    wait_stored(page, workflow, lambda pins: pins == {})
    # Redo: pinned again, on the server too.
    page.keyboard.press("Control+Shift+z")
    expect(page.get_by_test_id("node-shape")).to_have_attribute("data-pinned", "1")
    wait_stored(page, workflow, lambda pins: pins.get("shape", {}).get("value") == {"n": 1})
    page.shot("redone")

    # Hand-typed: invalid JSON is said inline and nothing is stored.
    select_node(page, "shape")
    page.get_by_test_id("tab-output").click()
    page.get_by_test_id("edit-pin").click()
    page.get_by_test_id("pin-json").fill('{"n": 2,')
    expect(page.get_by_test_id("pin-json-error")).to_contain_text("Not valid JSON")
    expect(page.get_by_test_id("pin-json-save")).to_be_disabled()
    no_sideways_scroll(page)
    page.shot("invalid-json")
    assert stored_pins(workflow)["shape"]["value"] == {"n": 1}
    page.get_by_test_id("pin-json").fill('{"n": 2, "typed": [true, null]}')
    expect(page.get_by_test_id("pin-json-error")).to_have_count(0)
    page.get_by_test_id("pin-json-save").click()
    expect(page.get_by_test_id("pinned-value")).to_contain_text('"typed"')
    wait_stored(page, workflow, lambda pins: pins["shape"]["value"] == {"n": 2,
                                                                         "typed": [True, None]})
    # Undoing the typed pin brings the earlier value back, on the server as well.
    page.locator("body").click(position={"x": 2, "y": 2})
    page.keyboard.press("Control+z")
    wait_stored(page, workflow, lambda pins: pins.get("shape", {}).get("value") == {"n": 1})
    select_node(page, "shape")
    page.get_by_test_id("tab-output").click()
    expect(page.get_by_test_id("pinned-value")).not_to_contain_text('"typed"')
    assert Workflow.objects.get(pk=workflow.pk).version == version  # pins make no version
    assert page.js_errors == []
