"""The admin change form of a workflow: a stale save is refused (as the API's 409), and the
project can only be one the user may edit in."""

import pytest
from django.test import Client

from accounts.models import Project
from audit.models import AuditEvent
from tests.access.conftest import enrol_mfa
from tests.factories import UserFactory, make_workflow
from workflows.models import Workflow
from workflows.services import workflow_update

pytestmark = pytest.mark.django_db

DEFINITION = ('{"name": "w", "nodes": [{"id": "trigger", "type": "webhook", "config": {}}], '
              '"edges": []}')


def form(**changes):
    return {"name": "w", "description": "", "is_active": "on", "definition": DEFINITION,
            "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0", **changes}


def test_a_stale_admin_save_is_refused_and_changes_nothing(team):
    workflow = make_workflow(owner=team["admin"], name="w", project=team["project"])
    client = Client()
    client.force_login(team["editor"])
    url = f"/admin/workflows/workflow/{workflow.pk}/change/"
    page = client.get(url)
    assert b'name="based_on"' in page.content
    workflow_update(workflow=workflow, user=team["admin"], name="renamed elsewhere")
    stale = client.post(url, form(name="mine", based_on=str(workflow.version - 1)))
    assert stale.status_code == 200
    assert b"Someone saved this workflow since you opened it" in stale.content
    assert Workflow.objects.get(pk=workflow.pk).name == "renamed elsewhere"
    fresh = client.post(url, form(name="mine", based_on=str(workflow.version),
                                  project=str(team["project"].pk)))
    assert fresh.status_code == 302
    assert Workflow.objects.get(pk=workflow.pk).name == "mine"


def test_the_admin_offers_only_projects_one_may_edit_in(team):
    workflow = make_workflow(owner=team["viewer"], name="w")
    client = Client()
    client.force_login(team["viewer"])
    url = f"/admin/workflows/workflow/{workflow.pk}/change/"
    assert f'<option value="{team["project"].pk}"'.encode() not in client.get(url).content
    refused = client.post(url, form(project=str(team["project"].pk),
                                    based_on=str(workflow.version)))
    assert refused.status_code == 200  # the form shows the error
    assert Workflow.objects.get(pk=workflow.pk).project.personal_owner == team["viewer"]
    # an editor moves theirs into the team
    mine = make_workflow(owner=team["editor"], name="w")
    editor = Client()
    editor.force_login(team["editor"])
    moved = editor.post(f"/admin/workflows/workflow/{mine.pk}/change/",
                        form(project=str(team["project"].pk), based_on=str(mine.version)))
    assert moved.status_code == 302
    assert Workflow.objects.get(pk=mine.pk).project == team["project"]


def test_projects_in_the_admin(team):
    url = f"/admin/accounts/project/{team['project'].pk}/change/"
    editor = Client()
    editor.force_login(team["editor"])
    page = editor.get(url)
    assert page.status_code == 200
    assert team["viewer"].email.encode() in page.content  # members are listed
    assert editor.post(url, {"name": "hijacked", "memberships-TOTAL_FORMS": "0",
                             "memberships-INITIAL_FORMS": "0"}).status_code == 403
    admin = Client()
    admin.force_login(team["admin"])
    enrol_mfa(team["admin"])  # turning require_mfa on needs 2FA on one's own account
    changed = admin.post(url, {"name": "renamed", "require_mfa": "on",
                               "memberships-TOTAL_FORMS": "0",
                               "memberships-INITIAL_FORMS": "0"})
    assert changed.status_code == 302, changed.content[:3000]
    team["project"].refresh_from_db()
    assert (team["project"].name, team["project"].require_mfa) == ("renamed", True)
    assert AuditEvent.objects.filter(action="project.update").exists()
    make_workflow(owner=team["admin"], project=team["project"])
    admin.post(f"/admin/accounts/project/{team['project'].pk}/delete/", {"post": "yes"})
    assert Project.objects.filter(pk=team["project"].pk).exists()  # not empty: refused
    added = admin.post("/admin/accounts/project/add/", {"name": "fresh",
                                                        "memberships-TOTAL_FORMS": "0",
                                                        "memberships-INITIAL_FORMS": "0"})
    assert added.status_code == 302, added.content[:3000]
    fresh = Project.objects.get(name="fresh")
    assert list(fresh.memberships.values_list("user_id", "role")) == [(team["admin"].pk,
                                                                       "admin")]
    outsider = Client()
    outsider.force_login(UserFactory(is_staff=True))
    assert b"renamed" not in outsider.get("/admin/accounts/project/").content
