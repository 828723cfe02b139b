"""The webhook gateway: modes, per-workflow auth (token, Standard Webhooks HMAC, rotation),
idempotency, limits (rate, body size, content type, JSON), unknown/inactive workflows."""

import datetime as dt
import threading
import time

import pytest
from django.test import Client
from django.utils import timezone

from nodes.base import NodeType, Wait
from nodes.registry import registry
from runs.models import Run
from runs.webhooks.signatures import sign
from tests.factories import make_workflow, simple_definition
from workflows.models import Workflow
from workflows.services import new_webhook_secret

SECRET = new_webhook_secret()


def transform(node_id, expression):
    return {"id": node_id, "type": "transform", "config": {"expression": expression}}


def post(client, workflow, body=b'{"name": "Ada"}', query="", content_type="application/json",
         **headers):
    return client.post(f"/api/webhook/{workflow.pk}{query}", body, content_type=content_type,
                       headers=headers)


def signed_headers(body, secret=SECRET, msg_id="msg_1", timestamp=None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, msg_id, timestamp, body)}


@pytest.fixture
def client():
    return Client()


def assert_refused_like_an_unknown_id(response, caplog, reason):
    """An auth failure answers exactly as an unknown workflow id does (issue 17, item 9); the
    precise reason goes to the operator's log only."""
    assert response.status_code == 404
    body = response.json()
    unknown = Client().post("/api/webhook/999999", b"{}", content_type="application/json")
    assert body == {**unknown.json(), "message": unknown.json()["message"].replace(
        "999999", response.request["PATH_INFO"].rsplit("/", 1)[1])}
    assert body["code"] == "workflow_not_found"
    assert reason in caplog.text


@pytest.fixture(autouse=True)
def _runs_settle_before_teardown(request):
    """Let runs started on the pool finish before the test's database is flushed (a respond
    node answers the caller while its run goes on)."""
    yield
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    from runs.dispatch import wait_for_run

    for run_id in Run.objects.exclude(status__in=Run.FINISHED).values_list("id", flat=True):
        wait_for_run(run_id, 30)


@pytest.fixture
def greeter(user):
    return make_workflow(owner=user, definition=simple_definition(
        transform("greet", "'Hello ' + input['name']")))


# --- modes -----------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_sync_webhook_answers_with_the_result(client, greeter):
    response = post(client, greeter)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "succeeded"
    assert body["result"] == "Hello Ada"
    run = Run.objects.get(pk=body["run"])
    assert run.trigger == "webhook"
    assert run.input == {"name": "Ada"}


@pytest.mark.django_db(transaction=True)
def test_sync_webhook_with_a_failed_run_is_500_with_the_error(client, user):
    workflow = make_workflow(owner=user, definition=simple_definition(transform("boom", "1/0")))
    response = post(client, workflow)
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "run_failed"
    assert body["status"] == "failed"
    assert body["error_node_id"] == "boom"
    assert body["error"]
    assert body["url"].endswith(f"/api/runs/{body['run']}")


@pytest.mark.django_db(transaction=True)
def test_sync_webhook_answers_with_the_respond_nodes_response(client, user):
    respond = {"id": "r", "type": "respond", "config": {
        "status": 201, "headers": {"X-Greeting": "hi"}, "body": {"got": "{{ input.name }}"}}}
    if "respond" not in registry:
        pytest.skip("no respond node type registered")
    workflow = make_workflow(owner=user, definition=simple_definition(respond))
    response = post(client, workflow)
    assert response.status_code == 201, response.content
    assert response["X-Greeting"] == "hi"
    assert response.json() == {"got": "Ada"}


class BlockingNode(NodeType):
    """Waits until the test releases it, so the webhook's wait times out deterministically."""

    type = "test_blocking"
    label = "Blocking"
    release = threading.Event()

    def run(self, ctx, config, input):
        self.release.wait(30)
        return input


class WaitingNode(NodeType):
    type = "test_waiting"
    label = "Waiting"

    def run(self, ctx, config, input):
        return Wait(resume_at=None)


