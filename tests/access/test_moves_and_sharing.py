"""Moving workflows and credentials between projects, and sharing a credential for use."""

import pytest

from accounts.models import Membership, Project, Role
from audit.models import AuditEvent
from tests.access.conftest import api_for
from tests.factories import UserFactory, make_workflow
from workflows.models import Credential, Workflow
from workflows.services import credential_create

pytestmark = pytest.mark.django_db


def test_a_workflow_is_created_in_the_personal_project_and_moved_into_a_team(team):
    editor = api_for(team["editor"])
    created = editor.post("/api/workflows", {"name": "mine"}, format="json").json()
    personal = Project.objects.get(personal_owner=team["editor"])
    assert created["project"] == personal.pk
    moved = editor.patch(f"/api/workflows/{created['id']}",
                         {"project": team["project"].pk, "version": created["version"]},
                         format="json")
    assert moved.status_code == 200, moved.content
    assert moved.json()["project"] == team["project"].pk
    assert moved.json()["owner"] == team["editor"].email  # the creator stays
    # now the team sees it; the viewer reads it
    assert api_for(team["viewer"]).get(f"/api/workflows/{created['id']}").status_code == 200
    event = AuditEvent.objects.get(action="workflow.move")
    assert event.extra == {"from_project": personal.pk, "to_project": team["project"].pk}
    filtered = editor.get("/api/workflows", {"project": team["project"].pk}).json()
    assert [w["id"] for w in filtered["results"]] == [created["id"]]
    assert editor.get("/api/workflows", {"project": personal.pk}).json()["count"] == 0
    assert editor.get("/api/workflows", {"project": "x"}).status_code == 400


def test_moving_into_a_project_one_cannot_edit_is_refused(team):
    workflow = make_workflow(owner=team["viewer"], name="viewer's own")
    viewer = api_for(team["viewer"])
    response = viewer.patch(f"/api/workflows/{workflow.pk}", {"project": team["project"].pk},
                            format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "project_forbidden"
    assert "team" in response.json()["message"]
    stranger = Project.objects.get(personal_owner=UserFactory())
    unknown = viewer.patch(f"/api/workflows/{workflow.pk}", {"project": stranger.pk},
                           format="json")
    assert unknown.status_code == 400
    assert "project" in unknown.json()["fields"]
    created = viewer.post("/api/workflows", {"name": "n", "project": team["project"].pk},
                          format="json")
    assert created.status_code == 403
    assert Workflow.objects.get(pk=workflow.pk).project.personal_owner == team["viewer"]
    assert Workflow.objects.count() == 1


def test_credentials_move_and_are_shared_for_use_only(team):
    admin = api_for(team["admin"])
    created = admin.post("/api/credentials", {"name": "openai", "kind": "openai",
                                              "data": {"api_key": "sk-1"},
                                              "project": team["project"].pk}, format="json")
    assert created.status_code == 201, created.content
    cid = created.json()["id"]
    guests = Project.objects.create(name="guests")
    guest = UserFactory(is_staff=True)
    Membership.objects.create(project=guests, user=guest, role=Role.EDITOR)
    guest_api = api_for(guest)
    assert guest_api.get(f"/api/credentials/{cid}").status_code == 404
    # only the credential's project admins share it
    assert api_for(team["editor"]).post(f"/api/credentials/{cid}/share",
                                        {"project": guests.pk}, format="json"
                                        ).status_code == 403
    shared = admin.post(f"/api/credentials/{cid}/share", {"project": guests.pk}, format="json")
    assert shared.status_code == 200
    assert shared.json()["shared_with"] == [guests.pk]
    seen = guest_api.get(f"/api/credentials/{cid}").json()
    assert seen["name"] == "openai"
    assert "data" not in seen
    assert b"sk-1" not in guest_api.get("/api/credentials").content
    assert guest_api.patch(f"/api/credentials/{cid}", {"data": {"api_key": "mine"}},
                           format="json").status_code == 403
    assert guest_api.delete(f"/api/credentials/{cid}").status_code == 403
    assert guest_api.post(f"/api/credentials/{cid}/share", {"project": guests.pk},
                          format="json").status_code == 403
    assert Credential.objects.get(pk=cid).data == {"api_key": "sk-1"}
    assert admin.delete(f"/api/credentials/{cid}/share/{guests.pk}").status_code == 200
    assert guest_api.get(f"/api/credentials/{cid}").status_code == 404
    actions = list(AuditEvent.objects.filter(object_type="workflows.credential")
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["credential.create", "credential.share", "credential.unshare"]


def test_credential_names_are_unique_per_project(team):
    credential_create(owner=team["admin"], name="dup", kind="x", data={},
                      project=team["project"])
    editor = api_for(team["editor"])
    same_project = editor.post("/api/credentials", {"name": "dup", "kind": "bearer_token",
                                                    "data": {"token": "t"},
                                                    "project": team["project"].pk},
                               format="json")
    assert same_project.status_code == 400
    assert "name" in same_project.json()["fields"]
    personal = editor.post("/api/credentials", {"name": "dup", "kind": "bearer_token",
                                                "data": {"token": "t"}}, format="json")
    assert personal.status_code == 201
