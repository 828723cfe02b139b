"""Folders of the workflow list (/api/folders, Workflow.folder): CRUD scoped to the user's
projects, nesting without cycles, names unique among siblings, a workflow's folder always of its
project, and a non-empty folder never deleted (409)."""

import pytest

from accounts.access import personal_project
from accounts.models import Membership, Role
from accounts.services import project_create
from audit.models import AuditEvent
from tests.factories import UserFactory, make_workflow
from workflows.admin_views import export_payload
from workflows.folders import MAX_DEPTH, folder_create
from workflows.models import Folder, Workflow

pytestmark = pytest.mark.django_db


def create(api, **body):
    return api.post("/api/folders", body, format="json")


def test_create_nest_list_rename_move_and_delete(api, user):
    top = create(api, name="Billing")
    assert top.status_code == 201, top.content
    assert top.json()["project"] == personal_project(user).pk
    assert top.json()["path"] == [{"id": top.json()["id"], "name": "Billing"}]
    sub = create(api, name="Invoices", parent=top.json()["id"])
    assert sub.status_code == 201, sub.content
    assert [p["name"] for p in sub.json()["path"]] == ["Billing", "Invoices"]
    assert sub.json()["project"] == top.json()["project"]  # the parent's project by default

    assert api.get("/api/folders").json()["count"] == 2
    assert [f["name"] for f in api.get("/api/folders", {"parent": "top"}).json()["results"]] \
        == ["Billing"]
    assert [f["name"] for f in api.get("/api/folders", {"parent": top.json()["id"]})
            .json()["results"]] == ["Invoices"]
    bad = api.get("/api/folders", {"parent": "nope"})
    assert bad.status_code == 400
    assert "parent" in bad.json()["fields"]

    url = f"/api/folders/{sub.json()['id']}"
    renamed = api.patch(url, {"name": "Receipts"}, format="json")
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Receipts"
    moved = api.patch(url, {"parent": None}, format="json")
    assert moved.status_code == 200
    assert moved.json()["path"] == [
        {"id": sub.json()["id"], "name": "Receipts"}]
    assert api.delete(url).status_code == 204
    assert not Folder.objects.filter(pk=sub.json()["id"]).exists()
    assert AuditEvent.objects.filter(action="folder.delete").count() == 1


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "a/b", "a\\b", "tab\there", None,
                                  ["a"], {"a": 1}])
def test_bad_names_are_refused_naming_the_field(api, name):
    response = create(api, name=name)
    assert response.status_code == 400, (name, response.content)
    body = response.json()
    assert body["code"] == "invalid"
    assert "name" in body["fields"], body
    assert Folder.objects.count() == 0


def test_a_long_name_says_the_limit(api):
    body = create(api, name="x" * 101).json()
    assert "100" in body["fields"]["name"][0]


def test_names_are_unique_among_siblings_only(api):
    top = create(api, name="Ops").json()
    taken = create(api, name="Ops")
    assert taken.status_code == 400
    assert "name" in taken.json()["fields"]
    assert create(api, name="Ops", parent=top["id"]).status_code == 201  # another level
    assert create(api, name="Other").status_code == 201
    other = Folder.objects.get(name="Other")
    clash = api.patch(f"/api/folders/{other.pk}", {"name": "Ops"}, format="json")
    assert clash.status_code == 400
    assert "name" in clash.json()["fields"]


def test_cycles_in_the_parent_chain_are_refused(api):
    a = create(api, name="A").json()
    b = create(api, name="B", parent=a["id"]).json()
    c = create(api, name="C", parent=b["id"]).json()
    for parent in (a["id"], b["id"], c["id"]):  # itself, or one of its subfolders
        response = api.patch(f"/api/folders/{a['id']}", {"parent": parent}, format="json")
        assert response.status_code == 400, (parent, response.content)
        assert "parent" in response.json()["fields"]
    assert Folder.objects.get(pk=a["id"]).parent_id is None


def test_nesting_has_a_limit(api, user):
    parent = None
    for i in range(MAX_DEPTH):
        parent = folder_create(project=personal_project(user), name=f"L{i}", parent=parent)
    too_deep = create(api, name="deeper", parent=parent.pk)
    assert too_deep.status_code == 400
    assert "parent" in too_deep.json()["fields"]


def test_a_non_empty_folder_is_not_deleted(api, user):
    top = create(api, name="Full").json()
    sub = create(api, name="Sub", parent=top["id"]).json()
    workflow = make_workflow(owner=user, name="filed")
    assert api.patch(f"/api/workflows/{workflow.pk}", {"folder": sub["id"]},
                     format="json").status_code == 200
    refused = api.delete(f"/api/folders/{top['id']}")
    assert refused.status_code == 409
    assert refused.json()["code"] == "folder_not_empty"
    assert refused.json()["folders"] == 1
    assert refused.json()["workflows"] == 0
    refused = api.delete(f"/api/folders/{sub['id']}")
    assert refused.status_code == 409
    assert refused.json()["workflows"] == 1
    assert "move or delete them first" in refused.json()["message"]
    assert Folder.objects.count() == 2
    # Emptied, it goes.
    api.patch(f"/api/workflows/{workflow.pk}", {"folder": None}, format="json")
    assert api.delete(f"/api/folders/{sub['id']}").status_code == 204
    assert api.delete(f"/api/folders/{top['id']}").status_code == 204


