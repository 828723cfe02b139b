"""Workflows API: CRUD, validation, versions, 409 on stale saves, secrets, node types."""

import pytest

from runs.models import Run
from tests.factories import UserFactory, make_workflow, run_now, simple_definition
from workflows.models import Workflow, WorkflowVersion

pytestmark = pytest.mark.django_db

WORKFLOW_KEYS = {"id", "name", "description", "definition", "is_active", "version", "owner",
                 "project", "webhook_auth", "webhook_mode", "webhook_path", "max_concurrency",
                 "error_workflow", "retention_days", "retention_max_runs",
                 "monthly_token_budget", "monthly_cost_budget", "tags", "folder", "webhook_url",
                 "created_at", "updated_at"}


def transform(node_id, expression):
    return {"id": node_id, "type": "transform", "config": {"expression": expression}}


def create(api, **data):
    data.setdefault("name", "greeter")
    data.setdefault("definition", simple_definition(transform("t", "input")))
    return api.post("/api/workflows", data, format="json")


def test_create_returns_the_workflow_with_version_1(api, user):
    response = create(api, description="says hi")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == WORKFLOW_KEYS
    assert body["owner"] == user.email
    assert body["version"] == 1
    assert body["webhook_url"] == f"http://testserver/api/webhook/{body['id']}"
    assert body["definition"]["nodes"][1]["id"] == "t"
    assert WorkflowVersion.objects.filter(workflow_id=body["id"], number=1).exists()


def test_create_without_definition_starts_with_a_webhook_trigger(api):
    body = api.post("/api/workflows", {"name": "blank"}, format="json").json()
    assert [n["type"] for n in body["definition"]["nodes"]] == ["webhook"]


def test_create_with_invalid_definition_is_400_with_paths(api):
    bad = simple_definition({"id": "h", "type": "http", "config": {"url": "not a url"}})
    response = create(api, definition=bad)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_definition"
    assert any(e["path"].startswith("nodes[1].config.url") for e in body["errors"])
    assert not Workflow.objects.exists()


def test_create_with_bad_field_is_400_naming_it(api):
    response = create(api, name="", max_concurrency=0, webhook_auth="magic")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"name", "max_concurrency", "webhook_auth"}


def test_retention_fields_are_set_and_bad_values_refused_naming_the_field(api):
    wf = create(api, retention_days=7, retention_max_runs=0).json()
    assert (wf["retention_days"], wf["retention_max_runs"]) == (7, 0)
    url = f"/api/workflows/{wf['id']}"
    for bad in ({"retention_days": -1}, {"retention_max_runs": "many"},
                {"retention_days": 10**9}):
        response = api.patch(url, bad, format="json")
        assert response.status_code == 400, bad
        assert set(response.json()["fields"]) == set(bad)
    cleared = api.patch(url, {"retention_days": None}, format="json").json()
    assert cleared["retention_days"] is None
    assert Workflow.objects.get(pk=wf["id"]).retention_days is None


