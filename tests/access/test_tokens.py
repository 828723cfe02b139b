"""API tokens limited to one project, to reads, and with an expiry."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import ApiToken, Project
from tests.access.conftest import api_for
from tests.factories import make_workflow
from workflows.models import Workflow

pytestmark = pytest.mark.django_db


def test_a_read_only_token_reads_but_every_write_is_403_and_changes_nothing(team):
    workflow = make_workflow(owner=team["admin"], name="kept", project=team["project"])
    client = api_for(team["admin"], read_only=True)
    assert client.get(f"/api/workflows/{workflow.pk}").status_code == 200
    writes = [
        client.patch(f"/api/workflows/{workflow.pk}", {"name": "changed"}, format="json"),
        client.delete(f"/api/workflows/{workflow.pk}"),
        client.post("/api/workflows", {"name": "new"}, format="json"),
        client.post(f"/api/workflows/{workflow.pk}/runs", {}, format="json"),
        client.post("/api/projects", {"name": "p"}, format="json"),
        client.post("/api/auth/tokens", {"name": "wider"}, format="json"),
    ]
    for response in writes:
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "read_only_token"
    assert list(Workflow.objects.values_list("name", flat=True)) == ["kept"]
    assert workflow.runs.count() == 0
    assert client.post("/api/auth/logout").status_code == 204  # it may still revoke itself


def test_a_project_token_sees_and_creates_only_in_its_project(team):
    inside = make_workflow(owner=team["admin"], name="inside", project=team["project"])
    outside = make_workflow(owner=team["admin"], name="personal")
    client = api_for(team["admin"], project=team["project"])
    names = [w["name"] for w in client.get("/api/workflows").json()["results"]]
    assert names == ["inside"]
    assert client.get(f"/api/workflows/{outside.pk}").status_code == 404
    assert client.get(f"/api/workflows/{inside.pk}").status_code == 200
    created = client.post("/api/workflows", {"name": "new"}, format="json")
    assert created.json()["project"] == team["project"].pk  # its project is the default
    personal = Project.objects.get(personal_owner=team["admin"])
    elsewhere = client.post("/api/workflows", {"name": "x", "project": personal.pk},
                            format="json")
    assert elsewhere.status_code == 400  # not a project this token knows
    assert [p["id"] for p in client.get("/api/projects").json()["results"]] == [
        team["project"].pk]
    assert client.post("/api/projects", {"name": "escape"}, format="json").status_code == 403
    wider = client.post("/api/auth/tokens", {"name": "all"}, format="json")
    assert wider.status_code == 403
    same = client.post("/api/auth/tokens", {"name": "same", "project": team["project"].pk},
                       format="json")
    assert same.status_code == 201


def test_a_token_expires(team):
    client = api_for(team["admin"])
    created = client.post("/api/auth/tokens", {
        "name": "short", "read_only": True, "project": team["project"].pk,
        "expires_at": (timezone.now() + dt.timedelta(hours=1)).isoformat()}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["read_only"] is True
    assert body["project"] == team["project"].pk
    short = api_for(team["admin"])
    short.credentials(HTTP_AUTHORIZATION=f"Token {body['key']}")
    assert short.get("/api/workflows").status_code == 200
    ApiToken.objects.filter(pk=body["id"]).update(expires_at=timezone.now())
    expired = short.get("/api/workflows")
    assert expired.status_code == 401
    assert expired.json()["code"] == "token_expired"


def test_token_limits_are_validated(team, other_user):
    client = api_for(team["admin"])
    past = client.post("/api/auth/tokens", {
        "name": "x", "expires_at": (timezone.now() - dt.timedelta(minutes=1)).isoformat()},
        format="json")
    assert past.status_code == 400
    assert "expires_at" in past.json()["fields"]
    foreign = Project.objects.get(personal_owner=other_user)
    not_mine = client.post("/api/auth/tokens", {"name": "x", "project": foreign.pk},
                           format="json")
    assert not_mine.status_code == 400
    assert "project" in not_mine.json()["fields"]


def test_a_viewer_with_a_full_token_still_cannot_write(team):
    workflow = make_workflow(owner=team["admin"], project=team["project"])
    client = api_for(team["viewer"])
    response = client.post(f"/api/workflows/{workflow.pk}/runs", {}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
