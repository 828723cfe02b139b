"""Login lockout (django-axes, accounts/lockout.py) on the API login and the admin login."""

import io

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from tests.factories import UserFactory

PASSWORD = "correct horse battery"
LIMIT = 5  # WFAIB_LOGIN_FAILURE_LIMIT's default


def api_login(client, email, password, ip="10.1.1.1"):
    return client.post("/api/auth/login", {"email": email, "password": password}, format="json",
                       REMOTE_ADDR=ip)


def test_api_login_locks_out_after_repeated_failures(user):
    client = APIClient()
    codes = [api_login(client, user.email, "wrong").status_code for _ in range(LIMIT)]
    # the failure that reaches the limit is already answered with the lockout
    assert codes == [401] * (LIMIT - 1) + [429]
    refused = api_login(client, user.email, PASSWORD)  # even the right password now
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"
    body = refused.json()
    assert body["code"] == "locked_out"
    assert "Too many failed logins" in body["message"]
    assert int(refused["Retry-After"]) == 15 * 60
    assert "token" not in body


def test_lockout_is_per_email_and_address(user):
    client = APIClient()
    for _ in range(LIMIT):
        api_login(client, user.email, "wrong")
    assert api_login(client, user.email, PASSWORD).status_code == 429
    # the same account from another address, and the email spelt in capitals from the locked
    # address (same account: still locked)
    assert api_login(client, user.email, PASSWORD, ip="10.2.2.2").status_code == 200
    assert api_login(client, user.email.upper(), PASSWORD).status_code == 429


def test_a_successful_login_resets_the_count(user):
    client = APIClient()
    for _ in range(LIMIT - 1):
        assert api_login(client, user.email, "wrong").status_code == 401
    assert api_login(client, user.email, PASSWORD).status_code == 200
    for _ in range(LIMIT - 1):
        assert api_login(client, user.email, "wrong").status_code == 401
    assert api_login(client, user.email, PASSWORD).status_code == 200


@override_settings(AXES_FAILURE_LIMIT=2)
def test_the_limit_is_a_setting(user):
    client = APIClient()
    assert [api_login(client, user.email, "wrong").status_code for _ in range(2)] == [401, 429]


def test_admin_login_locks_out_too(client, user):
    user.is_staff = True
    user.save()
    for _ in range(LIMIT - 1):
        response = client.post("/admin/login/", {"username": user.email, "password": "wrong"},
                               REMOTE_ADDR="10.3.3.3")
        assert response.status_code == 200  # the form again, with its error
    locked = client.post("/admin/login/", {"username": user.email, "password": "wrong"},
                         REMOTE_ADDR="10.3.3.3")
    assert locked.status_code == 429
    refused = client.post("/admin/login/", {"username": user.email, "password": PASSWORD},
                          REMOTE_ADDR="10.3.3.3")
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session
    # the API door shares the count: the same pair is locked there as well
    assert api_login(APIClient(), user.email, PASSWORD, ip="10.3.3.3").status_code == 429
    # another address still signs in to the admin
    ok = client.post("/admin/login/", {"username": user.email, "password": PASSWORD},
                     REMOTE_ADDR="10.4.4.4")
    assert ok.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_passwords_are_hashed_with_argon2_and_validated(db, settings):
    from django.contrib.auth.hashers import identify_hasher
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher") or \
        settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from wfaib import settings as real

    assert real.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher" or \
        real.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"]):
        user = UserFactory()
        user.set_password("a long enough passphrase")
        assert identify_hasher(user.password).algorithm == "argon2"
    for weak in ["12345678", "password", "short"]:
        with pytest.raises(ValidationError):
            validate_password(weak)


def lock_out(client, user):
    for _ in range(LIMIT):
        api_login(client, user.email, "wrong")
    return api_login(client, user.email, PASSWORD)


def test_the_429_says_when_the_lockout_ends_and_how_out(user):
    import datetime as dt

    from django.utils import timezone

    before = timezone.now()
    refused = lock_out(APIClient(), user)
    body = refused.json()
    until = dt.datetime.fromisoformat(body["locked_until"])
    assert before + dt.timedelta(minutes=15) <= until <= timezone.now() + dt.timedelta(minutes=15)
    assert f"after {until:%H:%M} UTC" in body["message"]
    assert "15 minute(s)" in body["message"]
    assert "administrator" in body["message"]


def test_the_admin_unlock_action_ends_a_lockout_at_once(user, admin_client):
    from audit.models import AuditEvent

    client = APIClient()
    assert lock_out(client, user).status_code == 429
    response = admin_client.post("/admin/accounts/user/", {
        "action": "unlock_logins", "_selected_action": [user.pk]}, follow=True)
    assert response.status_code == 200
    assert "they can sign in again" in response.content.decode()
    assert api_login(client, user.email, PASSWORD).status_code == 200
    assert AuditEvent.objects.filter(action="user.unlock", object_id=str(user.pk)).exists()


def test_manage_py_axes_reset_username_ends_a_lockout(user):
    from django.core.management import call_command

    client = APIClient()
    assert lock_out(client, user).status_code == 429
    call_command("axes_reset_username", user.email, stdout=io.StringIO())
    assert api_login(client, user.email, PASSWORD).status_code == 200
