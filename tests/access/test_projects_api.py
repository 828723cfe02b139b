"""Projects and members through the API, and every rule that refuses a change (4xx
{code, message}, nothing changed)."""

import pytest

from accounts.models import Membership, Project, Role
from audit.models import AuditEvent
from tests.access.conftest import api_for, enrol_mfa
from tests.factories import UserFactory, make_workflow
from workflows.models import Workflow

pytestmark = pytest.mark.django_db


def test_a_new_user_has_a_personal_project_they_administer():
    user = UserFactory()
    project = Project.objects.get(personal_owner=user)
    assert Membership.objects.get(project=project, user=user).role == Role.ADMIN
    listed = api_for(user).get("/api/projects").json()["results"]
    assert [(p["id"], p["is_personal"], p["role"]) for p in listed] == [(project.pk, True,
                                                                          "admin")]


def test_create_a_team_project_and_manage_members(team):
    admin = api_for(team["admin"])
    created = admin.post("/api/projects", {"name": "ops"}, format="json")
    assert created.status_code == 201, created.content
    pid = created.json()["id"]
    assert created.json()["role"] == "admin"
    newcomer = UserFactory(email="Pat@Example.com")
    added = admin.post(f"/api/projects/{pid}/members", {"email": "pat@example.com",
                                                        "role": "editor"}, format="json")
    assert added.status_code == 201, added.content
    assert added.json()["role"] == "editor"
    changed = admin.patch(f"/api/projects/{pid}/members/{newcomer.pk}", {"role": "viewer"},
                          format="json")
    assert changed.json()["role"] == "viewer"
    members = admin.get(f"/api/projects/{pid}/members").json()
    assert {(m["email"], m["role"]) for m in members} == {(team["admin"].email, "admin"),
                                                          ("pat@example.com", "viewer")}
    assert admin.delete(f"/api/projects/{pid}/members/{newcomer.pk}").status_code == 204
    actions = list(AuditEvent.objects.filter(object_type="accounts.project",
                                             object_id=str(pid)).values_list("action",
                                                                             flat=True))
    assert sorted(actions) == ["project.create", "project.member_add", "project.member_remove",
                               "project.member_role"]


def test_require_mfa_is_set_by_project_admins_only(team):
    url = f"/api/projects/{team['project'].pk}"
    assert api_for(team["editor"]).patch(url, {"require_mfa": True},
                                         format="json").status_code == 403
    enrol_mfa(team["admin"])  # turning it on needs 2FA on one's own account
    response = api_for(team["admin"]).patch(url, {"require_mfa": True}, format="json")
    assert response.status_code == 200
    assert response.json()["require_mfa"] is True
    team["project"].refresh_from_db()
    assert team["project"].require_mfa is True
    event = AuditEvent.objects.get(action="project.update")
    assert event.extra == {"changes": {"require_mfa": {"old": False, "new": True}}}


def test_removing_or_demoting_the_last_admin_is_refused(team):
    admin = api_for(team["admin"])
    base = f"/api/projects/{team['project'].pk}/members/{team['admin'].pk}"
    demote = admin.patch(base, {"role": "editor"}, format="json")
    assert demote.status_code == 409
    assert demote.json()["code"] == "last_admin"
    remove = admin.delete(base)
    assert remove.status_code == 409
    assert remove.json()["code"] == "last_admin"
    assert Membership.objects.get(project=team["project"], user=team["admin"]).role == "admin"
    # with a second admin, the first may step down
    Membership.objects.filter(user=team["editor"], project=team["project"]).update(role="admin")
    assert admin.patch(base, {"role": "editor"}, format="json").status_code == 200


def test_member_rules_answer_clear_errors(team):
    admin = api_for(team["admin"])
    pid = team["project"].pk
    again = admin.post(f"/api/projects/{pid}/members", {"email": team["viewer"].email},
                       format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "already_member"
    nobody = admin.post(f"/api/projects/{pid}/members", {"email": "ghost@example.com"},
                        format="json")
    assert nobody.status_code == 400
    assert nobody.json()["code"] == "no_such_user"
    bad_role = admin.patch(f"/api/projects/{pid}/members/{team['viewer'].pk}",
                           {"role": "owner"}, format="json")
    assert bad_role.status_code == 400
    assert "role" in bad_role.json()["fields"]
    personal = Project.objects.get(personal_owner=team["admin"])
    into_personal = admin.post(f"/api/projects/{personal.pk}/members",
                               {"email": team["viewer"].email}, format="json")
    assert into_personal.status_code == 400
    assert into_personal.json()["code"] == "personal_project"
    assert admin.delete(f"/api/projects/{personal.pk}").json()["code"] == "personal_project"
    make_workflow(owner=team["admin"], project=team["project"])
    not_empty = admin.delete(f"/api/projects/{pid}")
    assert not_empty.status_code == 409
    assert not_empty.json()["code"] == "project_not_empty"
    assert Membership.objects.filter(project=team["project"]).count() == 3


def test_an_empty_team_project_can_be_deleted_by_its_admin(team):
    empty = api_for(team["admin"]).post("/api/projects", {"name": "tmp"}, format="json")
    url = f"/api/projects/{empty.json()['id']}"
    assert api_for(team["admin"]).delete(url).status_code == 204
    assert not Project.objects.filter(name="tmp").exists()


def test_deleting_an_account_keeps_the_team_workflows_it_created(team):
    in_team = make_workflow(owner=team["editor"], name="team's", project=team["project"])
    personal = make_workflow(owner=team["editor"], name="own")
    team["editor"].delete()
    kept = Workflow.objects.get(pk=in_team.pk)
    assert kept.owner is None
    assert kept.project == team["project"]
    assert not Workflow.objects.filter(pk=personal.pk).exists()  # went with the person
    body = api_for(team["admin"]).get(f"/api/workflows/{in_team.pk}").json()
    assert body["owner"] is None
