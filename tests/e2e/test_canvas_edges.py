"""Edges stay drawn whenever the canvas's nodes are replaced by equal ones (a version restored,
an undo, the workflow loaded again): React Flow draws an edge only between measured nodes, and
does not measure again an element whose size did not change (components/MeasureRepair.tsx)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import make_workflow, simple_definition
from workflows.services import workflow_update

from .conftest import sign_in
from .walk import view_ready

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_edges_are_drawn_after_load_restore_and_undo(walk, live_server, e2e_user):
    page = walk
    workflow = make_workflow(owner=e2e_user, name="Edges", definition=simple_definition(
        {"id": "shape", "type": "transform", "config": {"expression": "input"}},
        {"id": "wait", "type": "delay", "config": {"seconds": 0}}))
    workflow_update(workflow=workflow, user=e2e_user, description="v2: same nodes and edges")
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(live_server.url + reverse("admin:workflows_workflow_editor", args=[workflow.pk]))
    view_ready(page)
    edges = page.locator(".react-flow__edge")
    expect(edges).to_have_count(2)

    # Version 1 (the same nodes and edges) restored: new node objects, same elements.
    page.get_by_test_id("history").click()
    page.get_by_test_id("version-history").get_by_role("button", name="restore").first.click()
    expect(page.get_by_test_id("node-wait")).to_be_visible()
    expect(edges).to_have_count(2)
    page.keyboard.press("Control+z")
    expect(edges).to_have_count(2)

    # A node added from a port is connected and drawn too.
    page.get_by_test_id("port-plus-wait-main").click()
    page.get_by_test_id("quick-add").get_by_test_id("quick-add-http").click()
    expect(page.get_by_test_id("node-http")).to_be_visible()
    expect(edges).to_have_count(3)
    page.shot("edges")
    assert page.js_errors == []


def test_nodes_are_measured_when_the_browser_never_reports_their_size(walk, live_server,
                                                                      e2e_user):
    """A browser whose ResizeObserver never reports (seen under heavy load: the nodes were
    never measured, so no edge was drawn and the view never fitted): the canvas measures the
    nodes itself."""
    page = walk
    page.add_init_script("window.ResizeObserver = class { observe() {} unobserve() {} "
                         "disconnect() {} }")
    workflow = make_workflow(owner=e2e_user, name="Silent", definition=simple_definition(
        {"id": "shape", "type": "transform", "config": {"expression": "input"}}))
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(live_server.url + reverse("admin:workflows_workflow_editor", args=[workflow.pk]))
    view_ready(page)
    expect(page.locator(".react-flow__edge")).to_have_count(1)
    page.get_by_test_id("port-plus-shape-main").click()
    page.get_by_test_id("quick-add").get_by_test_id("quick-add-http").click()
    expect(page.locator(".react-flow__edge")).to_have_count(2)
    assert page.js_errors == []
