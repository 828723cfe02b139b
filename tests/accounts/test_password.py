"""Password change and reset by email, through the API and the admin's pages. Mails are
captured by Django's locmem backend (mail.outbox)."""

import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.tokens import token_create
from audit.models import AuditEvent
from tests.factories import UserFactory

PASSWORD = "correct horse battery"
NEW = "a brand new passphrase 42"
LINK = re.compile(r"https?://[^/\s]+(/admin/reset/(?P<uid>[^/]+)/(?P<token>[^/]+)/)")


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()  # the login rate limit counts in the cache
    yield
    cache.clear()


@pytest.fixture
def user(db):
    return UserFactory(email="ada@example.com", is_staff=True)


def login(email="ada@example.com", password=PASSWORD):
    return APIClient().post("/api/auth/login", {"email": email, "password": password},
                            format="json")


def reset_link(message) -> re.Match:
    found = LINK.search(message.body)
    assert found, message.body
    return found


# -- change ----------------------------------------------------------------------------------

def test_change_with_the_old_password(api, user):
    response = api.post("/api/auth/password", {"old_password": PASSWORD, "new_password": NEW},
                        format="json")
    assert response.status_code == 204
    assert login(password=PASSWORD).status_code == 401
    assert login(password=NEW).status_code == 200
    event = AuditEvent.objects.get(action="user.password_change")
    assert event.object_id == str(user.pk)
    assert PASSWORD not in str(event.extra)
    assert NEW not in str(event.extra)


def test_change_with_a_wrong_old_password_is_400_and_changes_nothing(api):
    response = api.post("/api/auth/password", {"old_password": "wrong", "new_password": NEW},
                        format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["fields"]) == ["old_password"]
    assert login(password=PASSWORD).status_code == 200
    assert not AuditEvent.objects.filter(action="user.password_change").exists()


@pytest.mark.parametrize("weak", ["short", "12345678901", "password", "ada@example.com"])
def test_change_to_a_weak_password_is_refused_by_the_validators(api, weak):
    response = api.post("/api/auth/password", {"old_password": PASSWORD, "new_password": weak},
                        format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["new_password"]
    assert login(password=PASSWORD).status_code == 200


def test_change_needs_a_signed_in_user_and_both_fields(api, db):
    assert APIClient().post("/api/auth/password", {"old_password": PASSWORD,
                                                   "new_password": NEW},
                            format="json").status_code == 401
    missing = api.post("/api/auth/password", {"new_password": NEW}, format="json")
    assert missing.status_code == 400
    assert "old_password" in missing.json()["fields"]
    huge = api.post("/api/auth/password", {"old_password": PASSWORD, "new_password": "x" * 5000},
                    format="json")
    assert huge.status_code == 400
    assert "new_password" in huge.json()["fields"]


# -- reset by email (API) ----------------------------------------------------------------------

def test_reset_end_to_end_through_the_api(user, django_capture_on_commit_callbacks):
    _, old_key = token_create(user=user, name="old")
    with django_capture_on_commit_callbacks(execute=True):
        asked = APIClient().post("/api/auth/password/reset", {"email": "ADA@example.com"},
                                 format="json")
    assert asked.status_code == 202
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.com"]
    assert "Reset your WFAIB password" in message.subject
    link = reset_link(message)
    assert f'"uid": "{link["uid"]}"' in message.body  # the API form of the same link
    confirm = {"uid": link["uid"], "token": link["token"], "new_password": NEW}
    done = APIClient().post("/api/auth/password/reset/confirm", confirm, format="json")
    assert done.status_code == 204, done.content
    assert login(password=NEW).status_code == 200
    assert login(password=PASSWORD).status_code == 401
    # the link works once
    again = APIClient().post("/api/auth/password/reset/confirm",
                             {**confirm, "new_password": "yet another passphrase 7"},
                             format="json")
    assert again.status_code == 400
    assert again.json()["code"] == "invalid_token"
    assert login(password=NEW).status_code == 200
    # API tokens made before the reset are revoked; the audit trail has the request and reset
    assert not ApiToken.objects.filter(user=user, name="old").exists()
    assert APIClient(HTTP_AUTHORIZATION=f"Token {old_key}").get("/api/auth/me").status_code == 401
    actions = list(AuditEvent.objects.filter(object_id=str(user.pk), action__startswith="user.")
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["user.password_reset_request", "user.password_reset"]


def test_reset_answers_the_same_for_unknown_emails(user, django_capture_on_commit_callbacks):
    answers = []
    for email in ["ada@example.com", "nobody@example.com"]:
        with django_capture_on_commit_callbacks(execute=True):
            response = APIClient().post("/api/auth/password/reset", {"email": email},
                                        format="json")
        answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1]
    assert answers[0][0] == 202
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]


