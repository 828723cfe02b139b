"""Login, logout, me, API tokens, session + CSRF, and that everything else needs a login."""

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


def login(client, email, password=PASSWORD, **extra):
    return client.post("/api/auth/login", {"email": email, "password": password, **extra},
                       format="json")


def test_login_returns_a_token_that_authenticates(user, anon):
    response = login(anon, user.email.upper())  # email is case-insensitive
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["user"] == {"id": user.pk, "email": user.email, "is_staff": False}
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    me = client.get("/api/auth/me")
    assert me.status_code == 200
    assert me.json()["email"] == user.email


def test_only_a_digest_of_the_token_is_stored(user, anon):
    key = login(anon, user.email).json()["token"]
    token = ApiToken.objects.get(user=user)
    assert key not in (token.key_digest, token.prefix)
    assert key.startswith(token.prefix)


@pytest.mark.parametrize(("email", "password"), [
    ("nobody@example.com", PASSWORD), (None, "wrong password")])
def test_login_with_wrong_credentials_is_401(user, anon, email, password):
    response = login(anon, email or user.email, password)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert not ApiToken.objects.exists()


def test_login_of_inactive_user_is_401(anon):
    user = UserFactory(is_active=False)
    assert login(anon, user.email).status_code == 401


def test_login_without_fields_is_400_naming_them(anon):
    response = anon.post("/api/auth/login", {}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"email", "password"}


def test_logout_revokes_the_token(user, anon):
    key = login(anon, user.email).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.post("/api/auth/logout").status_code == 204
    response = client.get("/api/auth/me")
    assert response.status_code == 401
    assert response.json() == {"code": "authentication_failed", "message": "Invalid token."}


def test_token_of_deactivated_user_stops_working(user, api):
    user.is_active = False
    user.save()
    assert api.get("/api/auth/me").status_code == 401


def test_tokens_are_listed_created_and_revoked(user, api):
    listed = api.get("/api/auth/tokens").json()
    assert [t["name"] for t in listed] == ["test"]
    assert "key" not in listed[0]
    assert listed[0]["last_used_at"] is not None
    created = api.post("/api/auth/tokens", {"name": "ci"}, format="json")
    assert created.status_code == 201
    key = created.json()["key"]
    ci = APIClient()
    ci.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert ci.get("/api/auth/me").status_code == 200
    assert sorted(t["name"] for t in api.get("/api/auth/tokens").json()) == ["ci", "test"]
    assert api.delete(f"/api/auth/tokens/{created.json()['id']}").status_code == 204
    assert ci.get("/api/auth/me").status_code == 401


def test_session_auth_works_and_needs_csrf_for_writes(user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get("/api/auth/me").json()["email"] == user.email
    refused = client.post("/api/workflows", {"name": "x"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert "CSRF" in refused.json()["message"]
    client.get("/admin/login/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    ok = client.post("/api/workflows", {"name": "x"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert ok.status_code == 201, ok.json()


def test_session_logout_ends_the_session(user):
    client = APIClient()
    client.force_login(user)
    assert client.post("/api/auth/logout").status_code == 204
    assert client.get("/api/auth/me").status_code in (401, 403)


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/auth/me"), ("post", "/api/auth/logout"), ("get", "/api/auth/tokens"),
    ("get", "/api/workflows"), ("post", "/api/workflows"), ("get", "/api/workflows/1"),
    ("put", "/api/workflows/1"), ("patch", "/api/workflows/1"), ("delete", "/api/workflows/1"),
    ("get", "/api/workflows/1/versions"), ("get", "/api/workflows/1/versions/1"),
    ("post", "/api/workflows/1/runs"), ("post", "/api/workflows/1/rotate-secret"),
    ("get", "/api/runs"), ("get", "/api/runs/1"), ("post", "/api/runs/1"),
    ("post", "/api/runs/1/cancel"), ("get", "/api/node-types"), ("get", "/api/credentials"),
    ("get", "/api/credentials/1"),
])
def test_everything_but_public_endpoints_needs_authentication(anon, method, path):
    response = getattr(anon, method)(path, {}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"


def test_public_endpoints_answer_without_authentication(anon):
    assert anon.get("/api/health").status_code == 200
    assert anon.get("/api/schema/").status_code == 200
    assert anon.get("/api/docs/").status_code == 200


def test_login_is_rate_limited(user, anon, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    # DRF reads the rates into this class attribute at import time.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "3/min"})
    codes = [login(anon, user.email, "wrong").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    refused = login(anon, user.email)
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    monkeypatch.undo()  # the configured rate (20/min) allows more
    assert login(anon, user.email).status_code == 200
