"""The editor walk of issue 19, finding by finding, at desktop and phone widths in light and
dark (fixtures in walk.py): layout and branding, node visuals, placement, the node panel with
the last run's data, conflicts, webhook URLs, export/import/restore, and the polish items."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import make_workflow, run_now, simple_definition

from .conftest import sign_in
from .walk import no_sideways_scroll, select_node, view_ready, walk  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def editor_url(live_server, workflow=None) -> str:
    if workflow is None:
        return live_server.url + reverse("admin:workflows_workflow_editor_new")
    return live_server.url + reverse("admin:workflows_workflow_editor", args=[workflow.pk])


def test_layout_branding_and_phone_canvas(walk, live_server, e2e_user):
    page = walk
    sign_in(page, live_server.url, e2e_user.email)
    # Dashboard: branded, no sideways scroll, no empty chart without runs.
    expect(page.get_by_test_id("brand")).to_have_text("WFAIB")
    expect(page.locator("#site-name")).not_to_contain_text("Django administration")
    assert "Django" not in page.title()
    expect(page.get_by_test_id("runs-chart")).to_have_count(0)
    expect(page.get_by_test_id("runs-chart-empty")).to_be_visible()
    no_sideways_scroll(page)
    page.shot("dashboard", full_page=True)

    # With runs (one failed, with a long error), the chart shows and nothing scrolls sideways.
    workflow = make_workflow(owner=e2e_user, name="Layout with a rather long workflow name here")
    failing = make_workflow(owner=e2e_user, name="Fails", definition=simple_definition(
        {"id": "boom", "type": "transform", "config": {"expression": "input['missing_key_here']"}}))
    run_now(workflow, input={"a": 1})
    run_now(failing, input={"a": 1})
    page.reload()
    expect(page.get_by_test_id("runs-chart")).to_be_visible()
    expect(page.get_by_test_id("recent-failures")).to_contain_text("boom")
    no_sideways_scroll(page)
    page.shot("dashboard-runs", full_page=True)

    page.goto(live_server.url + reverse("admin:workflows_workflow_changelist"))
    crumbs = page.locator("ol.breadcrumbs").inner_text()
    assert crumbs.split().count("Workflows") == 1, crumbs
    no_sideways_scroll(page)

    # The editor: the canvas has height at every width.
    page.goto(editor_url(live_server, workflow))
    view_ready(page)
    box = page.get_by_test_id("canvas").bounding_box()
    assert box["height"] >= 300, box
    expect(page.get_by_test_id("node-trigger")).to_be_visible()
    crumbs = page.locator("ol.breadcrumbs").inner_text()
    assert crumbs.split().count("Workflows") == 1, crumbs
    no_sideways_scroll(page)
    page.shot("editor")
    assert page.js_errors == []


def boxes(page, *node_ids):
    return {i: page.get_by_test_id(f"node-{i}").bounding_box() for i in node_ids}


def overlapping(a, b) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def test_node_visuals_and_placement(walk, live_server, e2e_user):
    page = walk
    workflow = make_workflow(owner=e2e_user, name="Visuals", definition=simple_definition(
        {"id": "shape", "type": "transform", "config": {"expression": "{'n': input['n']}"}},
        {"id": "wait", "type": "delay", "config": {"seconds": 0}}))
    run_now(workflow, input={"n": 1})
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(editor_url(live_server, workflow))
    view_ready(page)

    # SVG icons (no emoji), a colour per category, one size, a status mark from the last run.
    for node_id in ("trigger", "shape", "wait"):
        node = page.get_by_test_id(f"node-{node_id}")
        expect(node.locator(".wf-node-icon svg")).to_have_count(1)
        expect(node).to_have_attribute("data-status", "succeeded")
        expect(page.get_by_test_id(f"mark-{node_id}")).to_be_visible()
    sizes = {(round(b["width"]), round(b["height"]))
             for b in boxes(page, "trigger", "shape", "wait").values()}
    assert len(sizes) == 1, sizes
    colours = page.evaluate("""() => ['trigger', 'shape', 'wait'].map(id =>
        getComputedStyle(document.querySelector(`[data-testid=node-${id}] .wf-node-icon`)).backgroundColor)""")
    assert len(set(colours)) == 3, colours  # trigger, core, flow
    # Ports aligned: an edge between two nodes at the same height is straight.
    out = page.locator('[data-testid="node-shape"] .react-flow__handle.source').bounding_box()
    inp = page.locator('[data-testid="node-shape"] .react-flow__handle.target').bounding_box()
    assert abs((out["y"] + out["height"] / 2) - (inp["y"] + inp["height"] / 2)) < 1
    page.shot("nodes")

    # "+" on an output port: a connected node to the right of its source.
    edges = page.locator(".react-flow__edge").count()
    page.get_by_test_id("port-plus-wait-main").click()
    page.get_by_test_id("quick-add").get_by_test_id("quick-add-http").click()
    expect(page.get_by_test_id("node-http")).to_be_visible()
    expect(page.locator(".react-flow__edge")).to_have_count(edges + 1)
    b = boxes(page, "wait", "http")
    assert b["http"]["x"] > b["wait"]["x"] + b["wait"]["width"]
    assert abs(b["http"]["y"] - b["wait"]["y"]) < 2

    # The palette's "+" twice: two new nodes, on top of nothing.
    page.get_by_role("button", name="Add Transform").click()
    page.get_by_role("button", name="Add Transform").click()
    ids = ["trigger", "shape", "wait", "http", "transform", "transform_2"]
    expect(page.get_by_test_id("node-transform_2")).to_be_visible()
    b = boxes(page, *ids)
    for i, x in enumerate(ids):
        for y in ids[i + 1:]:
            assert not overlapping(b[x], b[y]), (x, y, b[x], b[y])

    # Paste lands at the pointer; a second paste there does not stack on the first.
    page.get_by_test_id("node-shape").click()
    page.keyboard.press("Control+c")
    canvas = page.get_by_test_id("canvas").bounding_box()
    mx, my = canvas["x"] + canvas["width"] * 0.15, canvas["y"] + canvas["height"] * 0.8
    page.mouse.move(mx, my)
    page.keyboard.press("Control+v")
    expect(page.get_by_test_id("node-shape_2")).to_be_visible()
    pasted = page.get_by_test_id("node-shape_2").bounding_box()
    assert abs(pasted["x"] - mx) < 3 and abs(pasted["y"] - my) < 3, (pasted, mx, my)
    page.keyboard.press("Control+v")
    expect(page.get_by_test_id("node-shape_3")).to_be_attached()
    b = boxes(page, "shape_2", "shape_3")
    assert not overlapping(b["shape_2"], b["shape_3"])

    # Pasting an exported workflow adds its nodes (with its edges).
    exported = {"format": "wfaib-workflow/1", "name": "other", "definition": {
        "nodes": [{"id": "a", "type": "webhook", "config": {}, "position": {"x": 0, "y": 0}},
                  {"id": "b", "type": "transform", "config": {"expression": "input"},
                   "position": {"x": 280, "y": 0}}],
        "edges": [{"from": "a", "to": "b"}]}}
    page.evaluate("t => navigator.clipboard.writeText(t)", __import__("json").dumps(exported))
    before = page.locator(".react-flow__edge").count()
    page.keyboard.press("Control+v")
    expect(page.get_by_test_id("node-a")).to_be_attached()
    expect(page.get_by_test_id("node-b")).to_be_attached()
    expect(page.locator(".react-flow__edge")).to_have_count(before + 1)
    page.shot("placement")
    assert page.js_errors == []
