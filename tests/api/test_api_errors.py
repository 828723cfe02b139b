"""Every answer under /api/ is JSON {code, message}, whatever DEBUG says and whichever layer
refused: Django's own body limit, unknown URLs, Http404 from any view, error pages."""

import json

import pytest
from django.conf import settings
from django.test import Client

from runs.dispatch import wait_for_run
from tests.factories import make_workflow, simple_definition

pytestmark = pytest.mark.django_db


def oversize() -> bytes:
    """One byte over Django's real DATA_UPLOAD_MAX_MEMORY_SIZE (not a lowered project limit)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert limit == 2 * 1024 * 1024  # the documented default: the limit users actually meet
    filler = "x" * (limit - len('{"input": ""}') + 1)
    return json.dumps({"input": filler}).encode()


@pytest.fixture(params=[False, True], ids=["production", "debug"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def assert_json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert body["code"] == code, body
    assert body["message"]
    return body


@pytest.mark.parametrize("path", ["/api/workflows", "/api/auth/login", "/api/runs/{wf}",
                                  "/api/workflows/{wf}/runs", "/api/runs/{wf}/retry",
                                  "/api/runs/retry", "/api/webhook/{wf}"])
def test_a_body_over_the_django_limit_is_413_json_everywhere(api, user, debug, path):
    workflow = make_workflow(owner=user)
    response = api.post(path.format(wf=workflow.pk), oversize(),
                        content_type="application/json")
    body = assert_json_error(response, 413, "body_too_large")
    assert "settings" not in response.content.decode().lower()
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in body["message"] or path.startswith(
        "/api/webhook")


def test_a_body_at_the_limit_is_read(api, debug):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = json.dumps({"name": "big", "description": "d" * (limit - 40)}).encode()
    assert len(body) <= limit
    response = api.post("/api/workflows", body, content_type="application/json")
    assert response.status_code == 201, response.content[:300]


@pytest.mark.parametrize("path", ["/api/workflows/abc", "/api/nope", "/api/runs/xyz/cancel",
                                  "/api/workflows/999999"])
def test_unknown_urls_and_objects_are_404_json(api, debug, path):
    assert_json_error(api.get(path), 404, "not_found")


def test_unknown_api_url_without_signing_in_is_404_json(debug):
    assert_json_error(Client().get("/api/does-not-exist"), 404, "not_found")


def test_pages_outside_the_api_stay_pages(debug, admin_client):
    response = admin_client.get("/admin/does-not-exist/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_a_suspicious_host_is_400_json(debug):
    response = Client(HTTP_HOST="evil.example").get("/api/health")
    assert_json_error(response, 400, "bad_request")


def test_csrf_failure_on_the_session_door_is_403_json(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/api/workflows", {"name": "x"}, content_type="application/json")
    assert_json_error(response, 403, "permission_denied")


@pytest.mark.django_db(transaction=True)
def test_a_respond_node_answer_is_passed_untouched(api, user):

    workflow = make_workflow(owner=user, definition=simple_definition(
        {"id": "r", "type": "respond",
         "config": {"status": 418, "body": "<p>teapot</p>",
                    "headers": {"Content-Type": "text/html"}}}))
    response = api.post(f"/api/webhook/{workflow.pk}", {}, format="json")
    wait_for_run(int(response["X-Run-Id"]), 30)
    assert response.status_code == 418
    assert response.content == b"<p>teapot</p>"
    assert response["Content-Type"] == "text/html"


@pytest.mark.parametrize("door", ["api", "login", "webhook", "resume"])
def test_invalid_json_has_one_code_at_every_door(api, user, door):
    workflow = make_workflow(owner=user)
    path = {"api": "/api/workflows", "login": "/api/auth/login",
            "webhook": f"/api/webhook/{workflow.pk}", "resume": "/api/resume/nope"}[door]
    response = api.post(path, "{not json", content_type="application/json")
    if door == "resume" and response.status_code == 404:
        pytest.skip("the resume door checks the token first")
    assert_json_error(response, 400, "invalid_json")
