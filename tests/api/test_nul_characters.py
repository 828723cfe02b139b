"""NUL characters (U+0000): PostgreSQL's text and jsonb cannot hold them. The API refuses
them with a 400 naming where; run data from webhooks and nodes is stored with U+FFFD in their
place, on both databases, and the run is never lost to a database error."""

import json

import pytest
from django.test import Client

from runs.models import Run
from tests.factories import make_workflow, run_now, simple_definition
from wfaib.nul_safe import NulSafeJSONEncoder

pytestmark = pytest.mark.django_db(transaction=True)


def echo_workflow():
    return make_workflow(definition=simple_definition(
        {"id": "echo", "type": "transform", "config": {"expression": "{{ input }}"}}))


@pytest.mark.parametrize(("body", "where"), [
    ({"name": "a\u0000b"}, "at name"),
    ({"name": "ok", "definition": {"nodes": [{"id": "t", "type": "transform",
                                              "config": {"expression": "'\u0000'"}}],
                                   "edges": []}}, "at definition.nodes[0].config.expression"),
    ({"name": "ok", "tags": ["x"], "description": "fine", "\u0000": 1},
     "in a key at the top level"),
])
def test_the_api_refuses_a_nul_character_naming_where(api, body, where):
    response = api.post("/api/workflows", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "nul_character"
    assert where in response.json()["message"]


def test_an_escaped_backslash_before_u0000_is_not_a_nul(api):
    response = api.post("/api/workflows", {"name": "a\\u0000b"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "a\\u0000b"


@pytest.mark.parametrize("body", [b'{"a": "x\\u0000y"}', b'{"a\\u0000": "x\\u0000y"}'])
def test_a_webhook_body_with_nul_runs_and_is_stored_with_a_replacement(body):
    workflow = echo_workflow()
    response = Client().post(f"/api/webhook/{workflow.pk}", body,
                             content_type="application/json")
    assert response.status_code == 200, response.content
    run = Run.objects.get(workflow=workflow)
    assert run.status == Run.Status.SUCCEEDED
    stored = json.dumps([run.input, run.result], ensure_ascii=False)
    assert "\x00" not in stored
    assert "\ufffd" in stored
    assert list(run.input.values()) == ["x\ufffdy"]
    assert run.logs.get(node_id="echo").output == run.result


def test_a_node_error_with_nul_is_stored_with_a_replacement():
    workflow = make_workflow(definition=simple_definition(
        {"id": "boom", "type": "code", "config": {"code": "raise ValueError('a\\x00b')"}}))
    run = run_now(workflow)
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED
    assert "a\ufffdb" in run.error
    assert "\x00" not in run.error
    assert "a\ufffdb" in run.logs.get(node_id="boom").error


@pytest.mark.parametrize(("value", "stored"), [
    ("a\x00b", "a\ufffdb"),
    ("a\\u0000b", "a\\u0000b"),          # a backslash, then the letters: kept
    ("a\\\x00b", "a\\\ufffdb"),          # a backslash, then a NUL
    ({"k\x00": ["\x00"]}, {"k\ufffd": ["\ufffd"]}),
])
def test_the_encoder_replaces_only_real_nul_characters(value, stored):
    assert json.loads(json.dumps(value, cls=NulSafeJSONEncoder)) == stored
