"""The audit trail: an event for each audited action, with actor, address and door; diffs for
workflows; no secrets; read-only admin; pruning by retention."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tokens import token_create
from audit.context import audit_context
from audit.models import AuditEvent
from audit.services import audit_prune, audit_prune_if_due, audit_record, json_diff
from runs.models import Run
from runs.services import run_retry
from tests.factories import UserFactory, make_workflow, run_now, simple_definition
from workflows.models import Credential

pytestmark = pytest.mark.django_db

IP = "203.0.113.9"


@pytest.fixture
def api(user):
    client = APIClient(REMOTE_ADDR=IP)
    _, key = token_create(user=user, name="test")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def superuser_client(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    client.defaults["REMOTE_ADDR"] = IP
    client.admin = admin
    return client


def last(action):
    return AuditEvent.objects.filter(action=action).order_by("-id").first()


def assert_by(event, user, via):
    assert event is not None
    assert event.actor == user
    assert event.actor_repr == user.email
    assert event.ip == IP
    assert event.via == via


# -- workflows -------------------------------------------------------------------------------

def test_workflow_create_update_delete_through_the_api(api, user):
    created = api.post("/api/workflows", {"name": "flow", "definition": simple_definition()},
                       format="json")
    assert created.status_code == 201
    wid = created.json()["id"]
    event = last("workflow.create")
    assert_by(event, user, "api")
    assert (event.object_type, event.object_id, event.object_repr) == (
        "workflows.workflow", str(wid), "flow")

    definition = simple_definition({"id": "t", "type": "transform",
                                    "config": {"expression": "1"}})
    updated = api.patch(f"/api/workflows/{wid}", {"name": "renamed", "definition": definition,
                                                  "version": 1}, format="json")
    assert updated.status_code == 200, updated.content
    event = last("workflow.update")
    assert_by(event, user, "api")
    paths = {c["path"]: c for c in event.diff}
    assert paths["name"] == {"op": "replace", "path": "name", "old": "flow", "new": "renamed"}
    assert paths["definition.nodes[id=t]"]["op"] == "add"
    assert event.extra == {"version": 2}

    # a no-op update writes nothing
    before = AuditEvent.objects.count()
    api.patch(f"/api/workflows/{wid}", {"name": "renamed"}, format="json")
    assert AuditEvent.objects.count() == before

    assert api.delete(f"/api/workflows/{wid}").status_code == 204
    event = last("workflow.delete")
    assert_by(event, user, "api")
    assert event.object_id == str(wid)
    assert event.object_repr == "renamed"


def test_a_refused_update_writes_no_event(api, user):
    workflow = make_workflow(owner=user)
    before = AuditEvent.objects.count()
    stale = api.patch(f"/api/workflows/{workflow.pk}", {"name": "x", "version": 99},
                      format="json")
    assert stale.status_code == 409
    assert AuditEvent.objects.count() == before


def test_webhook_secret_changes_are_masked_in_the_diff(user):
    workflow = make_workflow(owner=user, webhook_auth="token", webhook_secret="s3cret-old")
    from workflows.services import workflow_update

    workflow_update(workflow=workflow, user=user, webhook_secret="s3cret-new")
    event = last("workflow.update")
    assert event.diff == [{"op": "replace", "path": "webhook_secret", "masked": True}]
    assert "s3cret" not in str(AuditEvent.objects.values_list("diff", "extra"))


def test_workflow_changes_in_the_admin(superuser_client):
    workflow = make_workflow(owner=superuser_client.admin, name="adm")
    response = superuser_client.post(f"/admin/workflows/workflow/{workflow.pk}/change/", {
        "name": "adm2", "description": "", "is_active": "on",
        "definition": '{"name": "adm", "nodes": [{"id": "trigger", "type": "webhook", '
                      '"config": {}}], "edges": []}',
        "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302, response.content[:2000]
    event = last("workflow.update")
    assert_by(event, superuser_client.admin, "admin")
    assert {"op": "replace", "path": "name", "old": "adm", "new": "adm2"} in event.diff

    response = superuser_client.post(f"/admin/workflows/workflow/{workflow.pk}/delete/",
                                     {"post": "yes"})
    assert response.status_code == 302
    assert_by(last("workflow.delete"), superuser_client.admin, "admin")


# -- credentials -----------------------------------------------------------------------------

def test_credential_events_never_hold_the_secret(api, user):
    created = api.post("/api/credentials", {"name": "openai", "kind": "openai",
                                            "data": {"api_key": "sk-SECRET-1"}}, format="json")
    assert created.status_code == 201, created.content
    cid = created.json()["id"]
    assert_by(last("credential.create"), user, "api")
    assert api.patch(f"/api/credentials/{cid}", {"data": {"api_key": "sk-SECRET-2"}},
                     format="json").status_code == 200
    event = last("credential.update")
    assert_by(event, user, "api")
    assert event.extra == {"fields": ["data"]}
    assert api.delete(f"/api/credentials/{cid}").status_code == 204
    assert_by(last("credential.delete"), user, "api")
    assert not Credential.objects.filter(pk=cid).exists()
    dumped = str(list(AuditEvent.objects.values()))
    assert "SECRET" not in dumped


# -- users and tokens ------------------------------------------------------------------------

def test_user_create_update_and_password_change_in_the_admin(superuser_client):
    response = superuser_client.post("/admin/accounts/user/add/", {
        "email": "new@example.com", "password1": "a long enough passphrase 1",
        "password2": "a long enough passphrase 1", "usable_password": "true"})
    assert response.status_code == 302, response.content[:3000]
    new = User.objects.get(email="new@example.com")
    event = last("user.create")
    assert_by(event, superuser_client.admin, "admin")
    assert event.object_id == str(new.pk)
    assert "passphrase" not in str(event.extra)

    response = superuser_client.post(f"/admin/accounts/user/{new.pk}/change/", {
        "email": "new@example.com", "first_name": "Ada", "last_name": "",
        "is_active": "on", "is_staff": "on", "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00"})
    assert response.status_code == 302, response.content[:3000]
    event = last("user.update")
    assert_by(event, superuser_client.admin, "admin")
    assert {"first_name", "is_staff"} <= set(event.extra["fields"])

    response = superuser_client.post(f"/admin/accounts/user/{new.pk}/password/", {
        "password1": "another long passphrase 2", "password2": "another long passphrase 2",
        "usable_password": "true"})
    assert response.status_code == 302, response.content[:3000]
    assert last("user.update").extra == {"fields": ["password"]}


def test_token_create_and_revoke(api, user):
    created = api.post("/api/auth/tokens", {"name": "ci"}, format="json")
    event = last("token.create")
    assert_by(event, user, "api")
    assert event.extra == {"user": user.pk, "name": "ci", "project": None, "read_only": False,
                           "expires_at": None}
    assert api.delete(f"/api/auth/tokens/{created.json()['id']}").status_code == 204
    event = last("token.revoke")
    assert_by(event, user, "api")
    assert event.object_id == str(created.json()["id"])


def test_login_token_is_audited_for_the_user_who_logged_in(user):
    response = APIClient(REMOTE_ADDR=IP).post(
        "/api/auth/login", {"email": user.email, "password": "correct horse battery"},
        format="json")
    assert response.status_code == 200
    assert_by(last("token.create"), user, "api")


# -- runs ------------------------------------------------------------------------------------

def test_manual_run_starts_are_audited_from_every_door(api, user, superuser_client):
    workflow = make_workflow(owner=user, name="runme")
    assert api.post(f"/api/workflows/{workflow.pk}/runs", {"input": 1},
                    format="json").status_code == 202
    event = last("run.start")
    assert_by(event, user, "api")
    assert event.extra == {"trigger": "api", "workflow": workflow.pk}

    mine = make_workflow(owner=superuser_client.admin, name="adminrun")
    superuser_client.post("/admin/workflows/workflow/", {
        "action": "run_now", "_selected_action": [mine.pk]})
    event = last("run.start")
    assert_by(event, superuser_client.admin, "admin")
    assert event.extra["trigger"] == "manual"

    with pytest.raises(SystemExit):
        call_command("run_workflow", "runme", stdout=io.StringIO(), stderr=io.StringIO())
    event = last("run.start")
    assert event.via == "cli"
    assert event.actor is None
    assert event.extra["trigger"] == "cli"


def test_webhook_and_scheduled_runs_are_not_audited(user):
    workflow = make_workflow(owner=user)
    before = AuditEvent.objects.count()
    run_now(workflow, trigger="webhook")
    run_now(workflow, trigger="schedule")
    assert AuditEvent.objects.count() == before


def test_run_cancel_and_retry(api, user):
    workflow = make_workflow(owner=user)
    run = Run.objects.create(workflow=workflow, version=workflow.versions.get(),
                             trigger="api", status=Run.Status.WAITING)
    assert api.post(f"/api/runs/{run.pk}/cancel").status_code == 200
    event = last("run.cancel")
    assert_by(event, user, "api")
    assert event.object_id == str(run.pk)
    assert event.extra == {"status": "cancelled", "workflow": workflow.pk}

    with audit_context(actor=user, via="cli"):
        retry = run_retry(run=Run.objects.get(pk=run.pk), mode="from_start", execute=False)
    event = last("run.retry")
    assert event.actor == user
    assert event.via == "cli"
    assert event.object_id == str(retry.pk)
    assert event.extra["retry_of"] == run.pk
    assert event.extra["mode"] == "from_start"


# -- the admin is read-only ------------------------------------------------------------------

def test_audit_admin_is_read_only_even_for_a_superuser(superuser_client, user):
    event = audit_record(action="workflow.create", object_type="workflows.workflow",
                         object_id=1, object_repr="x", actor=user, diff=[{"op": "add"}])
    base = "/admin/audit/auditevent/"
    listing = superuser_client.get(base)
    assert listing.status_code == 200
    assert b"workflow.create" in listing.content
    detail = superuser_client.get(f"{base}{event.pk}/change/")
    assert detail.status_code == 200
    assert b'name="action"' not in detail.content  # no form fields, only read-only values
    assert b'name="_save"' not in detail.content
    assert superuser_client.get(f"{base}add/").status_code == 403
    assert superuser_client.post(f"{base}{event.pk}/change/", {"action": "x"}).status_code == 403
    assert superuser_client.post(f"{base}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    superuser_client.post(base, {"action": "delete_selected", "_selected_action": [event.pk],
                                 "post": "yes"})
    event.refresh_from_db()
    assert event.action == "workflow.create"


def test_staff_read_only_their_own_and_their_projects_events(client):
    ann, bob = UserFactory(is_staff=True), UserFactory(is_staff=True)
    theirs = make_workflow(owner=ann, name="ann-secret-flow")
    mine = make_workflow(owner=bob, name="bob-flow")
    client.force_login(bob)
    page = client.get("/admin/audit/auditevent/")
    assert page.status_code == 200
    assert b"bob-flow" in page.content
    assert b"ann-secret-flow" not in page.content
    event = AuditEvent.objects.get(object_type="workflows.workflow", object_id=str(theirs.pk))
    assert client.get(f"/admin/audit/auditevent/{event.pk}/change/").status_code == 302
    assert mine.pk


def test_a_non_staff_user_cannot_open_the_trail(client):
    client.force_login(UserFactory(is_staff=False))
    assert client.get("/admin/audit/auditevent/").status_code == 302  # to the admin login


# -- pruning ---------------------------------------------------------------------------------

def aged(days):
    event = audit_record(action="token.create", object_type="accounts.apitoken", object_id=1)
    AuditEvent.objects.filter(pk=event.pk).update(
        created_at=timezone.now() - dt.timedelta(days=days))
    return event


def test_prune_deletes_events_older_than_the_retention():
    old, recent = aged(400), aged(10)
    out = io.StringIO()
    call_command("prune_audit", stdout=out)
    assert "Deleted 1 audit event(s) older than 365 day(s)" in out.getvalue()
    assert list(AuditEvent.objects.filter(pk__in=[old.pk, recent.pk])) == [recent]
    call_command("prune_audit", "--days", "5", stdout=out)
    assert not AuditEvent.objects.filter(pk=recent.pk).exists()


def test_retention_setting_and_zero_keeps_everything(settings):
    old = aged(40)
    settings.WFAIB = {**settings.WFAIB, "AUDIT_RETENTION_DAYS": 0}
    assert audit_prune() == 0
    settings.WFAIB = {**settings.WFAIB, "AUDIT_RETENTION_DAYS": 30}
    assert audit_prune() == 1
    assert not AuditEvent.objects.filter(pk=old.pk).exists()


def test_the_scheduler_prunes_at_most_once_a_day(monkeypatch):
    import audit.services as services

    monkeypatch.setattr(services, "_last_prune", None)
    now = timezone.now()
    aged(400)
    assert audit_prune_if_due(now=now) == 1
    aged(400)
    assert audit_prune_if_due(now=now + dt.timedelta(hours=23)) is None
    assert audit_prune_if_due(now=now + dt.timedelta(hours=25)) == 1


def test_the_scheduler_loop_calls_the_prune(monkeypatch):
    import audit.services as services
    from runs.scheduler import Ticker

    monkeypatch.setattr(services, "_last_prune", None)
    aged(400)
    Ticker(interval=1).tick()
    assert not AuditEvent.objects.filter(created_at__lt=timezone.now()
                                         - dt.timedelta(days=365)).exists()


# -- the diff --------------------------------------------------------------------------------

def test_json_diff_matches_nodes_by_id_and_masks_secrets():
    old = {"nodes": [{"id": "a", "config": {"url": "x"}}, {"id": "b"}],
           "edges": [{"from": "a", "to": "b"}], "api_key": "k1"}
    new = {"nodes": [{"id": "b"}, {"id": "a", "config": {"url": "y"}}, {"id": "c"}],
           "edges": [], "api_key": "k2"}
    assert json_diff(old, new) == [
        {"op": "replace", "path": "nodes[id=a].config.url", "old": "x", "new": "y"},
        {"op": "add", "path": "nodes[id=c]", "new": {"id": "c"}},
        {"op": "replace", "path": "edges", "old": [{"from": "a", "to": "b"}], "new": []},
        {"op": "replace", "path": "api_key", "masked": True},
    ]
    assert json_diff({"a": 1}, {"a": 1}) == []


@override_settings(WFAIB_TRUST_X_FORWARDED_FOR=True)
def test_outside_a_request_the_actor_is_empty():
    event = audit_record(action="run.start", object_type="runs.run", object_id=1)
    assert (event.actor, event.ip, event.via) == (None, None, "")
