"""Issue 17, items 1, 8 and 9, as an attacker would try them against the webhook gateway:
response headers from a `respond` node, the headers every answer carries, a separate webhook
origin, odd and deep JSON, and probing workflow ids without signing in.
(The browser half of item 1 is tests/e2e/test_respond_xss.py; chunked bodies, item 7, are
tests/durable/test_chunked_webhook.py.)"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from runs.models import Run
from tests.factories import make_workflow, simple_definition
from workflows.models import Workflow
from workflows.services import new_webhook_secret

pytestmark = pytest.mark.django_db(transaction=True)


def respond(headers: dict[str, str], body="<b>hi</b>") -> dict:
    return {"id": "answer", "type": "respond",
            "config": {"status": 200, "headers": headers, "body": body}}


def post(path: str, body: bytes = b"{}", content_type: str = "application/json",
         client: Client | None = None, **extra):
    return (client or Client()).post(path, body, content_type=content_type, **extra)


@pytest.fixture(autouse=True)
def _runs_settle():
    from django.core.cache import cache

    cache.clear()  # rate limits
    yield
    from runs.dispatch import wait_for_run

    for run_id in Run.objects.exclude(status__in=Run.FINISHED).values_list("id", flat=True):
        wait_for_run(run_id, 30)
    from django.db import connections

    conn = connections["default"]
    if conn.vendor == "postgresql":
        # The run executor's threads keep connections open; end them so the test database
        # can be flushed and dropped (threads reconnect on next use).
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")


# --- item 1: respond-node headers ----------------------------------------------------------

@pytest.mark.parametrize("header", [
    "Set-Cookie", "Content-Security-Policy", "content-security-policy-report-only",
    "X-Frame-Options", "X-Content-Type-Options", "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials", "Strict-Transport-Security", "Refresh", "Link",
    "WWW-Authenticate", "X-Accel-Redirect", "X-Sendfile", "Clear-Site-Data",
    "Cross-Origin-Opener-Policy", "X-Run-Id", "Bad Header",
])
def test_saving_a_security_or_cookie_header_is_refused_naming_it(api, header):
    definition = simple_definition(respond({header: "x"}))
    response = api.post("/api/workflows", {"name": "evil", "definition": definition},
                        format="json")
    assert response.status_code == 400, response.content
    text = json.dumps(response.json())
    assert "nodes[1].config.headers" in text
    assert header in text
    assert not Workflow.objects.filter(name="evil").exists()


@pytest.mark.parametrize(("header", "value"), [
    ("Content-Type", "image/svg+xml"), ("Content-Type", "application/xhtml+xml"),
    ("Content-Type", "text/javascript"), ("Content-Type", "text/html; boundary=x"),
    ("Location", "javascript:alert(1)"), ("Location", "//evil.example/"),
])
def test_unsafe_header_values_are_refused(api, header, value):
    definition = simple_definition(respond({header: value}))
    response = api.post("/api/workflows", {"name": "evil", "definition": definition},
                        format="json")
    assert response.status_code == 400, response.content
    assert "nodes[1].config.headers" in json.dumps(response.json())


def test_allowed_headers_are_saved_and_sent(user):
    headers = {"Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store",
               "Content-Disposition": "attachment; filename=a.csv", "X-Order": "7",
               "ETag": '"v1"', "Location": "https://example.com/next"}
    workflow = make_workflow(owner=user, definition=simple_definition(respond(headers, "a,b")))
    answer = post(f"/api/webhook/{workflow.pk}")
    assert answer.status_code == 200
    for key, value in headers.items():
        assert answer[key] == value
    assert answer.content == b"a,b"


def test_forbidden_headers_stored_anyway_fail_the_node_at_run_time(user):
    """A definition saved by an older release (or edited in the database) with a forbidden
    header: the rendered config is checked again, so the node fails and nothing is sent."""
    workflow = make_workflow(owner=user, definition=simple_definition(respond({})))
    definition = workflow.definition
    definition["nodes"][1]["config"]["headers"] = {"Set-Cookie": "sessionid=attacker"}
    Workflow.objects.filter(pk=workflow.pk).update(definition=definition)
    workflow.versions.filter(number=workflow.version).update(definition=definition)
    answer = post(f"/api/webhook/{workflow.pk}")
    assert answer.status_code == 500
    assert "Set-Cookie cannot be set" in answer.json()["error"]
    assert "Set-Cookie" not in answer
    assert not answer.cookies


def test_a_stored_answer_with_forbidden_headers_is_stripped_when_sent(user):
    """The last line: whatever an answer stored on a run holds, only allowed headers leave,
    and the sandbox and nosniff headers are the server's (a replayed delivery sends it)."""
    workflow = make_workflow(owner=user, definition=simple_definition(respond({})))
    first = post(f"/api/webhook/{workflow.pk}", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == 200
    evil = {"Set-Cookie": "sessionid=attacker", "Content-Security-Policy": "script-src *",
            "X-Frame-Options": "ALLOWALL", "X-Content-Type-Options": "none",
            "Access-Control-Allow-Origin": "*", "Content-Type": "text/html", "X-Fine": "1",
            "Location": "javascript:alert(1)"}
    Run.objects.update(response={"status": 200, "headers": evil, "body": "<b>hi</b>"})
    answer = post(f"/api/webhook/{workflow.pk}", HTTP_IDEMPOTENCY_KEY="k1")
    assert answer.status_code == 200
    assert answer["Content-Security-Policy"] == "sandbox"
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert answer["X-Frame-Options"] == "DENY"
    assert "Set-Cookie" not in answer
    assert not answer.cookies
    assert "Access-Control-Allow-Origin" not in answer
    assert "Location" not in answer
    assert answer["Content-Type"] == "text/html"
    assert answer["X-Fine"] == "1"
    assert Run.objects.count() == 1


def test_a_content_type_rendered_by_an_expression_is_checked_at_run_time(user):
    workflow = make_workflow(owner=user, definition=simple_definition(
        respond({"Content-Type": "{{ 'image/svg' + '+xml' }}"}, "<svg/>")))
    answer = post(f"/api/webhook/{workflow.pk}")
    assert answer.status_code == 500
    assert answer["Content-Type"] == "application/json"
    assert "image/svg+xml" in answer.json()["error"]
    assert answer["Content-Security-Policy"] == "sandbox"


def test_every_webhook_and_resume_answer_is_sandboxed(user):
    workflow = make_workflow(owner=user, definition=simple_definition())
    answers = [
        post(f"/api/webhook/{workflow.pk}"),  # 200
        post(f"/api/webhook/{workflow.pk}?wait=false"),  # 202
        post("/api/webhook/999999"),  # 404
        post(f"/api/webhook/{workflow.pk}", b"a=1", "application/x-www-form-urlencoded"),
        post(f"/api/webhook/{workflow.pk}", b"{"),  # 400
        Client().get(f"/api/webhook/{workflow.pk}"),  # 405
        post("/api/resume/1-nope"),  # 404
        Client().get("/api/resume/1-nope"),  # 405
    ]
    assert [a.status_code for a in answers] == [200, 202, 404, 415, 400, 405, 404, 405]
    for answer in answers:
        assert answer["Content-Security-Policy"] == "sandbox"
        assert answer["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "text/plain"])
def test_an_empty_cross_site_form_post_starts_no_run(user, content_type):
    """A browser's form can send only these types; an empty body used to skip the check."""
    workflow = make_workflow(owner=user, definition=simple_definition(
        respond({"Content-Type": "text/html"})))
    answer = post(f"/api/webhook/{workflow.pk}", b"", content_type, CONTENT_TYPE=content_type)
    assert answer.status_code == 415
    assert answer.json()["code"] == "unsupported_media_type"
    assert not Run.objects.exists()


# --- item 1: a webhook origin of its own ---------------------------------------------------

@pytest.fixture
def webhook_origin(settings):
    settings.ALLOWED_HOSTS = ["app.test", "hooks.test"]
    settings.WFAIB = {**settings.WFAIB, "WEBHOOK_HOSTS": ["hooks.test"],
                      "WEBHOOK_BASE_URL": "https://hooks.test",
                      "BASE_URL": "https://app.test"}


def test_webhook_host_serves_webhooks_only_and_the_app_host_no_webhooks(
        webhook_origin, user, api):
    workflow = make_workflow(owner=user, definition=simple_definition())
    hooks, app = Client(HTTP_HOST="hooks.test"), Client(HTTP_HOST="app.test")

    answer = post(f"/api/webhook/{workflow.pk}?wait=false", client=hooks)
    assert answer.status_code == 202
    assert answer.json()["url"].startswith("https://app.test/api/runs/")  # the API's origin
    assert hooks.get("/api/health").status_code == 200
    for path in ("/admin/", "/admin/login/", "/api/auth/me", "/api/workflows", "/api/docs/"):
        refused = hooks.get(path)
        assert refused.status_code == 404, path
        assert refused.json()["code"] == "not_found"

    on_app = post(f"/api/webhook/{workflow.pk}", client=app)
    assert on_app.status_code == 404
    assert "https://hooks.test" in on_app.json()["message"]
    assert post("/api/resume/1-x", client=app).status_code == 404
    assert Run.objects.count() == 1
    assert app.get("/admin/login/").status_code == 200

    shown = api.get(f"/api/workflows/{workflow.pk}", HTTP_HOST="app.test").json()
    assert shown["webhook_url"] == f"https://hooks.test/api/webhook/{workflow.pk}"


def test_resume_urls_use_the_webhook_origin(webhook_origin):
    from runs.engine.resume_tokens import resume_url

    assert resume_url("1-abc") == "https://hooks.test/api/resume/1-abc"



@pytest.mark.parametrize(("host", "extra"), [
    ("127.0.0.1:8000", {}),
    ("[::1]:8000", {}),
    ("App.Test", {}),
    ("app.test:443", {"HTTP_X_FORWARDED_PROTO": "https"}),
])
def test_a_runs_url_is_the_absolute_uri_django_builds(settings, host, extra):
    """run_url joins scheme, validated host and path itself: the same URL as
    build_absolute_uri, for every form of host the request may carry."""
    from django.test import RequestFactory

    from wfaib.url_paths import numbered_path
    from wfaib.webhook_origin import run_url

    settings.ALLOWED_HOSTS = ["127.0.0.1", "[::1]", "app.test"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    request = RequestFactory().post("/api/webhook/1", HTTP_HOST=host, **extra)
    expected = request.build_absolute_uri(numbered_path("run-detail", "pk", 42))
    assert run_url(request, 42) == expected
    assert expected.endswith("/api/runs/42")


@pytest.mark.parametrize("host", ["evil.test", "app.test@evil.test", "app.test/x", "a b"])
def test_a_runs_url_refuses_a_host_django_refuses(settings, host):
    from django.core.exceptions import DisallowedHost
    from django.test import RequestFactory

    from wfaib.webhook_origin import run_url

    settings.ALLOWED_HOSTS = ["app.test"]
    with pytest.raises(DisallowedHost):
        run_url(RequestFactory().post("/api/webhook/1", HTTP_HOST=host), 42)


def test_webhook_hosts_follow_the_setting(settings):
    from wfaib.webhook_origin import webhook_hosts

    assert webhook_hosts() == frozenset()
    settings.WFAIB = {**settings.WFAIB, "WEBHOOK_HOSTS": [" Hooks.Test. ", "", "b.test"]}
    assert webhook_hosts() == {"hooks.test", "b.test"}
    settings.WFAIB = {**settings.WFAIB, "WEBHOOK_HOSTS": ["c.test"]}
    assert webhook_hosts() == {"c.test"}

# --- item 8: deep and odd JSON -------------------------------------------------------------

@pytest.fixture
def echo(user):
    return make_workflow(owner=user, definition=simple_definition(
        {"id": "out", "type": "transform", "config": {"expression": "input"}}))


def test_json_nested_past_the_api_limit_is_400_naming_where(echo, settings):
    limit = settings.WFAIB["JSON_MAX_DEPTH"]
    ok = "[" * limit + "]" * limit
    assert post(f"/api/webhook/{echo.pk}?wait=false", ok.encode()).status_code == 202
    for depth in (limit + 1, 1000, 100_000):
        body = '{"a": ' + "[" * depth + "]" * depth + "}"
        answer = post(f"/api/webhook/{echo.pk}", body.encode())
        assert answer.status_code == 400, depth
        assert answer.json()["code"] == "json_too_deep"
        assert f"deeper than {limit} levels" in answer.json()["message"]
    answer = post(f"/api/webhook/{echo.pk}", ('{"a": ' + "[" * (limit + 1) + "]" * (limit + 1)
                                             + "}").encode())
    assert "at a" + "[0]" * (limit - 1) in answer.json()["message"]
    assert Run.objects.count() == 1


@pytest.mark.parametrize("content_type", [
    "application/json; charset=utf-16", "application/json; charset=latin-1",
    "application/evil+json", "text/json",
])
def test_json_that_cannot_be_read_faithfully_is_415(echo, content_type):
    # A str body is encoded by the test client in the content type's charset (UTF-16 here).
    answer = post(f"/api/webhook/{echo.pk}", '{"name": "Ada"}', content_type)
    assert answer.status_code == 415, answer.content
    assert answer.json()["code"] == "unsupported_media_type"
    assert not Run.objects.exists()


def test_documented_json_types_are_read(echo):
    for content_type in ("application/json; charset=UTF-8", "application/vnd.api+json",
                         "application/cloudevents+json"):
        answer = post(f"/api/webhook/{echo.pk}", b'{"a": 1}', content_type)
        assert answer.status_code == 200, content_type
        assert answer.json()["result"] == {"a": 1}


def test_a_repeated_key_is_400_naming_it(echo):
    answer = post(f"/api/webhook/{echo.pk}", b'{"user": {"role": "user", "role": "admin"}}')
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_json"
    assert "'role' appears twice" in answer.json()["message"]
    assert not Run.objects.exists()


def test_nan_and_infinity_are_refused(echo):
    for body in (b'{"a": NaN}', b'{"a": Infinity}', b'[-Infinity]'):
        assert post(f"/api/webhook/{echo.pk}", body).status_code == 400


def test_large_integers_are_kept_exactly_or_refused_naming_where(echo):
    exact = {"max": 2 ** 64 - 1, "min": -(2 ** 63), "big": 2 ** 63 + 1}
    answer = post(f"/api/webhook/{echo.pk}", json.dumps(exact).encode())
    assert answer.status_code == 200, answer.content
    assert json.loads(answer.content)["result"] == exact
    run = Run.objects.get()
    assert run.input == exact
    assert run.result == exact
    for value, where in ((2 ** 64, "at n"), (-(2 ** 63) - 1, "at n"),
                         (10 ** 30, "at n")):
        refused = post(f"/api/webhook/{echo.pk}", json.dumps({"n": value}).encode())
        assert refused.status_code == 400
        assert refused.json()["code"] == "number_out_of_range"
        assert where in refused.json()["message"]
    refused = post(f"/api/webhook/{echo.pk}", json.dumps({"a": [1, {"b": 2 ** 70}]}).encode())
    assert "at a[1].b" in refused.json()["message"]
    assert Run.objects.count() == 1


def test_resume_reads_json_as_the_webhook_does():
    for body, content_type, code in ((b'{"a": 1, "a": 2}', "application/json", "invalid_json"),
                                     (b"{}", "application/json; charset=utf-16",
                                      "unsupported_media_type"),
                                     (b"[" * 500 + b"]" * 500, "application/json",
                                      "json_too_deep")):
        answer = post("/api/resume/1-nope", body, content_type)
        assert answer.json()["code"] == code


# --- item 9: probing workflow ids ------------------------------------------------------------

def test_probing_ids_cannot_tell_a_protected_workflow_from_a_missing_one(user):
    hmac = make_workflow(owner=user, webhook_auth="hmac", webhook_secret=new_webhook_secret())
    token = make_workflow(owner=user, webhook_auth="token", webhook_secret="tok")
    inactive = make_workflow(owner=user, is_active=False)
    missing = max(hmac.pk, token.pk, inactive.pk) + 1000
    answers = {pk: post(f"/api/webhook/{pk}", b'{"probe": 1}')
               for pk in (hmac.pk, token.pk, inactive.pk, missing)}
    shapes = {(a.status_code, a.json()["code"],
               a.json()["message"].replace(str(pk), "ID"), a.get("Content-Type"))
              for pk, a in answers.items()}
    assert len(shapes) == 1, shapes
    assert shapes.pop()[:2] == (404, "workflow_not_found")
    # An oversized body answers alike too, before the id is even looked up.
    big = b'{"a": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    assert {post(f"/api/webhook/{pk}", big).status_code for pk in answers} == {413}
    assert not Run.objects.exists()
