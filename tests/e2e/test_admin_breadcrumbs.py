"""Django's own history and delete pages name the workflow list once ("Home › Workflows ›
name", not "Workflows › Workflows"), at desktop and phone widths in light and dark."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import make_workflow

from .conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def crumbs(page) -> list[str]:
    return [t.strip() for t in page.locator(".breadcrumbs li").all_inner_texts()]


def test_history_and_delete_pages_breadcrumbs(walk, live_server, e2e_user):
    page = walk
    workflow = make_workflow(owner=e2e_user, name="Orders")
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(live_server.url + reverse("admin:workflows_workflow_history", args=[workflow.pk]))
    expect(page.locator(".breadcrumbs")).to_be_visible()
    assert crumbs(page) == ["Home", "Workflows", "Orders", "History"]
    page.shot("history")
    page.locator(".breadcrumbs a", has_text="Workflows").click()
    expect(page).to_have_url(live_server.url + reverse("admin:workflows_workflow_changelist"))

    page.goto(live_server.url + reverse("admin:workflows_workflow_delete", args=[workflow.pk]))
    assert crumbs(page) == ["Home", "Workflows", "Orders", "Delete"]
    page.shot("delete")

    # The bulk delete of the list.
    page.goto(live_server.url + reverse("admin:workflows_workflow_changelist"))
    page.locator("input.action-select").first.check()
    page.select_option("select[name=action]", "delete_selected")
    page.locator("button[name=index]").click()
    expect(page.locator(".breadcrumbs")).to_contain_text("Delete multiple objects")
    assert crumbs(page) == ["Home", "Workflows", "Delete multiple objects"]

    assert page.js_errors == []