def test_a_workflow_s_folder_is_set_listed_and_filtered(api, user):
    folder = create(api, name="Reports").json()
    created = api.post("/api/workflows", {"name": "Daily", "folder": folder["id"]},
                       format="json")
    assert created.status_code == 201, created.content
    assert created.json()["folder"] == folder["id"]
    make_workflow(owner=user, name="Loose")
    listed = api.get("/api/workflows", {"folder": folder["id"]}).json()["results"]
    assert [w["name"] for w in listed] == ["Daily"]
    assert [w["name"] for w in api.get("/api/workflows", {"folder": "top"}).json()["results"]] \
        == ["Loose"]
    # Filing a workflow makes no new version (it is the list's order, not the workflow).
    wf = Workflow.objects.get(name="Daily")
    assert api.patch(f"/api/workflows/{wf.pk}", {"folder": None},
                     format="json").json()["version"] == wf.version
    assert AuditEvent.objects.filter(action="workflow.folder").count() == 1


def test_another_user_s_folder_is_not_found_and_cannot_be_used(api, other_api, user,
                                                              other_user):
    theirs = folder_create(project=personal_project(other_user), name="Private")
    workflow = make_workflow(owner=user, name="mine")
    for method, body in (("get", None), ("patch", {"name": "x"}), ("put", {"name": "x"}),
                         ("delete", None)):
        response = getattr(api, method)(f"/api/folders/{theirs.pk}", body, format="json")
        assert response.status_code == 404, (method, response.content)
        assert response.json()["code"] == "not_found"
    assert api.get("/api/folders").json()["count"] == 0
    used = api.patch(f"/api/workflows/{workflow.pk}", {"folder": theirs.pk}, format="json")
    assert used.status_code == 400, used.content
    assert "folder" in used.json()["fields"]
    new = api.post("/api/workflows", {"name": "n", "folder": theirs.pk}, format="json")
    assert new.status_code == 400
    assert "folder" in new.json()["fields"]
    nested = create(api, name="inside", parent=theirs.pk)
    assert nested.status_code == 400
    assert "parent" in nested.json()["fields"]
    assert Folder.objects.get(pk=theirs.pk).name == "Private"
    assert Workflow.objects.get(pk=workflow.pk).folder_id is None
    assert other_api.get(f"/api/folders/{theirs.pk}").status_code == 200


def test_a_folder_of_another_project_of_mine_is_refused_for_a_workflow(api, user):
    team = project_create(name="team", creator=user)
    elsewhere = folder_create(project=team, name="Team stuff")
    workflow = make_workflow(owner=user, name="personal")
    response = api.patch(f"/api/workflows/{workflow.pk}", {"folder": elsewhere.pk},
                         format="json")
    assert response.status_code == 400
    assert response.json()["fields"]["folder"] == ["the folder must be in the workflow's project"]
    # Moving it to that project with the folder is fine; moving it back leaves the folder.
    moved = api.patch(f"/api/workflows/{workflow.pk}",
                      {"project": team.pk, "folder": elsewhere.pk}, format="json")
    assert moved.status_code == 200
    assert moved.json()["folder"] == elsewhere.pk
    back = api.patch(f"/api/workflows/{workflow.pk}", {"project": personal_project(user).pk},
                     format="json")
    assert back.status_code == 200, back.content
    assert back.json()["folder"] is None
    # A subfolder must be in its parent's project; a folder never changes project.
    mine = create(api, name="Mine").json()
    cross = create(api, name="x", parent=elsewhere.pk, project=personal_project(user).pk)
    assert cross.status_code == 400
    assert "parent" in cross.json()["fields"]
    stay = api.patch(f"/api/folders/{mine['id']}", {"project": team.pk}, format="json")
    assert stay.status_code == 400
    assert "project" in stay.json()["fields"]


def test_viewers_read_folders_but_do_not_change_them(user, client_for):
    team = project_create(name="team", creator=user)
    viewer = UserFactory()
    Membership.objects.create(project=team, user=viewer, role=Role.VIEWER)
    folder = folder_create(project=team, name="Shared")
    api = client_for(viewer)
    assert api.get(f"/api/folders/{folder.pk}").status_code == 200
    assert api.patch(f"/api/folders/{folder.pk}", {"name": "x"},
                     format="json").status_code == 403
    assert api.delete(f"/api/folders/{folder.pk}").status_code == 403
    refused = create(api, name="new", project=team.pk)
    assert refused.status_code == 403
    assert refused.json()["code"] == "project_forbidden"
    assert Folder.objects.get(pk=folder.pk).name == "Shared"


def test_unknown_fields_are_refused(api):
    response = create(api, name="A", colour="red")
    assert response.status_code == 400
    assert "colour" in response.json()["fields"]


def test_a_project_s_deletion_takes_its_folders_and_workflows(user):
    team = project_create(name="team", creator=user)
    parent = folder_create(project=team, name="P")
    child = folder_create(project=team, name="C", parent=parent)
    make_workflow(owner=user, project=team, name="filed", folder=child)
    team.delete()
    assert not Folder.objects.exists()
    assert not Workflow.objects.filter(name="filed").exists()


def test_export_leaves_the_folder_out(user):
    folder = folder_create(project=personal_project(user), name="F")
    workflow = make_workflow(owner=user, name="exported", folder=folder)
    payload = export_payload(workflow)
    assert "folder" not in payload
    assert set(payload) == {"format", "name", "description", "version", "definition"}
