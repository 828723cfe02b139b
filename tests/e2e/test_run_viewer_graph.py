"""The run viewer's graph beside its timeline (issue 19, finding 5), at desktop and phone
widths in light and dark (fixtures in walk.py)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import make_workflow, run_now, simple_definition

from .conftest import sign_in
from .walk import no_sideways_scroll

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def branching_definition():
    return simple_definition(
        {"id": "check", "type": "condition", "config": {"expression": "input['n'] > 1"}},
        {"id": "divide", "type": "transform", "config": {"expression": "input['n'] / 0"}},
        {"id": "small", "type": "transform", "config": {"expression": "input"}},
        edges=[{"from": "trigger", "to": "check"},
               {"from": "check", "to": "divide", "port": "true"},
               {"from": "check", "to": "small", "port": "false"}])


def test_run_viewer_shows_the_graph_coloured_by_status_beside_the_timeline(
        walk, live_server, e2e_user):
    page = walk
    workflow = make_workflow(owner=e2e_user, name="Graph", definition=branching_definition())
    run = run_now(workflow, input={"n": 5})
    assert run.status == "failed"
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(live_server.url + reverse("admin:runs_run_change", args=[run.pk]))
    graph = page.get_by_test_id("run-graph")
    expect(graph).to_be_visible()
    expect(page.get_by_test_id("graph-node-trigger")).to_have_attribute("data-status", "succeeded")
    expect(page.get_by_test_id("graph-node-check")).to_have_attribute("data-status", "succeeded")
    expect(page.get_by_test_id("graph-node-divide")).to_have_attribute("data-status", "failed")
    assert page.get_by_test_id("graph-node-small").get_attribute("data-status") in (
        "skipped", "not-run")
    expect(page.locator("[data-testid^=graph-edge-]")).to_have_count(3)
    # The failed node is drawn red: its box's stroke is the failure colour.
    stroke = page.evaluate("""getComputedStyle(document.querySelector(
        '[data-testid="graph-node-divide"] rect')).stroke""")
    assert stroke == "rgb(208, 59, 59)", stroke

    box = page.get_by_test_id("run-graph-scroll").bounding_box()
    timeline = page.get_by_test_id("log-trigger").bounding_box()
    if page.phone:
        # Stacked: the graph over the timeline, inside the screen, its labels still readable.
        assert box["x"] >= 0, box
        assert box["x"] + box["width"] <= 390, box
        assert box["y"] + box["height"] <= timeline["y"], (box, timeline)
        no_sideways_scroll(page)
    else:
        # Beside the timeline.
        assert box["x"] + box["width"] <= timeline["x"], (box, timeline)
        assert box["y"] < timeline["y"] + timeline["height"], (box, timeline)
    label = page.locator('[data-testid="graph-node-divide"] .wf-rg-label').bounding_box()
    assert label["height"] >= 10, label  # never scaled below legible: the pane scrolls
    page.shot("run-graph", full_page=True)

    # A node of the graph leads to its row of the timeline.
    page.get_by_test_id("graph-node-divide").click()
    expect(page).to_have_url(f"{page.url.split('#')[0].rstrip('#')}#node-divide")
    expect(page.get_by_test_id("log-divide")).to_be_in_viewport()
    assert page.js_errors == []
