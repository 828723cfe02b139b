"""Invitations end to end: the email (Django's locmem backend) carries a single-use link that
expires; accepting it through the page or the API joins the project with the invited role.
Every misuse answers a clear 4xx and changes nothing."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import Invitation, Membership, Project, User
from audit.models import AuditEvent
from tests.access.conftest import api_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def invite(team, email="new@example.com", role="editor", django_capture_on_commit_callbacks=None):
    client = api_for(team["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/projects/{team['project'].pk}/invitations",
                               {"email": email, "role": role}, format="json")
    assert response.status_code == 201, response.content
    link = re.search(r"https?://\S+/invitations/(\S+)", mail.outbox[-1].body)
    assert link, mail.outbox[-1].body
    return response.json(), link.group(0), link.group(1)


@pytest.fixture
def sent(team, django_capture_on_commit_callbacks):
    def send(**kwargs):
        return invite(team, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
                      **kwargs)
    return send


def test_a_new_person_accepts_through_the_page_and_lands_in_the_builder(team, sent):
    body, link, key = sent()
    assert body["status"] == "pending"
    message = mail.outbox[-1]
    assert message.to == ["new@example.com"]
    assert "team" in message.subject
    assert Invitation.objects.get().key_digest != key  # only a digest is stored
    page = Client()
    path = link.split("127.0.0.1:8000", 1)[-1]
    shown = page.get(path)
    assert shown.status_code == 200
    assert b"Choose a password" in shown.content
    mismatch = page.post(path, {"password1": "correct horse battery", "password2": "other"})
    assert mismatch.status_code == 400
    assert not User.objects.filter(email="new@example.com").exists()
    done = page.post(path, {"password1": "correct horse battery",
                            "password2": "correct horse battery"})
    assert done.status_code == 302
    assert done["Location"] == "/admin/"
    user = User.objects.get(email="new@example.com")
    assert user.is_staff
    assert not user.is_superuser
    assert Membership.objects.get(project=team["project"], user=user).role == "editor"
    assert Project.objects.filter(personal_owner=user).exists()
    assert page.get("/admin/workflows/workflow/").status_code == 200  # signed in, in builder
    # single use
    again = Client().get(path)
    assert again.status_code == 410
    assert b"already accepted" in again.content
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"project.invite", "project.invitation_accept", "user.create"} <= actions


def test_an_existing_user_accepts_through_the_api(team, sent):
    person = UserFactory(email="new@example.com")
    _, _, key = sent(role="viewer")
    someone_else = api_for(UserFactory()).post("/api/invitations/accept", {"key": key},
                                               format="json")
    assert someone_else.status_code == 403
    assert someone_else.json()["code"] == "invitation_email_mismatch"
    anonymous = Client().post("/api/invitations/accept", {"key": key, "password": "x" * 12},
                              content_type="application/json")
    assert anonymous.status_code == 409
    assert anonymous.json()["code"] == "sign_in_first"
    accepted = api_for(person).post("/api/invitations/accept", {"key": key}, format="json")
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["role"] == "viewer"
    used = api_for(person).post("/api/invitations/accept", {"key": key}, format="json")
    assert used.status_code == 410
    assert used.json()["code"] == "invitation_used"


def test_an_expired_invitation_is_refused(team, sent):
    _, _, key = sent()
    Invitation.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = Client().post("/api/invitations/accept",
                             {"key": key, "password": "correct horse battery"},
                             content_type="application/json")
    assert response.status_code == 410
    assert response.json()["code"] == "invitation_expired"
    assert not User.objects.filter(email="new@example.com").exists()


def test_a_withdrawn_or_replaced_invitation_is_refused(team, sent):
    first, _, first_key = sent()
    second, _, second_key = sent()  # a new invitation to the same address replaces the first
    response = Client().post("/api/invitations/accept",
                             {"key": first_key, "password": "correct horse battery"},
                             content_type="application/json")
    assert response.json()["code"] == "invitation_revoked"
    admin = api_for(team["admin"])
    url = f"/api/projects/{team['project'].pk}/invitations/{second['id']}"
    assert admin.delete(url).status_code == 204
    assert admin.delete(url).json()["code"] == "invitation_revoked"
    statuses = {i["id"]: i["status"] for i in
                admin.get(f"/api/projects/{team['project'].pk}/invitations").json()}
    assert statuses == {first["id"]: "revoked", second["id"]: "revoked"}
    assert Client().get(f"/invitations/{second_key}").status_code == 410
    assert Client().get("/invitations/not-a-key").status_code == 404
    assert AuditEvent.objects.filter(action="project.invitation_revoke").count() == 1


def test_inviting_an_existing_member_is_refused_and_sends_nothing(team):
    response = api_for(team["admin"]).post(
        f"/api/projects/{team['project'].pk}/invitations",
        {"email": team["viewer"].email.upper(), "role": "editor"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "already_member"
    assert mail.outbox == []
    assert not Invitation.objects.exists()


def test_only_project_admins_invite(team):
    for who in ("editor", "viewer"):
        response = api_for(team[who]).post(f"/api/projects/{team['project'].pk}/invitations",
                                           {"email": "x@example.com"}, format="json")
        assert response.status_code == 403
    outsider = api_for(UserFactory()).post(f"/api/projects/{team['project'].pk}/invitations",
                                           {"email": "x@example.com"}, format="json")
    assert outsider.status_code == 404
    assert not Invitation.objects.exists()


def test_a_weak_password_is_refused_with_the_reason(team, sent):
    _, _, key = sent()
    response = Client().post("/api/invitations/accept", {"key": key, "password": "123"},
                             content_type="application/json")
    assert response.status_code == 400
    assert response.json()["message"].startswith("password:")
    assert not User.objects.filter(email="new@example.com").exists()
    assert Invitation.objects.get().accepted_at is None
