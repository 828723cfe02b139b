"""The webhook gateway's steps (runs/webhooks/gateway.py), each on its own: every refusal is
one WebhookRejected, and the lookup and the authentication refuse alike."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from runs.webhooks import gateway
from runs.webhooks.http import PublicPostView
from runs.webhooks.rejected import WebhookRejected
from tests.factories import make_workflow
from workflows.models import Workflow
from workflows.services import new_webhook_secret


def request(body: bytes = b"{}", content_type: str = "application/json", query: str = "",
            **headers: str):
    return RequestFactory().post(f"/api/webhook/1{query}", body, content_type=content_type,
                                 headers=headers)


def rejection(call) -> WebhookRejected:
    with pytest.raises(WebhookRejected) as caught:
        call()
    return caught.value


@pytest.mark.django_db
def test_an_unknown_an_inactive_and_an_unauthenticated_workflow_are_refused_alike(user):
    inactive = make_workflow(owner=user)
    Workflow.objects.filter(pk=inactive.pk).update(is_active=False)
    guarded = make_workflow(owner=user)
    Workflow.objects.filter(pk=guarded.pk).update(webhook_auth="token",
                                                 webhook_secret=new_webhook_secret())
    refusals = [
        rejection(lambda: gateway.find(987654)),
        rejection(lambda: gateway.find(inactive.pk)),
        rejection(lambda: gateway.authenticate(request(), gateway.find(guarded.pk), b"{}")),
        rejection(lambda: gateway.authenticate(request(**{"X-Webhook-Token": "wrong"}),
                                               gateway.find(guarded.pk), b"{}")),
    ]
    ids = [987654, inactive.pk, guarded.pk, guarded.pk]
    shapes = {(r.status, r.code, r.message.replace(str(i), "N"), tuple(r.headers))
              for r, i in zip(refusals, ids, strict=True)}
    assert len(shapes) == 1
    assert next(iter(shapes))[:2] == (404, "workflow_not_found")


@pytest.mark.django_db
def test_the_rate_limits_say_when_to_retry(settings, rate_window):
    settings.WFAIB = {**settings.WFAIB, "WEBHOOK_RATE_PER_CLIENT": 1}
    gateway.limit_client(request())
    limited = rejection(lambda: gateway.limit_client(request()))
    assert (limited.status, limited.code) == (429, "rate_limited")
    assert int(limited.headers["Retry-After"]) >= 1


@pytest.mark.parametrize(("body", "content_type", "status", "code"), [
    (b"a=1", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    (b"hi", "text/plain", 415, "unsupported_media_type"),
    (b"{nope", "application/json", 400, "invalid_json"),
    (b'{"a": 1, "a": 2}', "application/json", 400, "invalid_json"),
])
def test_parse_refuses_what_is_not_json(body, content_type, status, code):
    refused = rejection(lambda: gateway.parse(request(body, content_type), body))
    assert (refused.status, refused.code) == (status, code)


def test_an_empty_body_must_still_be_sent_as_json():
    # A browser's cross-site form POST never starts a run, even with nothing in it.
    form = RequestFactory().post("/api/webhook/1", CONTENT_TYPE="multipart/form-data; b=x")
    assert form.content_type == "multipart/form-data"
    assert rejection(lambda: gateway.parse(form, b"")).status == 415


def test_parse_reads_json_and_an_empty_body():
    assert gateway.parse(request(b'{"a": [1]}'), b'{"a": [1]}').body == {"a": [1]}
    assert gateway.parse(request(b""), b"").body == {}


def test_deduplicate_takes_the_signed_id_first_and_refuses_long_keys():
    assert gateway.deduplicate(request(**{"webhook-id": "w", "Idempotency-Key": "i"}),
                               "signed") == "signed"
    assert gateway.deduplicate(request(**{"webhook-id": "w", "Idempotency-Key": "i"}),
                               "") == "w"
    assert gateway.deduplicate(request(**{"Idempotency-Key": "i"}), "") == "i"
    too_long = rejection(lambda: gateway.deduplicate(request(**{"Idempotency-Key": "k" * 201}),
                                                     ""))
    assert (too_long.status, too_long.code) == (400, "invalid_parameter")


@pytest.mark.django_db
def test_wants_sync_reads_wait_then_the_workflow_mode(user):
    workflow = make_workflow(owner=user)
    workflow.webhook_mode = Workflow.WebhookMode.SYNC
    assert gateway.wants_sync(request(query="?wait=false"), workflow) is False
    assert gateway.wants_sync(request(), workflow) is True
    workflow.webhook_mode = Workflow.WebhookMode.ASYNC
    assert gateway.wants_sync(request(query="?wait=1"), workflow) is True
    bad = rejection(lambda: gateway.wants_sync(request(query="?wait=maybe"), workflow))
    assert (bad.status, bad.code) == (400, "invalid_parameter")


def test_a_public_door_answers_a_rejection_as_hardened_json():
    class Door(PublicPostView):
        def post(self, request, **kwargs):
            raise WebhookRejected(418, "teapot", "no coffee", {"Retry-After": "5"})

    answer = Door.as_view()(request())
    assert answer.status_code == 418
    assert answer["Content-Type"] == "application/json"
    assert answer.content == b'{"code":"teapot","message":"no coffee"}'
    assert answer["Retry-After"] == "5"
    assert answer["Content-Security-Policy"] == "sandbox"
    assert answer["X-Content-Type-Options"] == "nosniff"
    refused = Door.as_view()(RequestFactory().put("/x"))
    assert (refused.status_code, refused["Allow"]) == (405, "POST")
    assert refused["Content-Security-Policy"] == "sandbox"
