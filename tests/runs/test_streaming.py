"""A streamed model answer is visible while the node works (GET /api/runs/{id}/partial, polled
by the run viewer) and stored once, in the node's log, when it ends."""

import threading
import time

import pytest
from rest_framework.test import APIClient

from runs.engine import partial
from runs.engine.executor import execute_run
from runs.models import Run
from runs.services import run_start
from tests.factories import UserFactory, make_workflow, simple_definition


def wait_for(check, what, limit=30.0):
    """Poll `check()` until it returns something truthy (a bound on a hang, not a timing
    assertion)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_tokens_stream_into_the_run_while_the_node_works(llm_server, provider):
    owner = UserFactory()
    base = llm_server.url + ("/v1" if provider == "openai" else "")
    workflow = make_workflow(owner=owner, definition=simple_definition({
        "id": "ask", "type": "llm", "config": {
            "prompt": "tell me", "provider": provider, "base_url": base, "api_key": "sk-test",
            "model": "m"}}))
    llm_server.reply("Once upon a time")
    llm_server.gate = threading.Event()  # the stream pauses after "Once "
    run = run_start(workflow=workflow, input={}, execute=False)
    worker = threading.Thread(target=execute_run, args=(run.pk,))
    worker.start()
    api = APIClient()
    api.force_authenticate(owner)
    try:
        seen = wait_for(lambda: api.get(f"/api/runs/{run.pk}/partial").json()["nodes"].get(
            "ask"), "the first streamed piece")
        assert seen["text"] == "Once "
        assert api.get(f"/api/runs/{run.pk}").json()["status"] == "running"
    finally:
        llm_server.gate.set()
        worker.join(30)
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.result["content"] == "Once upon a time"
    assert run.logs.get(node_id="ask").output["content"] == "Once upon a time"
    assert api.get(f"/api/runs/{run.pk}/partial").json() == {
        "run": run.pk, "status": "succeeded", "nodes": {}}
    assert partial.read(run.pk, ["ask"]) == {}  # dropped when the node ended


@pytest.mark.django_db
def test_partial_output_is_shown_only_to_who_may_see_the_run(llm_server):
    from tests.factories import run_now

    owner, stranger = UserFactory(), UserFactory()
    run = run_now(make_workflow(owner=owner), input={})
    Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING)
    partial.publish(run.pk, "trigger", "", "<b>secret plans</b>")
    api = APIClient()
    api.force_authenticate(stranger)
    assert api.get(f"/api/runs/{run.pk}/partial").status_code == 404
    api.force_authenticate(owner)
    nodes = api.get(f"/api/runs/{run.pk}/partial").json()["nodes"]
    assert nodes["trigger"]["text"] == "<b>secret plans</b>"  # JSON; the viewer sets textContent


def test_the_meter_throttles_what_it_publishes():
    from runs.engine.metering import UsageMeter

    sent = []
    meter = UsageMeter(publish=sent.append, interval=3600)
    for text in ("a", "ab", "abc"):
        meter.partial(text)
    assert sent == ["a"]  # the first piece at once, the rest within the interval held back
    eager = UsageMeter(publish=sent.append, interval=0)
    eager.partial("x")
    eager.partial("xy")
    assert sent[-2:] == ["x", "xy"]


@pytest.mark.django_db(transaction=True)
def test_no_known_secret_is_shown_while_the_answer_streams(llm_server, settings):
    """The node's API key, echoed by the model, is scrubbed from the partial output as from
    the stored one; each piece is checked while the stream waits for the next."""
    settings.WFAIB = {**settings.WFAIB, "LLM_STREAM_INTERVAL": 0}
    owner = UserFactory()
    workflow = make_workflow(owner=owner, definition=simple_definition({
        "id": "ask", "type": "llm", "config": {
            "prompt": "tell me", "base_url": llm_server.url + "/v1", "api_key": "sk-test",
            "model": "m"}}))
    llm_server.reply("sk-test is my key")
    llm_server.steps = threading.Semaphore(0)  # the stream waits after each piece
    run = run_start(workflow=workflow, input={}, execute=False)
    worker = threading.Thread(target=execute_run, args=(run.pk,))
    worker.start()
    api = APIClient()
    api.force_authenticate(owner)

    def shown():
        return api.get(f"/api/runs/{run.pk}/partial").json()["nodes"].get("ask", {}).get("text")

    try:
        for expected in ("*** ", "*** is ", "*** is my ", "*** is my key"):
            assert wait_for(lambda expected=expected: shown() == expected, expected)
            llm_server.steps.release()
    finally:
        llm_server.steps.release(100)
        worker.join(30)
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.logs.get(node_id="ask").output["content"] == "*** is my key"


def test_the_start_of_a_secret_is_held_back_until_the_text_goes_past_it():
    from runs.engine.credentials import CredentialResolver

    resolver = CredentialResolver(project_id=None)
    resolver.remember(["sk-abcdef", "tok"])
    assert resolver.scrub_stream("my key is sk-ab") == "my key is "
    assert resolver.scrub_stream("my key is sk-abcdef") == "my key is ***"
    assert resolver.scrub_stream("my key is sk-abx") == "my key is sk-abx"  # not the secret
    assert resolver.scrub_stream("to") == ""  # could become "tok"
    assert resolver.scrub_stream("tomato") == "toma"  # its end could become "tok"
    assert resolver.scrub_stream("tomato.") == "tomato."
    assert resolver.scrub_stream("s" * 5 + "sk-") == "sssss"
    assert CredentialResolver(project_id=None).scrub_stream("sk-ab") == "sk-ab"  # none known


@pytest.mark.django_db(transaction=True)
def test_a_test_run_from_the_editor_streams_to_its_owner_only(llm_server):
    """The editor's use: a test run started through the API ({"mode": "workflow"}) runs on
    the inline executor; its owner polls the partial output, an outsider's session or API
    token finds no such run."""
    from accounts.tokens import token_create

    owner, stranger = UserFactory(), UserFactory()
    workflow = make_workflow(owner=owner, definition=simple_definition({
        "id": "ask", "type": "llm", "config": {
            "prompt": "tell me", "base_url": llm_server.url + "/v1", "api_key": "sk-test",
            "model": "m"}}))
    llm_server.reply("Once upon a time")
    llm_server.gate = threading.Event()
    api = APIClient()
    api.force_authenticate(owner)
    started = api.post(f"/api/workflows/{workflow.pk}/runs", {"input": {}, "mode": "workflow"},
                       format="json")
    assert started.status_code == 202, started.json()
    run_id = started.json()["id"]
    try:
        assert Run.objects.get(pk=run_id).trigger == Run.Trigger.TEST
        wait_for(lambda: api.get(f"/api/runs/{run_id}/partial").json()["nodes"].get("ask"),
                 "the first streamed piece")
        outsider = APIClient()
        outsider.force_authenticate(stranger)
        assert outsider.get(f"/api/runs/{run_id}/partial").status_code == 404
        _, key = token_create(user=stranger, name="t")
        by_token = APIClient()
        by_token.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert by_token.get("/api/runs").status_code == 200  # the token works
        assert by_token.get(f"/api/runs/{run_id}/partial").status_code == 404
    finally:
        llm_server.gate.set()
    wait_for(lambda: Run.objects.get(pk=run_id).is_finished, "the run's end")