def test_no_reset_mail_for_an_inactive_user(db, django_capture_on_commit_callbacks):
    UserFactory(email="gone@example.com", is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = APIClient().post("/api/auth/password/reset", {"email": "gone@example.com"},
                                    format="json")
    assert response.status_code == 202
    assert mail.outbox == []


def test_reset_request_needs_an_email(db):
    for body in [{}, {"email": "not an email"}, {"email": ["a@b.c"]}]:
        response = APIClient().post("/api/auth/password/reset", body, format="json")
        assert response.status_code == 400
        assert "email" in response.json()["fields"]


def test_wrong_and_expired_tokens_are_400(user, settings):
    uid = reset_uid(user)
    token = default_token_generator.make_token(user)
    for bad in [{"uid": uid, "token": token[:-2] + "xx"},
                {"uid": "Zm9v", "token": token},             # no such user
                {"uid": "!!!", "token": token},              # not base64
                {"uid": uid, "token": "x" * 128}]:
        response = APIClient().post("/api/auth/password/reset/confirm",
                                    {**bad, "new_password": NEW}, format="json")
        assert response.status_code == 400, bad
        assert response.json()["code"] == "invalid_token"
    overlong = APIClient().post("/api/auth/password/reset/confirm",
                                {"uid": uid, "token": "x" * 129, "new_password": NEW},
                                format="json")
    assert overlong.status_code == 400
    assert "token" in overlong.json()["fields"]
    # expired: the same valid token, once the timeout is over
    settings.PASSWORD_RESET_TIMEOUT = -1
    expired = APIClient().post("/api/auth/password/reset/confirm",
                               {"uid": uid, "token": token, "new_password": NEW}, format="json")
    assert expired.status_code == 400
    assert expired.json()["code"] == "invalid_token"
    assert login(password=PASSWORD).status_code == 200


def test_reset_confirm_validates_the_new_password(user):
    body = {"uid": reset_uid(user), "token": default_token_generator.make_token(user),
            "new_password": "12345678"}
    response = APIClient().post("/api/auth/password/reset/confirm", body, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["new_password"]
    # the token was not spent by the refused attempt
    body["new_password"] = NEW
    ok = APIClient().post("/api/auth/password/reset/confirm", body, format="json")
    assert ok.status_code == 204


def reset_uid(user) -> str:
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    return urlsafe_base64_encode(force_bytes(user.pk))


# -- the admin's pages -------------------------------------------------------------------------

def test_the_admin_login_page_links_to_the_reset(client, db):
    page = client.get("/admin/login/")
    assert page.status_code == 200
    assert 'href="/admin/password_reset/"' in page.content.decode()


def test_reset_end_to_end_through_the_pages(client, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        asked = client.post("/admin/password_reset/", {"email": user.email})
    assert asked.status_code == 302
    assert asked["Location"] == "/admin/password_reset/done/"
    link = reset_link(mail.outbox[0])
    form = client.get(link.group(1), follow=True)
    assert form.status_code == 200
    assert b"new_password1" in form.content
    set_url = form.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302
    assert done["Location"] == "/admin/reset/done/"
    assert login(password=NEW).status_code == 200
    # used: the link now shows the invalid-link page
    again = client.get(link.group(1), follow=True)
    assert b"new_password1" not in again.content
    assert AuditEvent.objects.filter(action="user.password_reset",
                                     object_id=str(user.pk)).exists()


def test_change_password_page_is_audited(client, user):
    client.force_login(user)
    page = client.get("/admin/password_change/")
    assert page.status_code == 200
    wrong = client.post("/admin/password_change/", {"old_password": "wrong",
                                                    "new_password1": NEW, "new_password2": NEW})
    assert wrong.status_code == 200
    assert not AuditEvent.objects.filter(action="user.password_change").exists()
    ok = client.post("/admin/password_change/", {"old_password": PASSWORD,
                                                 "new_password1": NEW, "new_password2": NEW})
    assert ok.status_code == 302
    assert ok["Location"] == "/admin/password_change/done/"
    assert client.get("/admin/").status_code == 200  # still signed in
    assert AuditEvent.objects.filter(action="user.password_change",
                                     object_id=str(user.pk)).count() == 1
    assert client.get("/admin/password_change/done/").status_code == 200


def test_change_password_page_needs_a_staff_user(client, db):
    assert client.get("/admin/password_change/")["Location"].startswith("/admin/login/")
