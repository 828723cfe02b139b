"""Two-factor sign-in through the API: enrol, confirm, sign in with TOTP or a recovery code,
disable, regenerate; replays, abuse and the lockout. Codes are computed with pyotp, not with
the code under test."""

import time

import pyotp
import pytest
from django.core.cache import cache
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts.mfa import user_has_mfa
from audit.models import AuditEvent
from tests.factories import UserFactory

PASSWORD = "correct horse battery"
LIMIT = 5  # WFAIB_LOGIN_FAILURE_LIMIT's default


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()  # rate limits count in the cache
    yield
    cache.clear()


@pytest.fixture
def user(db):
    return UserFactory(email="ada@example.com")


def code_at(secret: str, steps: int = 0) -> str:
    """The code of the time step `steps` away from now (the server accepts -1..+1)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps)


def login(email=None, password=PASSWORD, code=None, ip="10.9.9.9", **extra):
    body = {"email": email or "ada@example.com", "password": password, **extra}
    if code is not None:
        body["code"] = code
    return APIClient().post("/api/auth/login", body, format="json", REMOTE_ADDR=ip)


def enrol(api) -> tuple[str, list[str]]:
    started = api.post("/api/auth/mfa/totp")
    assert started.status_code == 201, started.content
    secret = started.json()["secret"]
    confirmed = api.post("/api/auth/mfa/totp/confirm", {"code": code_at(secret)}, format="json")
    assert confirmed.status_code == 200, confirmed.content
    return secret, confirmed.json()["recovery_codes"]


def test_enrol_shows_the_secret_as_text_uri_and_qr_and_stays_off_until_confirmed(api, user):
    assert api.get("/api/auth/mfa").json() == {"enabled": False, "enabled_at": None,
                                               "last_used_at": None, "recovery_codes_left": 0,
                                               "required_by_projects": []}
    body = api.post("/api/auth/mfa/totp").json()
    assert set(body) == {"secret", "uri", "qr_svg"}
    parsed = pyotp.parse_uri(body["uri"])
    assert parsed.secret == body["secret"]
    assert parsed.issuer == "WFAIB"
    assert parsed.name.endswith("ada@example.com")  # label "WFAIB:ada@example.com"
    assert body["qr_svg"].lstrip().startswith("<?xml")
    assert "<svg" in body["qr_svg"]
    # pending: not on, and the password alone still signs in
    assert not user_has_mfa(user)
    assert api.get("/api/auth/mfa").json()["enabled"] is False
    assert login().status_code == 200
    assert TOTPDevice.objects.get(user=user).confirmed is False
    # a restart replaces the pending secret; the first one no longer confirms
    second = api.post("/api/auth/mfa/totp").json()["secret"]
    assert second != body["secret"]
    wrong = api.post("/api/auth/mfa/totp/confirm", {"code": code_at(body["secret"])},
                     format="json")
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "invalid_code"
    assert not user_has_mfa(user)


def test_confirm_turns_it_on_and_the_login_then_asks_for_the_code(api, user):
    secret, codes = enrol(api)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(len(c) == 8 and c.isdigit() for c in codes)
    assert user_has_mfa(user)
    status = api.get("/api/auth/mfa").json()
    assert status["enabled"] is True
    assert status["recovery_codes_left"] == 10
    # the secret and the codes never appear again
    assert secret not in str(status)
    assert not any(c in str(status) for c in codes)
    assert AuditEvent.objects.filter(action="mfa.enable", object_id=str(user.pk)).exists()

    missing = login()
    assert missing.status_code == 401
    assert missing.json()["code"] == "mfa_required"
    assert "token" not in missing.json()
    wrong_password = login(password="wrong", code=code_at(secret, 1))
    assert wrong_password.json()["code"] == "invalid_credentials"
    ok = login(code=code_at(secret, 1))  # the confirm used this step's code
    assert ok.status_code == 200, ok.content
    assert ok.json()["token"].startswith("wfaib_")
    assert secret not in ok.content.decode()
    assert api.post("/api/auth/mfa/totp").json()["code"] == "mfa_already_enabled"


def test_a_totp_code_signs_in_once(api):
    secret, _ = enrol(api)
    code = code_at(secret, 1)
    assert login(code=code).status_code == 200
    replay = login(code=code)
    assert replay.status_code == 401
    assert replay.json()["code"] == "invalid_code"
    # an older step than the last one used is refused too
    assert login(code=code_at(secret, -1)).json()["code"] == "invalid_code"
    # codes far from now are refused
    assert login(code=code_at(secret, 5)).json()["code"] == "invalid_code"


def test_a_recovery_code_signs_in_once_and_is_audited(api, user):
    secret, codes = enrol(api)
    assert login(code=codes[0]).status_code == 200
    assert login(code=codes[0]).json()["code"] == "invalid_code"
    # typed with a separator, as printed codes often are
    assert login(code=f"{codes[1][:4]}-{codes[1][4:]}").status_code == 200
    assert api.get("/api/auth/mfa").json()["recovery_codes_left"] == 8
    used = AuditEvent.objects.filter(action="mfa.recovery_code_used", object_id=str(user.pk))
    assert [e.extra["recovery_codes_left"] for e in used.order_by("id")] == [9, 8]
    assert all(codes[0] not in str(e.extra) for e in used)


@pytest.mark.parametrize(("code", "reason"), [
    ("1" * 17, "overlong"),
    ("9" * 4000, "overlong"),
    ("12345a", "non-digit"),
    ("１２３４５６", "non-ASCII digits"),
    ("1234567", "seven digits"),
    ("<script>", "markup"),
    ("' OR 1=1 --", "SQL"),
])
def test_malformed_codes_are_400_naming_the_field(api, code, reason):
    secret, _ = enrol(api)
    response = login(code=code)
    assert response.status_code == 400, reason
    body = response.json()
    assert body["code"] == "invalid"
    assert "code" in body["fields"]
    assert "token" not in body
    confirm = api.post("/api/auth/mfa/totp/confirm", {"code": code}, format="json")
    assert confirm.status_code == 400
    assert "code" in confirm.json()["fields"]


def test_a_code_of_the_wrong_type_is_400(api):
    enrol(api)
    response = login(code=123456)  # a number, not a string: DRF reads it as "123456"
    assert response.status_code == 401  # parsed, then simply wrong (not a server error)
    for bad in [[1, 2], {"a": 1}]:
        assert login(code=bad).status_code == 400


def test_wrong_codes_count_towards_the_lockout(api, user):
    secret, codes = enrol(api)
    statuses = [login(code="000000" if code_at(secret) != "000000" else "111111").status_code
                for _ in range(LIMIT)]
    assert statuses == [401] * (LIMIT - 1) + [429]
    # locked out: even the right password and a right code are refused
    refused = login(code=codes[0])
    assert refused.status_code == 429
    assert refused.json()["code"] == "locked_out"
    # the recovery code was not spent by the refused attempt
    assert api.get("/api/auth/mfa").json()["recovery_codes_left"] == 10
    # another address is not locked
    assert login(code=codes[0], ip="10.8.8.8").status_code == 200


def test_wrong_recovery_codes_count_too_and_a_success_resets(api):
    _, codes = enrol(api)
    for _ in range(LIMIT - 1):
        assert login(code="00000000").status_code == 401
    assert login(code=codes[0]).status_code == 200
    for _ in range(LIMIT - 1):
        assert login(code="00000000").status_code == 401
    assert login(code=codes[1]).status_code == 200


def test_missing_code_does_not_count_towards_the_lockout(api):
    secret, _ = enrol(api)
    for _ in range(LIMIT + 2):
        assert login().json()["code"] == "mfa_required"
    assert login(code=code_at(secret, 1)).status_code == 200


def test_disable_needs_a_code_or_the_password(api, user):
    secret, codes = enrol(api)
    none = api.post("/api/auth/mfa/disable", {}, format="json")
    assert none.status_code == 400
    assert none.json()["code"] == "proof_required"
    bad = api.post("/api/auth/mfa/disable", {"password": "nope"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_password"
    bad = api.post("/api/auth/mfa/disable", {"code": "00000000"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_code"
    assert user_has_mfa(user)
    ok = api.post("/api/auth/mfa/disable", {"code": code_at(secret, 1)}, format="json")
    assert ok.status_code == 204
    assert not user_has_mfa(user)
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticDevice.objects.filter(user=user).exists()
    assert login().status_code == 200
    assert AuditEvent.objects.filter(action="mfa.disable", object_id=str(user.pk)).exists()
    again = api.post("/api/auth/mfa/disable", {"password": PASSWORD}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "mfa_not_enabled"
    # on again with the password as proof to turn it off
    enrol(api)
    assert api.post("/api/auth/mfa/disable", {"password": PASSWORD},
                    format="json").status_code == 204


def test_regenerated_recovery_codes_replace_the_old_ones(api, user):
    _, old = enrol(api)
    response = api.post("/api/auth/mfa/recovery-codes", {"password": PASSWORD}, format="json")
    assert response.status_code == 200
    new = response.json()["recovery_codes"]
    assert len(new) == 10
    assert not set(new) & set(old)
    assert login(code=old[2]).json()["code"] == "invalid_code"
    assert login(code=new[0]).status_code == 200
    assert AuditEvent.objects.filter(action="mfa.recovery_codes_regenerate").count() == 1
    refused = api.post("/api/auth/mfa/recovery-codes", {"code": "11111111"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_code"


def test_confirm_without_enrolment_is_409(api):
    response = api.post("/api/auth/mfa/totp/confirm", {"code": "123456"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "mfa_not_pending"


def test_the_endpoints_need_a_signed_in_user(db):
    anon = APIClient()
    for method, path in [("get", "/api/auth/mfa"), ("post", "/api/auth/mfa/totp"),
                         ("post", "/api/auth/mfa/totp/confirm"),
                         ("post", "/api/auth/mfa/disable"),
                         ("post", "/api/auth/mfa/recovery-codes")]:
        assert getattr(anon, method)(path, {}, format="json").status_code == 401, path


def test_one_users_enrolment_does_not_touch_anothers(api, user):
    other = UserFactory()
    enrol(api)
    assert not user_has_mfa(other)
    assert login(email=other.email).status_code == 200
