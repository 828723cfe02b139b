"""delay, wait_for_webhook and respond: runs that wait without a worker and resume later."""

import datetime as dt

import httpx
import pytest
from django.utils import timezone

from runs.engine.executor import execute_run
from runs.engine.resume_tokens import resume_token
from runs.models import Run, RunLog
from runs.services import ResumeNotFound, run_resume_webhook
from tests.factories import make_workflow, run_now

from .helpers import e, graph, n, settled, statuses, t


def make_due(run: Run) -> None:
    """What the durable scheduler does when a wait's time has come (simulated: time moves)."""
    past = (timezone.now() - dt.timedelta(seconds=1)).isoformat()
    for log in run.logs.filter(status=RunLog.Status.WAITING):
        RunLog.objects.filter(pk=log.pk).update(output={**log.output, "resume_at": past})
    Run.objects.filter(pk=run.pk).update(status=Run.Status.QUEUED)


@pytest.mark.django_db
def test_delay_suspends_and_resumes_after_a_restart_without_repeating_work(api_server):
    api_server.json("GET", "/side-effect", {"n": 41})
    d = graph(n("call", "http", url=api_server.url + "/side-effect"),
              n("wait", "delay", seconds=3600), t("after", "input.body.n + 1"),
              edges=[e("trigger", "call"), e("call", "wait"), e("wait", "after")])
    run = run_now(make_workflow(definition=d))
    assert run.status == Run.Status.WAITING
    assert run.resume_at > timezone.now() + dt.timedelta(minutes=59)
    assert statuses(run) == {"trigger": "succeeded", "call": "succeeded", "wait": "waiting"}

    # Queued again before its time (a restart, a stray dispatch): it just waits again.
    Run.objects.filter(pk=run.pk).update(status=Run.Status.QUEUED)
    assert execute_run(run.pk) == Run.Status.WAITING

    make_due(run)
    assert execute_run(run.pk) == Run.Status.SUCCEEDED  # a fresh RunExecution, from the DB
    run.refresh_from_db()
    assert run.result == 42
    assert run.resume_at is None
    assert api_server.count("/side-effect") == 1
    assert statuses(run)["wait"] == "succeeded"


@pytest.mark.django_db
def test_delay_until_a_past_time_does_not_wait():
    d = graph(n("wait", "delay", until="2000-01-01T00:00:00Z"), t("after", "input"),
              edges=[e("trigger", "wait"), e("wait", "after")])
    run = run_now(make_workflow(definition=d), input="go")
    assert run.status == "succeeded"
    assert run.result == "go"


@pytest.mark.django_db
def test_delay_config_needs_seconds_or_until():
    from workflows.validation import validate_definition

    d = graph(n("wait", "delay"), edges=[e("trigger", "wait")])
    assert "give seconds or until" in validate_definition(d)[0]["message"]
    d = graph(n("wait", "delay", until="tomorrow"), edges=[e("trigger", "wait")])
    assert "not an ISO 8601 time" in validate_definition(d)[0]["message"]


def approval_definition(**wait_config):
    return graph(
        t("link", "run.resume_urls.approve"),
        n("approve", "wait_for_webhook", **wait_config),
        t("decision", "'approved by ' + input.by"),
        t("timed_out", "'no answer'"),
        edges=[e("trigger", "link"), e("link", "approve"), e("approve", "decision"),
               e("approve", "timed_out", "timeout")],
    )