@pytest.mark.django_db(transaction=True)
def test_sync_webhook_past_the_timeout_answers_202_and_the_run_goes_on(client, user, settings):
    settings.WFAIB = {**settings.WFAIB, "WEBHOOK_SYNC_TIMEOUT": 0.05}
    BlockingNode.release.clear()
    with registry.temporarily(BlockingNode):
        workflow = make_workflow(owner=user, definition=simple_definition(
            {"id": "block", "type": "test_blocking", "config": {}}))
        try:
            response = post(client, workflow)
        finally:
            BlockingNode.release.set()
        assert response.status_code == 202
        body = response.json()
        assert body["status"] in ("queued", "running")
        assert response["Location"] == body["url"]
        from runs.dispatch import wait_for_run

        assert wait_for_run(body["run"], 30)
    assert Run.objects.get(pk=body["run"]).status == "succeeded"


@pytest.mark.django_db(transaction=True)
def test_sync_webhook_of_a_run_that_waits_answers_202(client, user):
    with registry.temporarily(WaitingNode):
        workflow = make_workflow(owner=user, definition=simple_definition(
            {"id": "wait", "type": "test_waiting", "config": {}}))
        response = post(client, workflow)
    assert response.status_code == 202
    assert response.json()["status"] == "waiting"


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "mode"), [("?wait=false", "sync"), ("", "async"),
                                             ("?wait=0", "sync")])
def test_async_answers_202_at_once_with_the_recorded_run(client, greeter, query, mode):
    Workflow.objects.filter(pk=greeter.pk).update(webhook_mode=mode)
    response = post(client, greeter, query=query)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert body["url"] == f"http://testserver/api/runs/{body['run']}"
    assert Run.objects.get(pk=body["run"]).input == {"name": "Ada"}


@pytest.mark.django_db
def test_empty_body_starts_a_run_with_an_empty_object_as_input(client, greeter):
    response = post(client, greeter, body=b"", query="?wait=false", content_type="")
    assert response.status_code == 202
    assert Run.objects.get(pk=response.json()["run"]).input == {}


@pytest.mark.django_db(transaction=True)
def test_empty_body_reads_as_missing_keys_in_expressions(client, user):
    workflow = make_workflow(owner=user, definition=simple_definition(
        transform("greet", "'Hello ' + input.get('name', 'world')")))
    response = post(client, workflow, body=b"", content_type="")
    assert response.status_code == 200, response.content
    assert response.json()["result"] == "Hello world"


@pytest.mark.django_db
def test_bad_wait_parameter_is_400(client, greeter):
    response = post(client, greeter, query="?wait=maybe")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_parameter"
    assert not Run.objects.exists()


# --- input errors ----------------------------------------------------------------------------

@pytest.mark.django_db
def test_unknown_and_inactive_workflows_are_404(client, greeter):
    response = client.post("/api/webhook/999999", b"{}", content_type="application/json")
    assert response.status_code == 404
    assert response.json()["code"] == "workflow_not_found"
    Workflow.objects.filter(pk=greeter.pk).update(is_active=False)
    assert post(client, greeter).status_code == 404
    assert not Run.objects.exists()


@pytest.mark.django_db
def test_invalid_json_is_400(client, greeter):
    response = post(client, greeter, body=b'{"name": ')
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"
    assert not Run.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_non_json_content_type_is_415(client, greeter, content_type):
    response = post(client, greeter, body=b"name=Ada", content_type=content_type)
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


@pytest.mark.django_db
def test_json_suffix_content_types_are_accepted(client, greeter):
    response = post(client, greeter, query="?wait=false",
                    content_type="application/cloudevents+json; charset=utf-8")
    assert response.status_code == 202


@pytest.mark.django_db
def test_body_over_the_limit_is_413(client, greeter, settings):
    settings.WFAIB = {**settings.WFAIB, "WEBHOOK_MAX_BODY": 100}
    ok = post(client, greeter, body=b'{"a": "' + b"x" * 80 + b'"}', query="?wait=false")
    assert ok.status_code == 202
    response = post(client, greeter, body=b'{"a": "' + b"x" * 200 + b'"}')
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert Run.objects.count() == 1


@pytest.mark.django_db
def test_get_is_405(client, greeter):
    response = client.get(f"/api/webhook/{greeter.pk}")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


# --- rate limits -----------------------------------------------------------------------------

