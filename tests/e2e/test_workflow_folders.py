"""Folders in the workflow list (issue 19): open a folder from the list, see its workflows and
subfolders, walk back up by the breadcrumb, create a folder there, and move selected workflows
into it with the list's action; at desktop and phone widths, light and dark."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.access import personal_project
from tests.factories import make_workflow
from workflows.folders import folder_create
from workflows.models import Folder, Workflow

from .conftest import sign_in
from .walk import no_sideways_scroll

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def rows(page):
    return page.locator("#result_list tbody th a")


def crumbs(page) -> list[str]:
    return [t.strip() for t in page.locator(".breadcrumbs li").all_inner_texts()]


def test_folder_navigation_and_move_action(walk, live_server, e2e_user):
    page = walk
    project = personal_project(e2e_user)
    billing = folder_create(project=project, name="Billing")
    invoices = folder_create(project=project, name="Invoices", parent=billing)
    make_workflow(owner=e2e_user, name="Loose one")
    make_workflow(owner=e2e_user, name="Bill run", folder=billing)
    make_workflow(owner=e2e_user, name="Invoice run", folder=invoices)
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(live_server.url + reverse("admin:workflows_workflow_changelist"))
    expect(rows(page)).to_have_count(3)

    # Top level: its workflows and its folders; open Billing, then its subfolder.
    page.get_by_test_id("folder-top").click()
    expect(rows(page)).to_have_text(["Loose one"])
    assert crumbs(page) == ["Home", "Workflows", "Top level"]
    page.get_by_test_id(f"folder-{billing.pk}").click()
    expect(rows(page)).to_have_text(["Bill run"])
    assert crumbs(page) == ["Home", "Workflows", "Top level", "Billing"]
    no_sideways_scroll(page)
    page.shot("billing")
    page.get_by_test_id(f"folder-{invoices.pk}").click()
    expect(rows(page)).to_have_text(["Invoice run"])
    assert crumbs(page) == ["Home", "Workflows", "Top level", "Billing", "Invoices"]
    page.shot("invoices")
    # Back up by the breadcrumb, then by "Up".
    page.locator(".breadcrumbs a", has_text="Billing").click()
    expect(rows(page)).to_have_text(["Bill run"])
    page.get_by_test_id("folder-up").click()
    expect(rows(page)).to_have_text(["Loose one"])

    # A new folder inside Billing (the add form comes with project and parent filled in).
    page.get_by_test_id(f"folder-{billing.pk}").click()
    page.get_by_test_id("folder-add").click()
    expect(page.locator("#id_parent")).to_have_value(str(billing.pk))
    page.fill("#id_name", "Receipts")
    page.locator("input[name=_save]").click()
    receipts = Folder.objects.get(name="Receipts")
    assert receipts.parent_id == billing.pk

    # Move two workflows there with the list's action.
    page.goto(live_server.url + reverse("admin:workflows_workflow_changelist"))
    for name in ("Loose one", "Bill run"):
        page.locator("#result_list tr", has_text=name).locator("input.action-select").check()
    page.select_option("select[name=action]", "move_to_folder")
    page.locator("button[name=index]").click()
    expect(page.get_by_test_id("move-list")).to_contain_text("Loose one")
    page.select_option("#id_target_folder", label="Billing / Receipts")
    no_sideways_scroll(page)
    page.shot("move")
    page.locator("input[name=apply]").click()
    expect(page.locator(".messagelist")).to_contain_text(
        "2 workflow(s) moved to Billing / Receipts")
    assert set(Workflow.objects.filter(folder=receipts).values_list("name", flat=True)) == {
        "Loose one", "Bill run"}
    page.goto(live_server.url + reverse("admin:workflows_workflow_changelist")
              + f"?folder={receipts.pk}")
    expect(rows(page)).to_have_count(2)
    expect(page.locator("#result_list a.wf-folder-link").first).to_have_text("Billing / Receipts")
    page.shot("receipts", full_page=True)
    assert page.js_errors == []
