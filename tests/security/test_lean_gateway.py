"""The lean gateway (wfaib/lean_gateway.py): public webhook paths skip sessions, CSRF, auth,
messages, the audit context and axes, and still carry every security header; other paths keep
the whole stack."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import make_workflow, simple_definition

pytestmark = pytest.mark.django_db(transaction=True)

HARDENED = {"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}


def respond_node() -> dict:
    return {"id": "answer", "type": "respond",
            "config": {"status": 201, "headers": {"Content-Type": "text/html"},
                       "body": "<b>hi</b>"}}


def assert_lean_and_hardened(answer) -> None:
    for name, value in HARDENED.items():
        assert answer[name] == value, name
    assert answer["Cross-Origin-Opener-Policy"] == "same-origin"  # SecurityMiddleware, above
    assert "Set-Cookie" not in answer
    assert answer["Content-Length"] == str(len(answer.content))
    assert not answer.cookies
    assert "Cookie" not in answer.get("Vary", "")
    request = answer.wsgi_request  # the middleware below the lean one never ran
    assert not hasattr(request, "session")
    assert not hasattr(request, "user")
    assert not hasattr(request, "_messages")


@pytest.fixture
def signed_in(admin_user) -> Client:
    client = Client(enforce_csrf_checks=True)  # a browser with a session and CSRF checks on
    client.force_login(admin_user)
    return client


def test_webhook_answers_of_every_kind_are_lean_and_hardened(user, signed_in):
    workflow = make_workflow(owner=user, definition=simple_definition())
    answering = make_workflow(owner=user, definition=simple_definition(respond_node()))
    answering.webhook_path = "answer-me"
    answering.save()
    answers = [
        signed_in.post(f"/api/webhook/{workflow.pk}", b"{}", content_type="application/json"),
        signed_in.post(f"/api/webhook/{workflow.pk}?wait=false", b"{}",
                       content_type="application/json"),
        signed_in.post("/hook/answer-me", b"{}", content_type="application/json"),
        signed_in.post("/api/webhook/999999", b"{}", content_type="application/json"),
        signed_in.post(f"/api/webhook/{workflow.pk}", b"{", content_type="application/json"),
        signed_in.get(f"/api/webhook/{workflow.pk}"),
        signed_in.post(f"/hook/test/{workflow.pk}", b"{}", content_type="application/json"),
    ]
    assert [a.status_code for a in answers] == [200, 202, 201, 404, 400, 405, 404]
    assert answers[2].content == b"<b>hi</b>"
    for answer in answers:
        assert_lean_and_hardened(answer)


def test_an_unknown_path_under_the_prefix_takes_the_whole_stack():
    answer = Client().post("/hook/a/b/c", b"{}", content_type="application/json")
    assert answer.status_code == 404
    assert hasattr(answer.wsgi_request, "session")


def test_other_paths_keep_sessions_auth_and_the_app_policy(signed_in):
    answer = signed_in.get("/api/auth/me")
    assert answer.status_code == 200
    assert answer.wsgi_request.user.is_authenticated
    assert "default-src 'self'" in answer["Content-Security-Policy"]


def test_a_path_is_resolved_once_and_then_kept(user, monkeypatch):
    from django.urls import URLResolver

    from wfaib import lean_gateway

    workflow = make_workflow(owner=user, definition=simple_definition())
    lean_gateway.resolved.cache_clear()
    calls: list[str] = []
    resolve = URLResolver.resolve

    def counted(self, path):
        calls.append(path)
        return resolve(self, path)

    monkeypatch.setattr(URLResolver, "resolve", counted)
    client = Client()
    answers = [client.post(f"/api/webhook/{workflow.pk}?wait=false", b"{}",
                           content_type="application/json")]
    first = list(calls)
    assert first[0] == f"/api/webhook/{workflow.pk}"  # the root resolver, then included ones
    answers += [client.post(f"/api/webhook/{workflow.pk}?wait=false", b"{}",
                            content_type="application/json") for _ in range(2)]
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert calls == first  # not resolved again
    assert answers[2].wsgi_request.resolver_match.url_name == "webhook"


def test_a_changed_url_configuration_resolves_anew(user, settings):
    workflow = make_workflow(owner=user, definition=simple_definition())
    path = f"/api/webhook/{workflow.pk}?wait=false"
    assert Client().post(path, b"{}", content_type="application/json").status_code == 202
    settings.ROOT_URLCONF = "tests.wfaib.urls_meta"  # no webhook there
    assert Client().post(path, b"{}", content_type="application/json").status_code == 404


def test_a_flood_of_new_paths_keeps_at_most_the_bound(monkeypatch):
    from wfaib import lean_gateway

    lean_gateway.resolved.cache_clear()
    client = Client()
    for n in range(40):
        client.post(f"/hook/flood-{n}", b"{}", content_type="application/json")
    info = lean_gateway.resolved.cache_info()
    assert info.misses == 40
    assert info.currsize == 40
    assert info.maxsize == lean_gateway.RESOLVED_PATHS <= 10_000