@pytest.mark.django_db
def test_rate_limit_per_workflow_is_429_with_retry_after(client, greeter, user, settings,
                                                        rate_window):
    settings.WFAIB = {**settings.WFAIB, "WEBHOOK_RATE_PER_WORKFLOW": 2,
                      "WEBHOOK_RATE_PER_CLIENT": 0}
    codes = [post(client, greeter, query="?wait=false").status_code for _ in range(2)]
    limited = post(client, greeter, query="?wait=false")
    assert codes == [202, 202]
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= rate_window + 1
    assert Run.objects.count() == 2
    other = make_workflow(owner=user)  # its own allowance
    assert post(client, other, query="?wait=false").status_code == 202


@pytest.mark.django_db
def test_rate_limit_per_client_address(greeter, user, settings, rate_window):
    settings.WFAIB = {**settings.WFAIB, "WEBHOOK_RATE_PER_WORKFLOW": 0,
                      "WEBHOOK_RATE_PER_CLIENT": 1}
    first, second = Client(REMOTE_ADDR="10.0.0.1"), Client(REMOTE_ADDR="10.0.0.2")
    assert post(first, greeter, query="?wait=false").status_code == 202
    assert post(first, make_workflow(owner=user), query="?wait=false").status_code == 429
    assert post(second, greeter, query="?wait=false").status_code == 202
    # X-Forwarded-For is ignored unless trusted ...
    spoofed = post(first, greeter, query="?wait=false", **{"X-Forwarded-For": "10.9.9.9"})
    assert spoofed.status_code == 429
    # ... and used when the deployment says a proxy sets it.
    settings.WFAIB = {**settings.WFAIB, "TRUST_X_FORWARDED_FOR": True}
    proxied = post(first, greeter, query="?wait=false", **{"X-Forwarded-For": "10.9.9.9"})
    assert proxied.status_code == 202
    # Only the hop our proxy appended (the last) counts: a client-written first hop does not
    # buy a fresh allowance.
    forged = post(first, greeter, query="?wait=false",
                  **{"X-Forwarded-For": "1.2.3.4, 10.9.9.9"})
    assert forged.status_code == 429


# --- authentication --------------------------------------------------------------------------

@pytest.fixture
def hmac_workflow(greeter):
    Workflow.objects.filter(pk=greeter.pk).update(webhook_auth="hmac", webhook_secret=SECRET,
                                                  webhook_mode="async")
    greeter.refresh_from_db()
    return greeter


@pytest.mark.django_db
def test_valid_signature_is_accepted(client, hmac_workflow):
    body = b'{"name": "Ada"}'
    response = post(client, hmac_workflow, body=body, **signed_headers(body))
    assert response.status_code == 202, response.content
    run = Run.objects.get(pk=response.json()["run"])
    assert run.idempotency_key == "msg_1"


@pytest.mark.django_db
def test_signature_matches_the_standard_webhooks_reference():
    # The example from the Standard Webhooks specification's reference libraries.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == \
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "code"), [
    ("wrong_secret", "invalid_signature"), ("modified_body", "invalid_signature"),
    ("old_timestamp", "timestamp_out_of_window"), ("future_timestamp", "timestamp_out_of_window"),
    ("missing", "missing_signature"), ("bad_timestamp", "invalid_timestamp"),
])
def test_bad_signatures_answer_as_an_unknown_id(client, hmac_workflow, case, code, caplog):
    body = b'{"name": "Ada"}'
    headers = {
        "wrong_secret": lambda: signed_headers(body, secret=new_webhook_secret()),
        "modified_body": lambda: signed_headers(b'{"name": "Eve"}'),
        "old_timestamp": lambda: signed_headers(body, timestamp=int(time.time()) - 301),
        "future_timestamp": lambda: signed_headers(body, timestamp=int(time.time()) + 360),
        "missing": lambda: {},
        "bad_timestamp": lambda: {**signed_headers(body), "webhook-timestamp": "soon"},
    }[case]()
    with caplog.at_level("INFO", logger="wfaib.webhooks"):
        response = post(client, hmac_workflow, body=body, **headers)
    assert_refused_like_an_unknown_id(response, caplog, code)
    assert not Run.objects.exists()