@pytest.mark.django_db(transaction=True)
def test_wait_for_webhook_resumed_by_a_real_http_call(live_server):
    run = run_now(make_workflow(definition=approval_definition()))
    assert run.status == Run.Status.WAITING
    assert run.resume_at is None
    waiting = run.logs.get(node_id="approve")
    token = waiting.output["token"]
    assert token == resume_token(run.pk, "approve")
    # Earlier nodes could hand the URL out; so does the waiting log.
    assert run.logs.get(node_id="link").output.endswith(f"/api/resume/{token}")
    assert waiting.output["resume_url"].endswith(f"/api/resume/{token}")

    url = f"{live_server.url}/api/resume/{token}"
    answer = httpx.post(url, json={"by": "Grace"}, timeout=30)
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"run": run.pk, "status": "queued"}
    run = settled(run.pk)
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.result == "approved by Grace"
    assert statuses(run)["timed_out"] == "skipped"

    again = httpx.post(url, json={"by": "Mallory"}, timeout=30)
    assert again.status_code == 404
    assert again.json()["code"] == "not_waiting"
    bad = httpx.post(f"{live_server.url}/api/resume/{run.pk}-nope", json={}, timeout=30)
    assert bad.status_code == 404
    assert httpx.get(url, timeout=30).status_code == 405


@pytest.mark.django_db
def test_wait_for_webhook_times_out_by_the_timeout_port():
    run = run_now(make_workflow(definition=approval_definition(max_wait=600)))
    assert run.status == "waiting"
    assert run.resume_at is not None
    make_due(run)
    assert execute_run(run.pk) == "succeeded"
    run.refresh_from_db()
    assert run.result == "no answer"
    assert statuses(run)["decision"] == "skipped"
    assert run.logs.get(node_id="approve").ports == ["timeout"]
    with pytest.raises(ResumeNotFound):
        run_resume_webhook(token=resume_token(run.pk, "approve"), payload={})


@pytest.mark.django_db
def test_resume_service_with_text_payload_and_unknown_tokens():
    d = graph(n("w", "wait_for_webhook"), t("after", "input"),
              edges=[e("trigger", "w"), e("w", "after")])
    run = run_now(make_workflow(definition=d))
    for token in ("garbage", "999999-abc", f"{run.pk}-abc"):
        with pytest.raises(ResumeNotFound):
            run_resume_webhook(token=token, payload=None)
    resumed = run_resume_webhook(token=resume_token(run.pk, "w"), payload="plain text")
    assert resumed.status == "queued"
    assert execute_run(run.pk) == "succeeded"
    run.refresh_from_db()
    assert run.result == "plain text"


@pytest.mark.django_db
def test_respond_stores_the_answer_before_the_run_ends():
    d = graph(
        n("answer", "respond", status=201, headers={"X-Order": "{{ str(input.id) }}"},
          body={"accepted": "{{ input.id }}"}),
        n("later", "respond", status=500, body="too late"),
        n("w", "wait_for_webhook"), t("after", "input.id * 2"),
        edges=[e("trigger", "answer"), e("answer", "later"), e("later", "w"), e("w", "after")],
    )
    run = run_now(make_workflow(definition=d), input={"id": 7})
    assert run.status == Run.Status.WAITING  # the run is not over...
    assert run.response == {"status": 201, "headers": {"X-Order": "7"},
                            "body": {"accepted": 7}}  # ...but its answer is there; first wins
    run_resume_webhook(token=resume_token(run.pk, "w"), payload={"id": 8})
    assert execute_run(run.pk) == "succeeded"
    run.refresh_from_db()
    assert run.result == 16
    assert run.response["status"] == 201


@pytest.mark.django_db(transaction=True)
def test_sync_webhook_caller_gets_the_respond_answer_while_the_run_waits(live_server):
    d = graph(n("answer", "respond", status=202, body={"queued_as": "{{ run.id }}"}),
              n("w", "wait_for_webhook"), t("after", "'done'"),
              edges=[e("trigger", "answer"), e("answer", "w"), e("w", "after")])
    wf = make_workflow(definition=d)
    answer = httpx.post(f"{live_server.url}/api/webhook/{wf.pk}", json={"x": 1}, timeout=60)
    assert answer.status_code == 202, answer.text
    run_id = answer.json()["queued_as"]
    assert answer.headers["X-Run-Id"] == str(run_id)
    run = settled(run_id)
    assert run.workflow_id == wf.pk
    assert run.status == "waiting"
