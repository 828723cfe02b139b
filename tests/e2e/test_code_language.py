"""The code node's config form offers the language (a select generated from the config's JSON
Schema), and the choice is saved."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import make_workflow, simple_definition
from workflows.models import Workflow

from .conftest import sign_in
from .test_editor import select_node

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_code_node_form_offers_javascript(page, live_server, e2e_user):
    code = {"id": "c", "type": "code", "config": {"code": "result = 1"}}
    workflow = make_workflow(owner=e2e_user, name="Code", definition=simple_definition(code))
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(live_server.url + reverse("admin:workflows_workflow_editor", args=[workflow.pk]))
    select_node(page, "c")
    language = page.locator('[data-field="language"] select')
    expect(language).to_have_value("python")
    expect(language.locator("option")).to_have_text(["python", "javascript"])
    language.select_option("javascript")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("version")).to_have_text("v2")
    saved = Workflow.objects.get(pk=workflow.pk).definition
    node = next(n for n in saved["nodes"] if n["id"] == "c")
    assert node["config"]["language"] == "javascript"
    assert page.js_errors == []
