"""The OpenAPI document (/api/schema/), the docs page, and a schemathesis run against the API:
generated requests to every operation must get no 5xx and answers that match the schema."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.tokens import token_create
from tests.factories import UserFactory, make_workflow

SPEC_PATHS = {  # the spec's endpoint table, plus the REST-shaped routes of the issue
    ("/api/health", "get"), ("/api/workflows", "post"), ("/api/workflows", "get"),
    ("/api/workflows/{id}", "get"), ("/api/workflows/{id}", "put"),
    ("/api/workflows/{id}", "patch"), ("/api/workflows/{id}", "delete"),
    ("/api/webhook/{workflow_id}", "post"), ("/api/runs/{id}", "post"),
    ("/api/runs/{id}", "get"), ("/api/auth/login", "post"), ("/api/auth/logout", "post"),
    ("/api/auth/me", "get"), ("/api/workflows/{id}/runs", "post"), ("/api/runs", "get"),
    ("/api/runs/{id}/cancel", "post"), ("/api/node-types", "get"),
    ("/api/workflows/{id}/versions", "get"), ("/api/workflows/{id}/versions/{number}", "get"),
    ("/api/workflows/{id}/rotate-secret", "post"),
}


@pytest.mark.django_db
def test_schema_lists_every_endpoint_with_its_errors(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    doc = response.json()
    operations = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert SPEC_PATHS <= operations
    assert "Error" in doc["components"]["schemas"]
    assert "409" in doc["paths"]["/api/workflows/{id}"]["put"]["responses"]
    webhook = doc["paths"]["/api/webhook/{workflow_id}"]["post"]["responses"]
    assert {"200", "202", "400", "404", "411", "413", "415", "429"} <= set(webhook)
    assert "401" not in webhook  # auth failures answer as unknown ids (404)
    assert doc["paths"]["/api/webhook/{workflow_id}"]["post"]["security"] == [{}]
    workflow = doc["components"]["schemas"]["Workflow"]["properties"]
    assert "webhook_secret" not in workflow  # write-only: only in the request component
    assert "webhook_secret" in doc["components"]["schemas"]["WorkflowRequest"]["properties"]


@pytest.mark.django_db
def test_docs_page_is_served_with_local_assets(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    assert b"/static/drf_spectacular_sidecar/" in response.content


# Loaded when the module is collected: schema generation touches no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def _keep_test_connection():
    """Like Django's test client: the WSGI app must not close the test's database connection
    at the end of each request (it holds the test's transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def schema_user(db, settings, _keep_test_connection):
    # Sync webhooks would wait for runs that this (transactional) test never dispatches.
    settings.WFAIB = {**settings.WFAIB, "WEBHOOK_SYNC_TIMEOUT": 0}
    user = UserFactory()
    make_workflow(owner=user)  # objects exist, so generated requests reach real ones too
    return user


@schema.parametrize()
@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, schema_user):
    # A fresh token per example: a generated logout or token delete must not log the rest out.
    _, key = token_create(user=schema_user, name="schemathesis")
    case.call_and_validate(
        headers={"Authorization": f"Token {key}"},
        checks=[not_a_server_error, response_schema_conformance, status_code_conformance,
                content_type_conformance])
