"""The editor's credential picker: a node's credential field lists the credentials of its kinds
that the user may use, and the pick is saved as the credential's id."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import make_workflow, simple_definition
from workflows.models import Workflow
from workflows.services import credential_create

from .conftest import sign_in
from .test_editor import select_node

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_http_nodes_credential_is_picked_from_usable_ones(page, live_server, e2e_user):
    bearer = credential_create(owner=e2e_user, name="api-token", kind="bearer_token",
                               data={"token": "tok-e2e-1"})
    credential_create(owner=e2e_user, name="mailer", kind="smtp", data={"host": "h"})
    workflow = make_workflow(owner=e2e_user, definition=simple_definition(
        {"id": "call", "type": "http", "config": {"url": "https://api.example/x"}}))
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(live_server.url + reverse("admin:workflows_workflow_editor", args=[workflow.pk]))
    select_node(page, "call")
    picker = page.get_by_test_id("credential-credential").locator("select")
    expect(picker.locator("option")).to_have_text(["— none —", "api-token (bearer_token)"])
    picker.select_option(str(bearer.pk))
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("version")).to_have_text("v2")
    saved = Workflow.objects.get(pk=workflow.pk).definition["nodes"][1]["config"]
    assert saved["credential"] == bearer.pk
    page.reload()
    select_node(page, "call")
    expect(page.get_by_test_id("credential-credential").locator("select")).to_have_value(
        str(bearer.pk))
