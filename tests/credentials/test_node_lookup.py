"""Nodes reach stored credentials through `ctx.credential`: those of the run's project and those
shared with it, by id or name, decrypted, also from a node working in its own thread; never
another project's."""

from __future__ import annotations

import hashlib

import pytest
from pydantic import Field

from accounts.models import Project
from nodes.base import NodeConfig, NodeType, credential_field
from nodes.registry import registry
from runs.engine.credentials import credential_fields
from tests.factories import UserFactory, make_workflow, run_now, simple_definition
from workflows.services import credential_create, credential_share


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class UseConfig(NodeConfig):
    credential: int | str | None = Field(None, json_schema_extra=credential_field("smtp"))
    dynamic: str = ""


class UseCredentialNode(NodeType):
    """Reports what it was given (a real node would never output a secret)."""

    type = "test_use_credential"
    Config = UseConfig
    timeout = 5.0  # runs in its own thread (not pure)

    def run(self, ctx, config, input):
        found = ctx.credential(config.dynamic or config.credential, kinds=("smtp",))
        # the secret itself would be scrubbed from what is stored: report a digest of it
        return {"name": found["name"], "password": digest(found["data"]["password"])}


@pytest.fixture
def use_node():
    with registry.temporarily(UseCredentialNode):
        yield


def run_with(owner, **config):
    workflow = make_workflow(owner=owner, definition=simple_definition(
        {"id": "use", "type": "test_use_credential", "config": config}))
    return run_now(workflow)


def test_the_credential_fields_of_a_type_are_found_from_its_schema():
    assert credential_fields(UseCredentialNode) == ("credential",)
    schema = UseCredentialNode.config_json_schema()
    assert schema["properties"]["credential"]["x-credential"] == ["smtp"]


@pytest.mark.django_db(transaction=True)
def test_a_node_gets_its_projects_credential_by_id_or_name_even_in_its_own_thread(use_node):
    owner = UserFactory()
    credential = credential_create(owner=owner, name="mail", kind="smtp",
                                   data={"password": "s3cret-pw"})
    by_id = run_with(owner, credential=credential.pk)
    assert by_id.status == "succeeded", by_id.error
    assert by_id.result == {"name": "mail", "password": digest("s3cret-pw")}
    by_name = run_with(owner, dynamic="mail")  # computed at run time: looked up in its thread
    assert by_name.result == {"name": "mail", "password": digest("s3cret-pw")}


@pytest.mark.django_db
def test_another_projects_credential_is_not_found_unless_shared(use_node):
    owner, stranger = UserFactory(), UserFactory()
    theirs = credential_create(owner=stranger, name="mail", kind="smtp",
                               data={"password": "not-yours"})
    refused = run_with(owner, credential=theirs.pk)
    assert refused.status == "failed"
    assert f"credential {theirs.pk!r} does not exist or is not available" in refused.error
    assert "not-yours" not in refused.error
    credential_share(credential=theirs, project=Project.objects.get(personal_owner=owner))
    assert run_with(owner, credential=theirs.pk).result["password"] == digest("not-yours")


@pytest.mark.django_db
def test_a_credential_of_the_wrong_kind_fails_the_node_by_name(use_node):
    owner = UserFactory()
    credential_create(owner=owner, name="bucket", kind="s3", data={"password": "x"})
    run = run_with(owner, credential="bucket")
    assert run.status == "failed"
    assert "'bucket' is of kind 's3'; this node needs one of: smtp" in run.error
