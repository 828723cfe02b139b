"""Node secrets (secret_fields) never leave the server; saving a masked definition keeps them."""

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory, make_workflow, simple_definition
from wfaib.masking import MASK as SECRET_MASK
from workflows.models import WorkflowVersion

pytestmark = pytest.mark.django_db

KEY = "sk-very-secret-key"


def llm_definition(api_key=KEY, prompt="hi"):
    return simple_definition({"id": "ask", "type": "llm",
                              "config": {"prompt": prompt, "api_key": api_key}})


@pytest.fixture
def owner_client():
    owner = UserFactory()
    client = APIClient()
    client.force_authenticate(owner)
    return owner, client


def test_api_masks_secrets_in_workflow_and_versions(owner_client):
    owner, client = owner_client
    wf = make_workflow(owner=owner, definition=llm_definition())
    for url in (f"/api/workflows/{wf.pk}", f"/api/workflows/{wf.pk}/versions/1", "/api/workflows"):
        body = client.get(url).content.decode()
        assert KEY not in body, url
        assert SECRET_MASK in body, url


def test_saving_the_masked_definition_keeps_the_secret(owner_client):
    owner, client = owner_client
    wf = make_workflow(owner=owner, definition=llm_definition())
    shown = client.get(f"/api/workflows/{wf.pk}").json()
    shown["definition"]["nodes"][1]["config"]["prompt"] = "changed"
    answer = client.put(f"/api/workflows/{wf.pk}", {
        "name": wf.name, "definition": shown["definition"], "version": shown["version"]},
        format="json")
    assert answer.status_code == 200, answer.content
    wf.refresh_from_db()
    config = wf.definition["nodes"][1]["config"]
    assert (config["api_key"], config["prompt"]) == (KEY, "changed")
    latest = WorkflowVersion.objects.get(workflow=wf, number=wf.version)
    assert latest.definition["nodes"][1]["config"]["api_key"] == KEY


def test_a_new_secret_value_replaces_the_stored_one(owner_client):
    owner, client = owner_client
    wf = make_workflow(owner=owner, definition=llm_definition())
    answer = client.patch(f"/api/workflows/{wf.pk}",
                          {"definition": llm_definition(api_key="sk-new")}, format="json")
    assert answer.status_code == 200
    wf.refresh_from_db()
    assert wf.definition["nodes"][1]["config"]["api_key"] == "sk-new"


def test_mask_on_a_new_node_does_not_borrow_another_nodes_secret(owner_client):
    owner, client = owner_client
    wf = make_workflow(owner=owner, definition=llm_definition())
    definition = llm_definition(api_key=SECRET_MASK)
    definition["nodes"][1]["id"] = "other"
    definition["edges"][0]["to"] = "other"
    answer = client.patch(f"/api/workflows/{wf.pk}", {"definition": definition}, format="json")
    assert answer.status_code == 200
    wf.refresh_from_db()
    assert wf.definition["nodes"][1]["config"]["api_key"] == ""


def test_admin_json_form_masks_and_keeps_secrets(client):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    wf = make_workflow(owner=admin_user, definition=llm_definition())
    page = client.get(f"/admin/workflows/workflow/{wf.pk}/change/").content.decode()
    assert KEY not in page
    assert SECRET_MASK in page
