"""Two-factor sign-in in the admin: the code step after the password, the lockout counting wrong
codes, and the settings page (enrol, confirm, regenerate, turn off)."""

import re
import time

import pyotp
import pytest
from django.core.cache import cache

from accounts.mfa import totp_enrol_confirm, totp_enrol_start, user_has_mfa
from accounts.views import PENDING
from audit.models import AuditEvent
from tests.factories import UserFactory

PASSWORD = "correct horse battery"
LIMIT = 5


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def staff(db):
    return UserFactory(email="ada@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def secured(staff):
    """`staff` with 2FA on: (secret, recovery codes)."""
    secret = totp_enrol_start(user=staff).secret
    codes = totp_enrol_confirm(user=staff, code=pyotp.TOTP(secret).now())
    return secret, codes


def next_code(secret: str) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30)  # enrolment used this step's code


def password_step(client, ip="10.5.5.5", next_url=None):
    url = "/admin/login/" + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"username": "ada@example.com", "password": PASSWORD},
                       REMOTE_ADDR=ip)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_without_2fa_the_password_signs_in(client, staff):
    response = password_step(client)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert signed_in(client)


def test_with_2fa_the_password_leads_to_the_code_step(client, secured):
    secret, _ = secured
    response = password_step(client, next_url="/admin/runs/run/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/code/?next=")
    assert not signed_in(client)
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "ada@example.com" in html
    assert 'autocomplete="one-time-code"' in html
    assert secret not in html
    done = client.post(response["Location"], {"code": next_code(secret)}, REMOTE_ADDR="10.5.5.5")
    assert done.status_code == 302
    assert done["Location"] == "/admin/runs/run/"
    assert signed_in(client)
    assert PENDING not in client.session


def test_a_wrong_code_shows_the_form_again_and_a_recovery_code_works_once(client, secured):
    _, codes = secured
    step = password_step(client)["Location"]
    wrong = client.post(step, {"code": "000000"}, REMOTE_ADDR="10.5.5.5")
    assert wrong.status_code == 200
    assert "Wrong two-factor code" in wrong.content.decode()
    assert not signed_in(client)
    assert client.post(step, {"code": codes[0]}, REMOTE_ADDR="10.5.5.5").status_code == 302
    assert signed_in(client)
    client.logout()
    step = password_step(client)["Location"]
    assert client.post(step, {"code": codes[0]}, REMOTE_ADDR="10.5.5.5").status_code == 200
    assert not signed_in(client)


@pytest.mark.parametrize("code", ["1" * 17, "12345a", "", "  "])
def test_malformed_codes_are_refused(client, secured, code):
    step = password_step(client)["Location"]
    response = client.post(step, {"code": code}, REMOTE_ADDR="10.5.5.5")
    assert response.status_code == 200
    assert not signed_in(client)


def test_wrong_codes_lock_the_account_out_like_wrong_passwords(client, secured):
    secret, codes = secured
    step = password_step(client)["Location"]
    statuses = [client.post(step, {"code": "00000000"}, REMOTE_ADDR="10.5.5.5").status_code
                for _ in range(LIMIT)]
    assert statuses == [200] * (LIMIT - 1) + [429]
    assert client.post(step, {"code": codes[0]}, REMOTE_ADDR="10.5.5.5").status_code == 429
    assert not signed_in(client)
    # the password step is locked too, on both doors
    assert password_step(client).status_code == 429
    # another address is not
    other = password_step(client, ip="10.6.6.6")
    assert other.status_code == 302
    assert client.post(other["Location"], {"code": codes[0]},
                       REMOTE_ADDR="10.6.6.6").status_code == 302


def test_the_code_step_needs_a_recent_password_step(client, secured):
    secret, _ = secured
    assert client.get("/admin/login/code/")["Location"] == "/admin/login/"
    step = password_step(client)["Location"]
    session = client.session
    session[PENDING] = {**session[PENDING], "at": time.time() - 301}
    session.save()
    late = client.post(step, {"code": next_code(secret)}, REMOTE_ADDR="10.5.5.5")
    assert late.status_code == 302
    assert late["Location"] == "/admin/login/"
    assert not signed_in(client)


def test_the_next_url_must_be_local(client, secured):
    secret, _ = secured
    step = password_step(client)["Location"]
    evil = step.split("?")[0] + "?next=https://evil.example.com/"
    done = client.post(evil, {"code": next_code(secret)}, REMOTE_ADDR="10.5.5.5")
    assert done["Location"] == "/admin/"


# -- the settings page -------------------------------------------------------------------------

