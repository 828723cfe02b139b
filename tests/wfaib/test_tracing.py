"""OpenTelemetry (wfaib/tracing.py): spans for the webhook request, each execution of a run and
each node, with the right parents across a wait and a resume; the HTTP node sends the trace
context on; off unless configured."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from runs.models import Run
from tests.factories import make_workflow, run_now, simple_definition
from tests.flow.helpers import e, graph, n, settled, t
from wfaib import tracing


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.enable(provider)
    yield exporter
    tracing.disable()
    provider.shutdown()


def by_name(exporter, prefix):
    return [s for s in exporter.get_finished_spans() if s.name.startswith(prefix)]


def ended(exporter, prefix, count, timeout=10.0):
    """The spans named `prefix` once `count` of them have ended: an execution's span ends just
    after its run's last commit, so a test that saw the run finish may be a moment early."""
    deadline = time.monotonic() + timeout
    while len(found := by_name(exporter, prefix)) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return found


@pytest.mark.django_db(transaction=True)
def test_a_run_that_waits_and_resumes_stays_in_the_webhook_requests_trace(spans, api_server):
    api_server.json("GET", "/called", {"ok": True})
    definition = graph(
        n("call", "http", url=api_server.url + "/called"),
        n("approve", "wait_for_webhook"),
        t("after", "input.by"),
        edges=[e("trigger", "call"), e("call", "approve"), e("approve", "after")])
    wf = make_workflow(definition=definition)
    client = Client()
    answer = client.post(f"/api/webhook/{wf.pk}", {"x": 1}, content_type="application/json")
    assert answer.status_code in (200, 202), answer.content
    run = Run.objects.get(workflow=wf)
    run = settled(run.pk)
    assert run.status == Run.Status.WAITING, run.error
    token = run.logs.get(node_id="approve").output["token"]
    resumed = client.post(f"/api/resume/{token}", {"by": "Ada"}, content_type="application/json")
    assert resumed.status_code == 202, resumed.content
    run = settled(run.pk)
    assert run.status == Run.Status.SUCCEEDED, run.error

    (webhook,) = [s for s in by_name(spans, "POST") if s.attributes["wfaib.door"] == "webhook"]
    (resume_request,) = [s for s in by_name(spans, "POST")
                         if s.attributes["wfaib.door"] == "resume"]
    executions = sorted(ended(spans, "wfaib.run", 2), key=lambda s: s.start_time)
    assert len(executions) == 2  # up to the wait, and after the resume
    trace_id = webhook.context.trace_id
    for execution in executions:
        assert execution.context.trace_id == trace_id
        assert execution.parent.span_id == webhook.context.span_id  # the stored context
        assert execution.attributes["wfaib.run.id"] == run.pk
        assert execution.attributes["wfaib.workflow.id"] == wf.pk
    assert webhook.attributes["http.response.status_code"] == answer.status_code
    assert resume_request.attributes["http.response.status_code"] == 202

    nodes = {s.attributes["wfaib.node.id"]: s for s in by_name(spans, "wfaib.node")}
    first, second = executions
    for node_id in ("trigger", "call", "approve"):
        assert nodes[node_id].parent.span_id == first.context.span_id, node_id
    assert nodes["after"].parent.span_id == second.context.span_id
    assert nodes["call"].attributes["wfaib.node.type"] == "http"
    assert {s.context.trace_id for s in nodes.values()} == {trace_id}

    # the HTTP node's request carried the trace context: the node span as the parent
    (called,) = [r for r in api_server.requests if r.path == "/called"]
    traceparent = {k.lower(): v for k, v in called.headers.items()}["traceparent"]
    _version, sent_trace, sent_parent, _flags = traceparent.split("-")
    assert int(sent_trace, 16) == trace_id
    assert int(sent_parent, 16) == nodes["call"].context.span_id
    assert Run.objects.get(pk=run.pk).trace_context["traceparent"].split("-")[1] == sent_trace


@pytest.mark.django_db
def test_a_run_without_a_request_stores_its_first_executions_context(spans):
    wf = make_workflow(definition=simple_definition(
        {"id": "wait", "type": "delay", "config": {"seconds": 3600}}))
    run = run_now(wf)
    assert run.status == Run.Status.WAITING
    (execution,) = by_name(spans, "wfaib.run")
    assert execution.parent is None  # a new trace
    stored = run.trace_context["traceparent"].split("-")
    assert int(stored[1], 16) == execution.context.trace_id
    assert int(stored[2], 16) == execution.context.span_id


@pytest.mark.django_db
def test_a_caller_s_traceparent_is_continued_by_the_webhook_span(spans):
    wf = make_workflow(definition=simple_definition())
    caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    Client().post(f"/api/webhook/{wf.pk}", {}, content_type="application/json",
                  headers={"traceparent": caller})
    (webhook,) = by_name(spans, "POST")
    assert format(webhook.context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
    assert format(webhook.parent.span_id, "016x") == "b7ad6b7169203331"
    # a malformed traceparent starts a new trace instead of failing the request
    answer = Client().post(f"/api/webhook/{wf.pk}", {}, content_type="application/json",
                           headers={"traceparent": "00-zz-not-a-trace"})
    assert answer.status_code in (200, 202)


@pytest.mark.django_db
def test_tracing_is_off_unless_configured(monkeypatch, api_server):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    assert not tracing.enabled()
    assert tracing.configure_from_env() is False
    api_server.json("GET", "/plain", {})
    wf = make_workflow(definition=simple_definition(
        {"id": "call", "type": "http", "config": {"url": api_server.url + "/plain"}}))
    run = run_now(wf)
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.trace_context is None
    (called,) = api_server.requests
    assert "traceparent" not in {k.lower() for k in called.headers}
