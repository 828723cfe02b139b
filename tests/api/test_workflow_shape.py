"""POST/PUT/PATCH /api/workflows take the spec's WorkflowDefinition shape at the top level
({name, nodes, edges}) as well as under `definition`; unknown fields are refused by name,
never dropped."""

import pytest

from tests.factories import make_workflow, simple_definition
from workflows.models import Workflow

pytestmark = pytest.mark.django_db

SPEC_BODY = {
    "name": "greeter",
    "nodes": [
        {"id": "in", "type": "webhook", "config": {}, "position": {"x": 0, "y": 0}},
        {"id": "hello", "type": "transform", "config": {"expression": "'hi ' + input['who']"},
         "position": {"x": 250, "y": 0}},
    ],
    "edges": [{"from": "in", "to": "hello"}],
}


def test_the_spec_shape_at_the_top_level_is_stored_as_sent(api):
    response = api.post("/api/workflows", SPEC_BODY, format="json")
    assert response.status_code == 201, response.json()
    stored = Workflow.objects.get(pk=response.json()["id"]).definition
    assert [n["id"] for n in stored["nodes"]] == ["in", "hello"]
    assert stored["edges"] == [{"from": "in", "to": "hello"}]
    assert stored["name"] == "greeter"
    assert response.json()["definition"]["nodes"][1]["config"]["expression"] == \
        "'hi ' + input['who']"


def test_the_spec_shape_runs(api):
    workflow = api.post("/api/workflows", SPEC_BODY, format="json").json()
    run = api.post(f"/api/webhook/{workflow['id']}", {"who": "Ada"}, format="json")
    assert run.status_code == 200, run.json()
    assert run.json()["result"] == "hi Ada"


def test_top_level_nodes_are_validated_like_a_definition(api):
    body = {**SPEC_BODY, "nodes": [*SPEC_BODY["nodes"], {"id": "x", "type": "nope"}]}
    response = api.post("/api/workflows", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_definition"
    assert any(e["path"] == "nodes[2].type" for e in response.json()["errors"])
    assert not Workflow.objects.exists()


def test_both_shapes_at_once_is_400_naming_the_fields(api):
    body = {**SPEC_BODY, "definition": simple_definition()}
    response = api.post("/api/workflows", body, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"nodes", "edges"}
    assert not Workflow.objects.exists()


def test_unknown_fields_are_400_naming_each(api):
    response = api.post("/api/workflows", {"name": "x", "nodez": [], "activ": True},
                        format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"nodez", "activ"}
    assert "nodez" in body["message"]
    assert "activ" in body["message"]
    assert not Workflow.objects.exists()


def test_read_only_fields_sent_back_are_not_unknown(api):
    created = api.post("/api/workflows", SPEC_BODY, format="json").json()
    response = api.put(f"/api/workflows/{created['id']}", created, format="json")
    assert response.status_code == 200, response.json()


def test_patch_with_top_level_nodes_keeps_the_edges_it_did_not_send(api, user):
    workflow = make_workflow(owner=user, definition=simple_definition(
        {"id": "t", "type": "transform", "config": {"expression": "1"}}))
    nodes = [*workflow.definition["nodes"][:1],
             {"id": "t", "type": "transform", "config": {"expression": "2"}}]
    response = api.patch(f"/api/workflows/{workflow.pk}", {"nodes": nodes}, format="json")
    assert response.status_code == 200, response.json()
    workflow.refresh_from_db()
    assert workflow.definition["nodes"][1]["config"] == {"expression": "2"}
    assert workflow.definition["edges"] == [{"from": "trigger", "to": "t"}]
    assert workflow.version == 2


def test_patch_with_an_unknown_field_changes_nothing(api, user):
    workflow = make_workflow(owner=user)
    response = api.patch(f"/api/workflows/{workflow.pk}", {"is_activ": False}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"is_activ"}
    workflow.refresh_from_db()
    assert workflow.is_active
    assert workflow.version == 1


def test_the_readme_create_example_works_as_written(api):
    import json
    import re

    from django.conf import settings

    readme = (settings.BASE_DIR / "README.md").read_text()
    body = re.search(r"api/workflows -H .*?-d '(\{.*?\n  \})'", readme, re.DOTALL)
    assert body, "the README's complete create request is missing"
    created = api.post("/api/workflows", json.loads(body.group(1)), format="json")
    assert created.status_code == 201, created.json()
    who = re.search(r"-d '(\{\"who\".*?\})'", readme).group(1)
    answer = api.post(f"/api/webhook/{created.json()['id']}", json.loads(who), format="json")
    assert answer.json()["result"] == "hi Ada"