def test_enrol_confirm_regenerate_and_turn_off_in_the_page(client, staff):
    client.force_login(staff)
    page = client.get("/admin/account/two-factor/")
    assert page.status_code == 200
    assert 'data-testid="mfa-off"' in page.content.decode()
    assert b'href="/admin/account/two-factor/"' in client.get("/admin/").content  # user link

    assert client.post("/admin/account/two-factor/", {"action": "start"}).status_code == 302
    html = client.get("/admin/account/two-factor/").content.decode()
    secret = re.search(r'data-secret="([A-Z2-7]+)"', html).group(1)
    assert "data:image/svg+xml;base64," in html
    assert "otpauth://totp/" in html
    wrong = client.post("/admin/account/two-factor/", {"action": "confirm", "code": "000000"})
    assert "Wrong code" in wrong.content.decode()
    assert not user_has_mfa(staff)

    on = client.post("/admin/account/two-factor/", {"action": "confirm",
                                                    "code": pyotp.TOTP(secret).now()})
    html = on.content.decode()
    codes = re.findall(r"<li>(\d{8})</li>", html)
    assert len(codes) == 10
    assert user_has_mfa(staff)
    # afterwards the page shows neither the secret nor the codes
    html = client.get("/admin/account/two-factor/").content.decode()
    assert secret not in html
    assert not any(c in html for c in codes)
    assert "10 recovery codes left" in html

    bad = client.post("/admin/account/two-factor/", {"action": "regenerate",
                                                     "password": "wrong"})
    assert "Wrong password" in bad.content.decode()
    new = client.post("/admin/account/two-factor/", {"action": "regenerate",
                                                     "password": PASSWORD}).content.decode()
    new_codes = re.findall(r"<li>(\d{8})</li>", new)
    assert len(new_codes) == 10
    assert not set(new_codes) & set(codes)

    off = client.post("/admin/account/two-factor/", {"action": "disable",
                                                     "code": new_codes[0]})
    assert off.status_code == 302
    assert not user_has_mfa(staff)
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="mfa.")
            .order_by("id")] == ["mfa.enable", "mfa.recovery_codes_regenerate",
                                 "mfa.recovery_code_used", "mfa.disable"]


def test_the_settings_page_needs_a_signed_in_staff_user(client, db):
    response = client.get("/admin/account/two-factor/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    client.force_login(UserFactory(is_staff=False))
    assert client.get("/admin/account/two-factor/")["Location"].startswith("/admin/login/")


def test_an_administrator_can_only_turn_2fa_off_and_never_sees_the_keys(client, secured, db):
    from django.contrib import admin
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User

    assert not admin.site.is_registered(TOTPDevice)
    assert not admin.site.is_registered(StaticDevice)
    root = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(root)
    ada = User.objects.get(email="ada@example.com")
    response = client.post("/admin/accounts/user/", {"action": "turn_off_two_factor",
                                                      "_selected_action": [ada.pk]})
    assert response.status_code == 302
    assert not user_has_mfa(ada)
    event = AuditEvent.objects.filter(action="mfa.disable").get()
    assert event.actor_id == root.pk
    assert event.extra == {"proof": "administrator"}


OAUTH_MFA_PROBE = """
import json
import pyotp
from django.core.management import call_command
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
call_command("migrate", verbosity=0)
from accounts.mfa import totp_enrol_confirm, totp_enrol_start
from accounts.models import User
from accounts.oauth import AccountAdapter
from accounts.views import PENDING

def pre_login(user):
    request = RequestFactory().get("/accounts/github/login/callback/")
    request.session = SessionStore()
    response = AccountAdapter().pre_login(request, user, email_verification="none",
                                          signal_kwargs=None, email=user.email, signup=False,
                                          redirect_url="/admin/runs/run/")
    return request, response

plain = User.objects.create_user(email="plain@example.com", password="x")
secured = User.objects.create_user(email="secured@example.com", password="x")
secret = totp_enrol_start(user=secured).secret
totp_enrol_confirm(user=secured, code=pyotp.TOTP(secret).now())
_, untouched = pre_login(plain)
request, held = pre_login(secured)
print(json.dumps({
    "plain": untouched is None,
    "status": held.status_code, "location": held["Location"],
    "pending_user": request.session[PENDING]["user"] == secured.pk,
    "signed_in": "_auth_user_id" in request.session,
}))
"""


@pytest.mark.slow
def test_oauth_sign_in_of_a_2fa_user_goes_to_the_code_step():
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith("WFAIB_OAUTH")}
    env.update(DJANGO_SETTINGS_MODULE="wfaib.settings_test", DATABASE_URL="sqlite://:memory:",
               WFAIB_OAUTH_GITHUB_CLIENT_ID="id", WFAIB_OAUTH_GITHUB_SECRET="secret")
    done = subprocess.run([sys.executable, "-c", "import django\ndjango.setup()\n"
                           + OAUTH_MFA_PROBE], cwd=Path(__file__).resolve().parents[2],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"plain": True, "status": 302,
                      "location": "/admin/login/code/?next=%2Fadmin%2Fruns%2Frun%2F",
                      "pending_user": True, "signed_in": False}
