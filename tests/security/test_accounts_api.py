"""API hardening: token list/revoke, rate limits per user and per address, body size and JSON
depth limits, CORS."""

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.tokens import token_create
from tests.factories import UserFactory, make_workflow


def client_with_token(user, ip="10.0.0.1"):
    client = APIClient(REMOTE_ADDR=ip)
    _, key = token_create(user=user, name="test")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def rates(**scopes):
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], **scopes}
    return override_settings(REST_FRAMEWORK=rest)


# -- tokens ----------------------------------------------------------------------------------

def test_tokens_are_listed_and_a_revoked_token_stops_working(user):
    api = client_with_token(user)
    created = api.post("/api/auth/tokens", {"name": "ci"}, format="json")
    assert created.status_code == 201
    key, token_id = created.json()["key"], created.json()["id"]
    listed = api.get("/api/auth/tokens").json()
    assert sorted(t["name"] for t in listed) == ["ci", "test"]
    assert all("key" not in t and "key_digest" not in t for t in listed)
    ci = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
    assert ci.get("/api/auth/me").status_code == 200
    assert api.delete(f"/api/auth/tokens/{token_id}").status_code == 204
    assert ci.get("/api/auth/me").status_code == 401
    assert not ApiToken.objects.filter(pk=token_id).exists()
    assert [t["name"] for t in api.get("/api/auth/tokens").json()] == ["test"]


def test_another_users_token_cannot_be_listed_or_revoked(user):
    mine = client_with_token(user)
    theirs, _ = token_create(user=UserFactory(), name="theirs")
    assert "theirs" not in [t["name"] for t in mine.get("/api/auth/tokens").json()]
    response = mine.delete(f"/api/auth/tokens/{theirs.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert ApiToken.objects.filter(pk=theirs.pk).exists()


# -- rate limits -----------------------------------------------------------------------------

def test_per_user_rate_limit_answers_429_with_retry_after(user):
    api = client_with_token(user)
    with rates(user="3/min"):
        codes = [api.get("/api/auth/me").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = api.get("/api/workflows")
        assert refused.status_code == 429
        assert refused.json()["code"] == "throttled"
        assert int(refused["Retry-After"]) > 0
        # another user from the same address has a count of their own
        assert client_with_token(UserFactory()).get("/api/auth/me").status_code == 200


def test_per_address_rate_limit_counts_everyone_from_that_address(user):
    with rates(ip="3/min"):
        first = client_with_token(user, ip="10.9.9.9")
        second = client_with_token(UserFactory(), ip="10.9.9.9")
        anon = APIClient(REMOTE_ADDR="10.9.9.9")
        codes = [first.get("/api/auth/me").status_code, second.get("/api/auth/me").status_code,
                 anon.get("/api/health").status_code, second.get("/api/auth/me").status_code]
        assert codes == [200, 200, 200, 429]
        assert int(anon.get("/api/health")["Retry-After"]) > 0
        # another address is not affected
        assert client_with_token(user, ip="10.8.8.8").get("/api/auth/me").status_code == 200


def test_rate_limits_are_configured_and_generous_by_default():
    from wfaib import settings as conf

    assert "wfaib.throttles.UserRateThrottle" in conf.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]
    assert "wfaib.throttles.ClientAddressRateThrottle" in \
        conf.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["user"]
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["ip"]


# -- body size and depth ---------------------------------------------------------------------

def nested(depth):
    value = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def test_json_nested_too_deep_is_400_naming_the_problem(user):
    api = client_with_token(user)
    workflow = make_workflow(owner=user)
    limit = settings.WFAIB["JSON_MAX_DEPTH"]
    # {"input": <limit - 1 levels>} is exactly `limit` deep: accepted
    ok = api.post(f"/api/workflows/{workflow.pk}/runs", {"input": nested(limit - 1)},
                  format="json")
    assert ok.status_code == 202, ok.content
    too_deep = api.post(f"/api/workflows/{workflow.pk}/runs", {"input": nested(limit)},
                        format="json")
    assert too_deep.status_code == 400
    body = too_deep.json()
    assert body["code"] == "json_too_deep"
    assert f"deeper than {limit} levels" in body["message"]
    assert "at input.a.a" in body["message"]


def test_json_deeper_than_the_parser_can_go_is_answered_the_same(user):
    api = client_with_token(user)
    body = "[" * 100_000 + "]" * 100_000
    response = api.post("/api/workflows", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "json_too_deep"


def test_lists_count_as_levels_too(user):
    api = client_with_token(user)
    limit = settings.WFAIB["JSON_MAX_DEPTH"]
    deep = "[" * (limit + 1) + "]" * (limit + 1)
    response = api.post("/api/workflows", deep, content_type="application/json")
    assert response.json()["code"] == "json_too_deep"
    assert "at [0][0]" in response.json()["message"]


def test_body_over_the_size_limit_is_413(user):
    api = client_with_token(user)
    workflow = make_workflow(owner=user)
    with override_settings(WFAIB={**settings.WFAIB, "API_MAX_BODY": 1000}):
        response = api.post(f"/api/workflows/{workflow.pk}/runs", {"input": "x" * 2000},
                            format="json")
        assert response.status_code == 413
        assert response.json() == {"code": "body_too_large",
                                   "message": "the request body is larger than 1000 bytes"}
        assert api.post(f"/api/workflows/{workflow.pk}/runs", {"input": "x" * 100},
                        format="json").status_code == 202


def test_invalid_json_and_wrong_types_are_400_with_json(user):
    api = client_with_token(user)
    broken = api.post("/api/workflows", "{not json", content_type="application/json")
    assert broken.status_code == 400
    assert broken.json()["code"] == "invalid_json"
    nan = api.post("/api/workflows", '{"name": NaN}', content_type="application/json")
    assert nan.status_code == 400
    wrong = api.post("/api/workflows", {"name": ["a"], "max_concurrency": "many"}, format="json")
    assert wrong.status_code == 400
    assert set(wrong.json()["fields"]) >= {"name", "max_concurrency"}


def test_only_json_bodies_are_accepted(user):
    api = client_with_token(user)
    response = api.post("/api/workflows", "name=x",
                        content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


# -- CORS ------------------------------------------------------------------------------------

def preflight(origin):
    return APIClient().options("/api/workflows", HTTP_ORIGIN=origin,
                               HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                               HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type")


@pytest.mark.django_db
def test_cors_is_closed_by_default():
    assert settings.CORS_ALLOWED_ORIGINS == []
    response = preflight("https://app.example.com")
    assert "Access-Control-Allow-Origin" not in response
    user = UserFactory()
    got = client_with_token(user).get("/api/auth/me", HTTP_ORIGIN="https://app.example.com")
    assert got.status_code == 200
    assert "Access-Control-Allow-Origin" not in got


@pytest.mark.django_db
def test_cors_opens_for_a_configured_origin_only():
    with override_settings(CORS_ALLOWED_ORIGINS=["https://app.example.com"]):
        response = preflight("https://app.example.com")
        assert response["Access-Control-Allow-Origin"] == "https://app.example.com"
        assert "authorization" in response["Access-Control-Allow-Headers"]
        assert "Access-Control-Allow-Credentials" not in response
        assert "Access-Control-Allow-Origin" not in preflight("https://evil.example.com")
        # the admin is never opened up
        admin = APIClient().get("/admin/login/", HTTP_ORIGIN="https://app.example.com")
        assert "Access-Control-Allow-Origin" not in admin
