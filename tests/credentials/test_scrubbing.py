"""Known secret values of the credentials a run resolved, and the node's decrypted secret
config fields, are scrubbed ("***") from node outputs, error texts and run logs before they
are stored."""

from __future__ import annotations

import logging

import pytest
from pydantic import Field

from nodes.base import NodeConfig, NodeError, NodeType, credential_field
from nodes.registry import registry
from runs.models import RunLog
from tests.factories import make_workflow, run_now, simple_definition
from workflows.services import credential_create

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "pw-SCRUB-me-4821"


class EchoConfig(NodeConfig):
    credential: int | str | None = Field(None, json_schema_extra=credential_field("basic_auth"))
    api_key: str = ""
    fail: bool = False


class EchoNode(NodeType):
    """A careless node: it puts what it was given into its output, its log and its error."""

    type = "test_echo_secret"
    Config = EchoConfig
    secret_fields = ("api_key",)
    timeout = 5.0

    def run(self, ctx, config, input):
        password = ctx.credential(config.credential)["data"]["password"] \
            if config.credential else ""
        ctx.log("using %s and %s", password, config.api_key)
        said = {"password": password, "text": f"logged in with {password}",
                "key": config.api_key, "nested": [{"again": password}]}
        if config.fail:
            raise NodeError(f"login as ann:{password} refused", output=said)
        return said


@pytest.fixture(autouse=True)
def echo_node():
    with registry.temporarily(EchoNode):
        yield


def run_echo(user, **config):
    return run_now(make_workflow(owner=user, definition=simple_definition(
        {"id": "echo", "type": "test_echo_secret", "config": config})))


def stored_text(run) -> str:
    logs = list(RunLog.objects.filter(run=run).values("input", "output", "error"))
    return f"{run.result} {run.error} {logs}"


def test_a_node_echoing_a_credential_secret_stores_stars(user, caplog):
    credential = credential_create(owner=user, name="basic", kind="basic_auth",
                                   data={"username": "ann", "password": SECRET})
    with caplog.at_level(logging.INFO, logger="wfaib.nodes"):
        run = run_echo(user, credential=credential.pk)
    assert run.status == "succeeded", run.error
    assert run.result == {"password": "***", "text": "logged in with ***", "key": "",
                          "nested": [{"again": "***"}]}
    assert SECRET not in stored_text(run)
    assert "using *** and" in caplog.text
    assert SECRET not in caplog.text


def test_an_error_holding_the_secret_is_scrubbed(user):
    credential = credential_create(owner=user, name="basic", kind="basic_auth",
                                   data={"username": "ann", "password": SECRET})
    run = run_echo(user, credential=credential.pk, fail=True)
    assert run.status == "failed"
    assert "login as ann:*** refused" in run.error
    log = RunLog.objects.get(run=run, node_id="echo")
    assert log.error == "login as ann:*** refused"
    assert log.output["text"] == "logged in with ***"
    assert SECRET not in stored_text(run)


def test_a_decrypted_secret_config_field_is_scrubbed_too(user):
    run = run_echo(user, api_key="sk-config-SCRUB-99")
    assert run.status == "succeeded", run.error
    assert run.result["key"] == "***"
    assert "sk-config-SCRUB-99" not in stored_text(run)


class RespondEchoNode(NodeType):
    """Answers the webhook call with the credential's password (careless, again)."""

    type = "test_respond_secret"
    Config = EchoConfig
    inline_only = True

    def run(self, ctx, config, input):
        password = ctx.credential(config.credential)["data"]["password"]
        ctx.respond(status=200, headers={}, body={"said": f"pw={password}"})
        return


def test_a_webhook_answer_holding_the_secret_is_scrubbed(user):
    from runs.models import Run

    credential = credential_create(owner=user, name="basic", kind="basic_auth",
                                   data={"username": "ann", "password": SECRET})
    with registry.temporarily(RespondEchoNode):
        run = run_now(make_workflow(owner=user, definition=simple_definition(
            {"id": "answer", "type": "test_respond_secret",
             "config": {"credential": credential.pk}})))
    assert run.status == "succeeded", run.error
    assert Run.objects.get(pk=run.pk).response["body"] == {"said": "pw=***"}
