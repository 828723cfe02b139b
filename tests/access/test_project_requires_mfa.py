"""A project that requires two-factor sign-in (`require_mfa`): a member without 2FA reaches
none of its data at any door (API, admin, editor, run viewer, dashboard, CLI) until they
turn 2FA on, and is told why; their other projects stay as they were. Turning the
requirement on needs 2FA on one's own account. Codes are computed with pyotp."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import Membership, Project, Role
from accounts.services import project_create
from audit.models import AuditEvent
from runs.models import Run
from tests.access.conftest import api_for, enrol_mfa
from tests.factories import UserFactory, make_workflow, run_now
from workflows.models import Credential, Workflow
from workflows.services import credential_create

pytestmark = pytest.mark.django_db

HEADER = "WFAIB-MFA-Required-Projects"


@pytest.fixture
def strict(team):
    """`team` requires 2FA (turned on by its admin, who enrolled first); the editor has not
    enrolled, and has a workflow of their own and one in another, relaxed team project."""
    enrol_mfa(team["admin"])
    project = team["project"]
    changed = api_for(team["admin"]).patch(f"/api/projects/{project.pk}",
                                           {"require_mfa": True}, format="json")
    assert changed.status_code == 200, changed.content
    relaxed = project_create(name="relaxed", creator=team["admin"])
    Membership.objects.create(project=relaxed, user=team["editor"], role=Role.EDITOR)
    workflow = make_workflow(owner=team["admin"], name="strict-flow", project=project)
    return {
        **team,
        "workflow": workflow,
        "run": run_now(workflow, {"x": 1}),
        "credential": credential_create(owner=team["admin"], name="strict-key", kind="openai",
                                        data={"k": "v"}, project=project),
        "mine": make_workflow(owner=team["editor"], name="my-flow"),
        "relaxed": make_workflow(owner=team["admin"], name="relaxed-flow", project=relaxed),
    }


def _refused(response, project):
    assert response.status_code == 403, response.content
    body = response.json()
    assert body["code"] == "mfa_required_by_project"
    assert body["project"] == {"id": project.pk, "name": project.name}
    assert "'team' requires two-factor sign-in" in body["message"]
    assert "/api/auth/mfa/totp" in body["message"]
    assert body["enrol_url"] == "/admin/account/two-factor/"


def _api_doors(s):
    wf, run, cred, pid = s["workflow"].pk, s["run"].pk, s["credential"].pk, s["project"].pk
    return [
        ("get", f"/api/workflows/{wf}", None),
        ("patch", f"/api/workflows/{wf}", {"name": "taken"}),
        ("delete", f"/api/workflows/{wf}", None),
        ("get", f"/api/workflows/{wf}/versions", None),
        ("post", f"/api/workflows/{wf}/runs", {"input": {}}),
        ("post", f"/api/runs/{wf}", {"input": {}}),
        ("get", f"/api/runs/{run}", None),
        ("post", f"/api/runs/{run}/retry", {}),
        ("get", f"/api/credentials/{cred}", None),
        ("patch", f"/api/credentials/{cred}", {"name": "taken"}),
        ("get", f"/api/projects/{pid}", None),
        ("get", f"/api/projects/{pid}/members", None),
    ]


def _listed(client, path):
    response = client.get(path)
    assert response.status_code == 200
    return response, {item.get("name") or item.get("id") for item in response.json()["results"]}


def test_a_member_without_2fa_is_refused_on_every_api_door_then_enrols(strict):
    editor, project = strict["editor"], strict["project"]
    client = api_for(editor)
    for method, path, body in _api_doors(strict):
        _refused(getattr(client, method)(path, body, format="json"), project)
    # ids that are not ids are still a plain 404, never an error
    assert client.get("/api/runs/not-a-number").status_code == 404
    assert client.get("/api/runs/99999999").status_code == 404
    # nothing was changed, started or deleted
    assert Workflow.objects.get(pk=strict["workflow"].pk).name == "strict-flow"
    assert Credential.objects.get(pk=strict["credential"].pk).name == "strict-key"
    assert Run.objects.filter(workflow=strict["workflow"]).count() == 1
    # lists omit the project's objects, keep the others, and say which project is hidden
    response, names = _listed(client, "/api/workflows")
    assert names == {"my-flow", "relaxed-flow"}
    assert response[HEADER] == str(project.pk)
    response, runs = _listed(client, "/api/runs")
    assert strict["run"].pk not in runs
    assert response[HEADER] == str(project.pk)
    assert "strict-key" not in _listed(client, "/api/credentials")[1]
    assert "team" not in _listed(client, "/api/projects")[1]
    assert client.get("/api/auth/mfa").json()["required_by_projects"] == [
        {"id": project.pk, "name": "team"}]

    enrol_mfa(editor)
    assert client.get(f"/api/workflows/{strict['workflow'].pk}").status_code == 200
    assert client.get(f"/api/runs/{strict['run'].pk}").status_code == 200
    assert client.get(f"/api/credentials/{strict['credential'].pk}").status_code == 200
    started = client.post(f"/api/workflows/{strict['workflow'].pk}/runs", {"input": {}},
                          format="json")
    assert started.status_code == 202, started.content
    response, names = _listed(client, "/api/workflows")
    assert names == {"my-flow", "relaxed-flow", "strict-flow"}
    assert HEADER not in response
    assert "team" in _listed(client, "/api/projects")[1]


def test_outsiders_still_get_404_and_learn_nothing_about_the_project(strict):
    outsider = api_for(UserFactory(is_staff=True))
    for method, path, body in _api_doors(strict):
        response = getattr(outsider, method)(path, body, format="json")
        assert response.status_code == 404, (method, path, response.content)
        assert "team" not in response.content.decode()
    assert HEADER not in outsider.get("/api/workflows")


def test_a_token_limited_to_another_project_names_no_hidden_project(strict):
    limited = api_for(strict["editor"], project=Project.objects.get(name="relaxed"))
    response, names = _listed(limited, "/api/workflows")
    assert names == {"relaxed-flow"}
    assert HEADER not in response
    assert limited.get(f"/api/workflows/{strict['workflow'].pk}").status_code == 404


def test_turning_2fa_off_hides_the_project_again(strict):
    enrol_mfa(strict["editor"])
    client = api_for(strict["editor"])
    url = f"/api/workflows/{strict['workflow'].pk}"
    assert client.get(url).status_code == 200
    strict["editor"].set_password("pw-for-test-123")
    strict["editor"].save()
    off = client.post("/api/auth/mfa/disable", {"password": "pw-for-test-123"}, format="json")
    assert off.status_code < 300, off.content
    _refused(client.get(url), strict["project"])


def test_superusers_keep_instance_wide_access_without_2fa(strict):
    root = api_for(UserFactory(is_staff=True, is_superuser=True))
    assert root.get(f"/api/workflows/{strict['workflow'].pk}").status_code == 200
    assert HEADER not in root.get("/api/workflows")


def test_the_admin_hides_the_project_and_says_why_until_2fa_is_on(strict):
    browser = Client()
    browser.force_login(strict["editor"])
    listing = browser.get("/admin/workflows/workflow/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "my-flow" in page
    assert "relaxed-flow" in page
    assert "strict-flow" not in page
    assert 'id="mfa-required-banner"' in page
    assert "Project team requires" in page
    assert 'href="/admin/account/two-factor/"' in page
    dashboard = browser.get("/admin/").content.decode()
    assert "strict-flow" not in dashboard
    assert "mfa-required-banner" in dashboard
    wf, run = strict["workflow"].pk, strict["run"].pk
    for path in (f"/admin/workflows/workflow/{wf}/change/",
                 f"/admin/workflows/workflow/{wf}/editor/",
                 f"/admin/workflows/workflow/{wf}/history/",
                 f"/admin/runs/run/{run}/change/",
                 f"/admin/accounts/project/{strict['project'].pk}/change/"):
        response = browser.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == "/admin/account/two-factor/", path
    not_an_id = browser.get("/admin/runs/run/not-a-number/change/")
    assert not_an_id.status_code in (302, 404)
    assert not_an_id.get("Location") != "/admin/account/two-factor/"
    landed = browser.get("/admin/account/two-factor/").content.decode()
    assert "Project &#x27;team&#x27; requires two-factor sign-in" in landed

    enrol_mfa(strict["editor"])
    listing = browser.get("/admin/workflows/workflow/").content.decode()
    assert "strict-flow" in listing
    assert "mfa-required-banner" not in listing
    assert browser.get(f"/admin/runs/run/{run}/change/").status_code == 200
    assert browser.get(f"/admin/workflows/workflow/{wf}/editor/").status_code == 200


def _cli(*args):
    err = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("run_workflow", *args, stdout=StringIO(), stderr=err)
    return exit_info.value.code, err.getvalue()


def test_the_cli_as_a_member_without_2fa_says_why(strict):
    for ref in ("strict-flow", str(strict["workflow"].pk)):
        code, err = _cli(ref, "--as", strict["editor"].email)
        assert code == 2
        assert "project 'team' requires two-factor sign-in" in err
    assert Run.objects.filter(workflow=strict["workflow"]).count() == 1
    code, err = _cli("strict-flow", "--as", UserFactory().email)  # an outsider: no hint
    assert "no workflow with id or name 'strict-flow'" in err
    enrol_mfa(strict["editor"])
    code, err = _cli(str(strict["workflow"].pk), "--as", strict["editor"].email)
    assert code == 0, err
    assert Run.objects.filter(workflow=strict["workflow"]).count() == 2


# -- turning the requirement on ----------------------------------------------------------------

def test_turning_require_mfa_on_without_own_2fa_is_refused(team):
    url = f"/api/projects/{team['project'].pk}"
    refused = api_for(team["admin"]).patch(url, {"require_mfa": True}, format="json")
    assert refused.status_code == 400, refused.content
    body = refused.json()
    assert body["code"] == "mfa_not_enrolled"
    assert body["message"].startswith("require_mfa:")
    assert list(body["fields"]) == ["require_mfa"]
    created = api_for(team["admin"]).post("/api/projects", {"name": "locked",
                                                            "require_mfa": True},
                                          format="json")
    assert created.status_code == 400
    assert created.json()["code"] == "mfa_not_enrolled"
    assert not Project.objects.filter(name="locked").exists()
    team["project"].refresh_from_db()
    assert team["project"].require_mfa is False
    assert not AuditEvent.objects.filter(action="project.update").exists()
    # a rename without turning it on is fine
    renamed = api_for(team["admin"]).patch(url, {"name": "renamed", "require_mfa": False},
                                           format="json")
    assert renamed.status_code == 200, renamed.content


def test_the_admin_form_refuses_require_mfa_without_own_2fa_and_audits_the_change(team):
    url = f"/admin/accounts/project/{team['project'].pk}/change/"
    form = {"name": "team", "require_mfa": "on", "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0"}
    browser = Client()
    browser.force_login(team["admin"])
    refused = browser.post(url, form)
    assert refused.status_code == 200  # the form again, with the field's error
    assert "turn two-factor sign-in on for your own account first" in refused.content.decode()
    team["project"].refresh_from_db()
    assert team["project"].require_mfa is False
    added = browser.post("/admin/accounts/project/add/", {**form, "name": "locked"})
    assert added.status_code == 200
    assert not Project.objects.filter(name="locked").exists()

    enrol_mfa(team["admin"])
    assert browser.post(url, form).status_code == 302
    team["project"].refresh_from_db()
    assert team["project"].require_mfa is True
    event = AuditEvent.objects.get(action="project.update")
    assert event.actor_id == team["admin"].pk
    assert event.extra == {"changes": {"require_mfa": {"old": False, "new": True}}}