def test_non_json_body_is_415_and_malformed_json_400(api):
    response = api.post("/api/workflows", "name=x", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    response = api.post("/api/workflows", "{bad", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"


def test_list_and_retrieve(api):
    first = create(api, name="a").json()
    second = create(api, name="b").json()
    listed = api.get("/api/workflows").json()
    assert listed["count"] == 2
    assert [w["id"] for w in listed["results"]] == [second["id"], first["id"]]
    one = api.get(f"/api/workflows/{first['id']}")
    assert one.json()["name"] == "a"
    assert one["ETag"] == '"1"'


def test_unknown_workflow_is_404_in_the_error_shape(api):
    response = api.get("/api/workflows/999999")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_update_with_definition_creates_a_version(api, user):
    wf = create(api).json()
    new = simple_definition(transform("t", "input"), transform("u", "input"))
    response = api.put(f"/api/workflows/{wf['id']}", {
        "name": "renamed", "definition": new, "version": 1}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 2
    assert response["ETag"] == '"2"'
    versions = api.get(f"/api/workflows/{wf['id']}/versions").json()
    assert [v["number"] for v in versions] == [2, 1]
    assert versions[0]["created_by"] == user.email
    v1 = api.get(f"/api/workflows/{wf['id']}/versions/1").json()
    assert [n["id"] for n in v1["definition"]["nodes"]] == ["trigger", "t"]
    assert api.get(f"/api/workflows/{wf['id']}/versions/7").status_code == 404


def test_a_metadata_change_is_a_new_version_with_the_same_definition(api):
    wf = create(api).json()
    response = api.patch(f"/api/workflows/{wf['id']}", {"is_active": False}, format="json")
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert response.json()["version"] == 2
    v2 = api.get(f"/api/workflows/{wf['id']}/versions/2").json()
    assert v2["definition"] == api.get(f"/api/workflows/{wf['id']}/versions/1").json()[
        "definition"]
    # nothing changed: no new version
    same = api.patch(f"/api/workflows/{wf['id']}", {"is_active": False}, format="json")
    assert same.json()["version"] == 2


def test_two_renames_from_the_same_version_the_second_is_409(api, user):
    wf = create(api).json()
    url = f"/api/workflows/{wf['id']}"
    assert api.patch(url, {"name": "first", "version": 1}, format="json").status_code == 200
    for change in ({"name": "second"}, {"description": "d"}, {"is_active": False},
                   {"max_concurrency": 3}, {"webhook_mode": "async"}):
        stale = api.patch(url, {**change, "version": 1}, format="json")
        assert stale.status_code == 409, change
        assert stale.json()["code"] == "version_conflict"
        assert stale.json()["current_version"] == 2
    stale = api.put(url, {"name": "third", "definition": wf["definition"]},
                    format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 409
    after = api.get(url).json()
    assert (after["name"], after["description"], after["is_active"]) == ("first", "", True)


def test_stale_version_is_409_and_nothing_is_overwritten(api, other_api):
    wf = create(api).json()
    url = f"/api/workflows/{wf['id']}"
    first = simple_definition(transform("first", "1"))
    assert api.patch(url, {"definition": first, "version": 1}, format="json").status_code == 200
    second = simple_definition(transform("second", "2"))
    response = api.patch(url, {"definition": second, "version": 1, "name": "lost"},
                         format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "version_conflict"
    assert response.json()["current_version"] == 2
    stored = Workflow.objects.get(pk=wf["id"])
    assert stored.version == 2
    assert stored.name == "greeter"
    assert stored.definition["nodes"][1]["id"] == "first"
    assert WorkflowVersion.objects.filter(workflow=stored).count() == 2


@pytest.mark.parametrize("header", ['"1"', "1", 'W/"1"'])
def test_if_match_header_carries_the_base_version(api, header):
    wf = create(api).json()
    url = f"/api/workflows/{wf['id']}"
    api.patch(url, {"definition": simple_definition(transform("x", "1"))}, format="json")
    response = api.patch(url, {"name": "late"}, format="json", HTTP_IF_MATCH=header)
    assert response.status_code == 409
    assert response.json()["current_version"] == 2
    ok = api.patch(url, {"name": "fresh"}, format="json", HTTP_IF_MATCH='"2"')
    assert ok.status_code == 200


def test_malformed_if_match_is_400(api):
    wf = create(api).json()
    response = api.patch(f"/api/workflows/{wf['id']}", {"name": "x"}, format="json",
                         HTTP_IF_MATCH="abc")
    assert response.status_code == 400
    assert "If-Match" in response.json()["fields"]


def test_update_with_invalid_definition_is_400_and_keeps_the_old(api):
    wf = create(api).json()
    response = api.patch(f"/api/workflows/{wf['id']}", {
        "definition": {"nodes": [{"id": "a", "type": "nope"}]}, "version": 1}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "nodes[0].type"
    assert Workflow.objects.get(pk=wf["id"]).version == 1


def test_delete_removes_the_workflow_with_its_runs(api, user):
    workflow = make_workflow(owner=user)
    run_now(workflow, {"x": 1})
    assert api.delete(f"/api/workflows/{workflow.pk}").status_code == 204
    assert not Workflow.objects.filter(pk=workflow.pk).exists()
    assert not Run.objects.filter(workflow_id=workflow.pk).exists()


def test_webhook_secret_is_write_only(api):
    wf = create(api, webhook_auth="token", webhook_secret="s3cret").json()
    assert "webhook_secret" not in wf
    assert "s3cret" not in str(api.get(f"/api/workflows/{wf['id']}").json())
    assert Workflow.objects.get(pk=wf["id"]).webhook_secret == "s3cret"


def test_rotate_secret_returns_a_new_secret_once_and_keeps_the_old(api):
    wf = create(api, webhook_auth="hmac", webhook_secret="old").json()
    response = api.post(f"/api/workflows/{wf['id']}/rotate-secret")
    assert response.status_code == 200
    body = response.json()
    assert body["webhook_secret"].startswith("whsec_")
    assert body["previous_secret_valid_until"] is not None
    stored = Workflow.objects.get(pk=wf["id"])
    assert stored.webhook_secret == body["webhook_secret"]
    assert stored.webhook_previous_secret == "old"
    assert body["webhook_secret"] not in str(api.get(f"/api/workflows/{wf['id']}").json())


def test_error_workflow_must_be_one_of_yours_and_not_itself(api, other_user):
    own = create(api).json()
    handler = create(api, name="handler").json()
    foreign = make_workflow(owner=other_user)
    ok = api.patch(f"/api/workflows/{own['id']}", {"error_workflow": handler["id"]},
                   format="json")
    assert ok.status_code == 200
    assert ok.json()["error_workflow"] == handler["id"]
    for target in (foreign.pk, own["id"]):
        bad = api.patch(f"/api/workflows/{own['id']}", {"error_workflow": target},
                        format="json")
        assert bad.status_code == 400
        assert "error_workflow" in bad.json()["fields"]


def test_staff_see_no_one_elses_workflow_superusers_see_every_one(staff_api, user,
                                                                   client_for):
    workflow = make_workflow(owner=user)
    assert staff_api.get(f"/api/workflows/{workflow.pk}").status_code == 404
    assert staff_api.get("/api/workflows").json()["count"] == 0
    superuser_api = client_for(UserFactory(is_staff=True, is_superuser=True))
    assert superuser_api.get(f"/api/workflows/{workflow.pk}").status_code == 200
    assert superuser_api.get("/api/workflows").json()["count"] == 1


def test_node_types_lists_every_registered_type(api):
    from nodes.registry import registry

    body = api.get("/api/node-types").json()
    assert [t["type"] for t in body] == [cls.type for cls in registry]
    http = next(t for t in body if t["type"] == "http")
    assert "url" in http["config_schema"]["properties"]
    assert set(http["output_schema"]["properties"]) == {"status", "headers", "body"}
    condition = next(t for t in body if t["type"] == "condition")
    assert condition["output_schema"] is None
    # the editor's condition builder is offered for true/false expression fields
    assert condition["config_schema"]["properties"]["expression"]["x-condition"] is True