@pytest.mark.django_db
def test_replayed_webhook_id_returns_the_first_run(client, hmac_workflow):
    body = b'{"name": "Ada"}'
    headers = signed_headers(body, msg_id="msg_replay")
    first = post(client, hmac_workflow, body=body, **headers)
    again = post(client, hmac_workflow, body=body, **headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["run"] == first.json()["run"]
    assert again["Idempotent-Replayed"] == "true"
    assert Run.objects.count() == 1


@pytest.mark.django_db
def test_one_of_several_signatures_may_match(client, hmac_workflow):
    body = b"{}"
    headers = signed_headers(body)
    headers["webhook-signature"] = "v1,bm9wZQ== " + headers["webhook-signature"]
    assert post(client, hmac_workflow, body=body, **headers).status_code == 202


@pytest.mark.django_db
def test_previous_secret_works_during_the_grace_period_only(client, hmac_workflow, settings):
    new = new_webhook_secret()
    Workflow.objects.filter(pk=hmac_workflow.pk).update(
        webhook_secret=new, webhook_previous_secret=SECRET,
        webhook_secret_rotated_at=timezone.now())
    body = b"{}"
    assert post(client, hmac_workflow, body=body,
                **signed_headers(body, msg_id="a")).status_code == 202
    assert post(client, hmac_workflow, body=body,
                **signed_headers(body, secret=new, msg_id="b")).status_code == 202
    Workflow.objects.filter(pk=hmac_workflow.pk).update(
        webhook_secret_rotated_at=timezone.now() - dt.timedelta(
            seconds=settings.WFAIB["WEBHOOK_SECRET_GRACE"] + 1))
    expired = post(client, hmac_workflow, body=body, **signed_headers(body, msg_id="c"))
    assert expired.status_code == 404


@pytest.mark.django_db
def test_rotation_through_the_api_keeps_the_old_secret_working(client, api, hmac_workflow):
    new = api.post(f"/api/workflows/{hmac_workflow.pk}/rotate-secret").json()["webhook_secret"]
    body = b"{}"
    for msg_id, secret in (("old", SECRET), ("new", new)):
        response = post(client, hmac_workflow, body=body,
                        **signed_headers(body, secret=secret, msg_id=msg_id))
        assert response.status_code == 202


@pytest.mark.django_db
def test_token_auth(client, greeter, caplog):
    Workflow.objects.filter(pk=greeter.pk).update(webhook_auth="token", webhook_secret="tok-1",
                                                  webhook_mode="async")
    assert post(client, greeter, **{"X-Webhook-Token": "tok-1"}).status_code == 202
    assert post(client, greeter, Authorization="Bearer tok-1").status_code == 202
    with caplog.at_level("INFO", logger="wfaib.webhooks"):
        wrong = post(client, greeter, **{"X-Webhook-Token": "tok-2"})
        assert_refused_like_an_unknown_id(wrong, caplog, "invalid_token")
        missing = post(client, greeter)
        assert_refused_like_an_unknown_id(missing, caplog, "missing_token")
    assert Run.objects.count() == 2


@pytest.mark.django_db
def test_auth_without_a_secret_refuses_everything(client, greeter, caplog):
    Workflow.objects.filter(pk=greeter.pk).update(webhook_auth="token", webhook_secret="")
    with caplog.at_level("INFO", logger="wfaib.webhooks"):
        response = post(client, greeter, **{"X-Webhook-Token": ""})
    assert_refused_like_an_unknown_id(response, caplog, "no_secret")


# --- idempotency without signatures ----------------------------------------------------------

@pytest.mark.django_db
def test_idempotency_key_returns_the_first_run(client, greeter):
    first = post(client, greeter, query="?wait=false", **{"Idempotency-Key": "order-7"})
    again = post(client, greeter, body=b'{"name": "Bob"}', query="?wait=false",
                 **{"Idempotency-Key": "order-7"})
    assert again.json()["run"] == first.json()["run"]
    assert Run.objects.get().input == {"name": "Ada"}
    other = post(client, greeter, query="?wait=false", **{"Idempotency-Key": "order-8"})
    assert other.json()["run"] != first.json()["run"]


@pytest.mark.django_db(transaction=True)
def test_replayed_sync_delivery_answers_with_the_first_runs_result(client, greeter):
    first = post(client, greeter, **{"Idempotency-Key": "k1"})
    again = post(client, greeter, body=b'{"name": "Bob"}', **{"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.json()["result"] == "Hello Ada"
