"""A credential named by a node of a workflow's current definition (by id or name) is not
deleted: 409 listing the workflows, from the API and the admin."""

from __future__ import annotations

import pytest
from django.test import Client
from pydantic import Field

from accounts.models import Project
from nodes.base import NodeConfig, NodeType, credential_field
from nodes.registry import registry
from tests.factories import UserFactory, make_workflow, simple_definition
from workflows.models import Credential
from workflows.services import credential_create, credential_share, workflow_update

pytestmark = pytest.mark.django_db


class MailConfig(NodeConfig):
    credential: int | str | None = Field(None, json_schema_extra=credential_field("smtp"))


class MailNode(NodeType):
    type = "test_mail_user"
    Config = MailConfig
    pure = True

    def run(self, ctx, config, input):
        return None


@pytest.fixture(autouse=True)
def mail_node():
    with registry.temporarily(MailNode):
        yield


def uses(owner, ref, name):
    return make_workflow(owner=owner, name=name, definition=simple_definition(
        {"id": "mail", "type": "test_mail_user", "config": {"credential": ref}}))


def test_deleting_a_credential_in_use_answers_409_with_the_workflows(api, user):
    credential = credential_create(owner=user, name="mail", kind="smtp", data={"host": "h"})
    by_id = uses(user, credential.pk, "by id")
    by_name = uses(user, "mail", "by name")
    uses(user, "other-mail", "unrelated")
    response = api.delete(f"/api/credentials/{credential.pk}")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "credential_in_use"
    assert body["workflows"] == [{"id": by_id.pk, "name": "by id"},
                                 {"id": by_name.pk, "name": "by name"}]
    assert "by id" in body["message"]
    assert Credential.objects.filter(pk=credential.pk).exists()
    # once no current definition names it (older versions do not count), it goes
    for workflow in (by_id, by_name):
        workflow_update(workflow=workflow, user=user, definition=simple_definition(
            {"id": "mail", "type": "test_mail_user", "config": {}}))
    assert api.delete(f"/api/credentials/{credential.pk}").status_code == 204


def test_a_workflow_of_a_project_it_is_shared_with_counts(api, user):
    stranger = UserFactory()
    theirs = uses(stranger, "mail", "theirs")
    credential = credential_create(owner=user, name="mail", kind="smtp", data={"host": "h"})
    credential_share(credential=credential,
                     project=Project.objects.get(personal_owner=stranger))
    response = api.delete(f"/api/credentials/{credential.pk}")
    assert response.status_code == 409
    assert response.json()["workflows"] == [{"id": theirs.pk, "name": "theirs"}]


def test_a_name_meaning_the_projects_own_credential_does_not_count(api, user):
    credential = credential_create(owner=user, name="mail", kind="smtp", data={"host": "h"})
    stranger = UserFactory()
    project = Project.objects.get(personal_owner=stranger)
    credential_share(credential=credential, project=project)
    credential_create(owner=stranger, name="mail", kind="smtp", data={"host": "h2"})
    uses(stranger, "mail", "their own")  # names their own "mail"
    assert api.delete(f"/api/credentials/{credential.pk}").status_code == 204


def test_the_admin_refuses_too(user):
    user.is_staff = True
    user.save()
    credential = credential_create(owner=user, name="mail", kind="smtp", data={"host": "h"})
    uses(user, credential.pk, "report")
    client = Client()
    client.force_login(user)
    response = client.post(f"/admin/workflows/credential/{credential.pk}/delete/",
                           {"post": "yes"}, follow=True)
    assert Credential.objects.filter(pk=credential.pk).exists()
    assert b"used by 1 workflow(s): &#x27;report&#x27;" in response.content


def test_the_api_shows_which_credential_a_node_names(api, user):
    credential = credential_create(owner=user, name="mail", kind="smtp", data={"host": "h"})
    workflow = uses(user, credential.pk, "report")
    shown = api.get(f"/api/workflows/{workflow.pk}").json()["definition"]
    assert shown["nodes"][1]["config"]["credential"] == credential.pk
