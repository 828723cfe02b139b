"""Per-node settings: retries with backoff and retry_if, timeouts, on_error."""

import random
import threading

import pytest

from nodes.base import NodeSettings, NodeType
from nodes.registry import registry
from runs.engine.policies import retry_delay
from runs.models import Run
from tests.factories import make_workflow, run_now
from workflows.validation import validate_definition

from .helpers import e, graph, n, statuses, t

pytestmark = pytest.mark.django_db

FAST = {"retry_delay": 0, "jitter": False}


def flaky(server, path, failures, status=503):
    """Route `path` to fail `failures` times, then answer {"ok": true}."""
    calls = {"n": 0}

    def handler(req):
        calls["n"] += 1
        if calls["n"] <= failures:
            return status, {"Content-Type": "application/json"}, b'{"error": "busy"}'
        return 200, {"Content-Type": "application/json"}, b'{"ok": true}'

    server.route("GET", path, handler)


def test_retries_until_success_with_one_log_per_attempt(api_server):
    flaky(api_server, "/flaky", failures=2)
    d = graph(n("call", "http", {"max_attempts": 3, **FAST}, url=api_server.url + "/flaky"),
              edges=[e("trigger", "call")])
    run = run_now(make_workflow(definition=d))
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert api_server.count("/flaky") == 3
    logs = list(run.logs.filter(node_id="call").order_by("id").values_list("attempt", "status"))
    assert logs == [(1, "failed"), (2, "failed"), (3, "succeeded")]
    first = run.logs.filter(node_id="call").order_by("id").first()
    assert "HTTP 503" in first.error
    assert first.output["status"] == 503
    assert run.result["body"] == {"ok": True}


def test_jittered_retries_draw_their_delays_from_the_run_s_generator(api_server):
    """The jitter's random source is made at the run's first retry (RunExecution.rng)."""
    flaky(api_server, "/jittery", failures=2)
    settings = {"max_attempts": 3, "retry_delay": 0.02, "jitter": True}
    d = graph(n("call", "http", settings, url=api_server.url + "/jittery"),
              edges=[e("trigger", "call")])
    run = run_now(make_workflow(definition=d))
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert api_server.count("/jittery") == 3


def test_retries_exhausted_fail_the_run(api_server):
    flaky(api_server, "/down", failures=10)
    d = graph(n("call", "http", {"max_attempts": 2, **FAST}, url=api_server.url + "/down"),
              edges=[e("trigger", "call")])
    run = run_now(make_workflow(definition=d))
    assert run.status == "failed"
    assert run.error_node_id == "call"
    assert api_server.count("/down") == 2
    assert run.logs.filter(node_id="call", status="failed").count() == 2


@pytest.mark.parametrize(("status", "calls"), [(404, 1), (503, 3)])
def test_retry_if_limits_retries_to_matching_failures(api_server, status, calls):
    flaky(api_server, "/x", failures=2, status=status)
    settings = {"max_attempts": 3, "retry_if": "details.status >= 500 and attempt < 5", **FAST}
    d = graph(n("call", "http", settings, url=api_server.url + "/x"),
              edges=[e("trigger", "call")])
    run = run_now(make_workflow(definition=d))
    assert api_server.count("/x") == calls
    assert run.status == ("failed" if status == 404 else "succeeded")


def test_backoff_fixed_exponential_cap_and_jitter():
    rng = random.Random(7)
    fixed = NodeSettings(retry_delay=2, jitter=False)
    assert [retry_delay(fixed, a, rng) for a in (1, 2, 3)] == [2, 2, 2]
    exp = NodeSettings(retry_delay=1, backoff="exponential", max_retry_delay=5, jitter=False)
    assert [retry_delay(exp, a, rng) for a in (1, 2, 3, 4)] == [1, 2, 4, 5]
    jittered = NodeSettings(retry_delay=4, backoff="exponential", jitter=True)
    values = [retry_delay(jittered, 2, rng) for _ in range(200)]
    assert all(4 <= v <= 8 for v in values)
    assert len(set(values)) > 100


class BlockingNode(NodeType):
    """Blocks until the test releases it (no timing in the test itself)."""

    type = "test_blocking"
    label = "Blocking"
    description = "Waits for a test event."
    release = threading.Event()

    def run(self, ctx, config, input):
        self.release.wait(30)
        return "finished late"


def test_timeout_fails_the_node_and_abandons_its_work():
    BlockingNode.release.clear()
    with registry.temporarily(BlockingNode):
        d = graph(n("slow", "test_blocking", {"timeout": 0.05}), t("after", "1"),
                  edges=[e("trigger", "slow"), e("slow", "after")])
        run = run_now(make_workflow(definition=d))
    BlockingNode.release.set()
    assert run.status == "failed"
    assert run.error_node_id == "slow"
    assert "timed out after 0.05s" in run.error
    assert "after" not in statuses(run)


def test_http_node_timeout_setting_against_a_hanging_server(api_server):
    release = threading.Event()

    def hang(req):
        release.wait(30)
        return 200, {}, b"late"

    api_server.route("GET", "/hang", hang)
    d = graph(n("call", "http", {"timeout": 0.05, "on_error": "continue"},
                url=api_server.url + "/hang"), t("after", "input.error"),
              edges=[e("trigger", "call"), e("call", "after")])
    try:
        run = run_now(make_workflow(definition=d))
    finally:
        release.set()
    assert run.status == "succeeded", run.error
    assert "timed out" in run.result


def test_on_error_continue_passes_the_error_on():
    d = graph(t("boom", "1 // 0", {"on_error": "continue"}), t("after", "input"),
              edges=[e("trigger", "boom"), e("boom", "after")])
    run = run_now(make_workflow(definition=d))
    assert run.status == "succeeded"
    assert run.result["node"] == "boom"
    assert "ZeroDivisionError" in run.result["error"]
    boom = run.logs.get(node_id="boom")
    assert boom.status == "failed"
    assert boom.ports == ["main"]


def test_on_error_route_sends_the_error_down_the_error_port():
    d = graph(t("boom", "input.n // input.d", {"on_error": "route"}),
              t("ok", "'ok'"), t("handle", "'handled: ' + input.error"),
              edges=[e("trigger", "boom"), e("boom", "ok"), e("boom", "handle", "error")])
    wf = make_workflow(definition=d)
    run = run_now(wf, input={"n": 1, "d": 0})
    assert run.status == "succeeded"
    assert statuses(run) == {"trigger": "succeeded", "boom": "failed", "ok": "skipped",
                             "handle": "succeeded"}
    assert run.result.startswith("handled: ")
    assert "ZeroDivisionError" in run.result
    run = run_now(wf, input={"n": 4, "d": 2})
    assert statuses(run)["handle"] == "skipped"
    assert run.result == "ok"


def test_retries_then_route():
    d = graph(t("boom", "1 // 0", {"on_error": "route", "max_attempts": 3, **FAST}),
              t("handle", "input.error"),
              edges=[e("trigger", "boom"), e("boom", "handle", "error")])
    run = run_now(make_workflow(definition=d))
    assert run.status == "succeeded"
    assert list(run.logs.filter(node_id="boom").values_list("attempt", flat=True)) == [1, 2, 3]


def test_a_continued_failure_is_a_checkpoint_on_resume():
    from runs.engine.executor import execute_run

    d = graph(t("boom", "1 // 0", {"on_error": "continue"}), t("after", "'done'"),
              edges=[e("trigger", "boom"), e("boom", "after")])
    run = run_now(make_workflow(definition=d))
    run.logs.filter(node_id="after").delete()
    Run.objects.filter(pk=run.pk).update(status=Run.Status.QUEUED)
    assert execute_run(run.pk) == "succeeded"
    assert run.logs.filter(node_id="boom").count() == 1  # not run again


def test_validation_of_settings_and_error_port():
    d = graph(t("a", "1", {"max_attempts": 0, "on_error": "explode", "bogus": 1}), t("b", "2"),
              edges=[e("trigger", "a"), e("a", "b", "error")])
    errors = {x["path"]: x["message"] for x in validate_definition(d)}
    assert "nodes[1].settings.max_attempts" in errors
    assert "nodes[1].settings.on_error" in errors
    assert "nodes[1].settings.bogus" in errors
    d = graph(t("a", "1"), t("b", "2"), edges=[e("trigger", "a"), e("a", "b", "error")])
    (err,) = validate_definition(d)
    assert err["path"] == "edges[1].port"
    assert 'on_error \\"route\\"' not in err["message"]
    assert "needs settings.on_error" in err["message"]
    d["nodes"][1]["settings"] = {"on_error": "route"}
    assert validate_definition(d) == []


def test_validation_of_switch_ports():
    d = graph(n("s", "switch", cases=[{"name": "big", "expression": "input > 1"}]),
              t("a", "1"), t("b", "2"),
              edges=[e("trigger", "s"), e("s", "a", "big"), e("s", "b", "small")])
    (err,) = validate_definition(d)
    assert err["path"] == "edges[2].port"
    assert "outputs: big, default" in err["message"]


@pytest.mark.parametrize(("name", "says"), [
    ("big", "duplicate case name 'big'"), ("", "use 1-50 letters"), ("default", "is reserved"),
])
def test_validation_refuses_a_duplicate_empty_or_reserved_case_name(name, says):
    """What the editor's case rows check before saving (lib/cases.ts), the server refuses too."""
    d = graph(n("s", "switch", cases=[{"name": "big", "expression": "input > 1"},
                                       {"name": name, "expression": "input > 2"}]),
              edges=[e("trigger", "s")])
    errors = validate_definition(d)
    assert any(says in err["message"] and err["path"].startswith("nodes[1].config")
               for err in errors), errors


def test_a_long_retry_delay_parks_the_run_instead_of_holding_a_thread(api_server, settings):
    """Delays of at least WFAIB_RETRY_PARK_AFTER make the run `waiting` until the retry is due;
    the scheduler's resume re-runs the failed node with its next attempt number."""
    from django.utils import timezone

    from runs import recovery
    from runs.engine.executor import execute_run

    settings.WFAIB = {**settings.WFAIB, "RETRY_PARK_AFTER": 30}
    flaky(api_server, "/later", failures=2)
    d = graph(n("first", "transform", expression="'before'"),
              n("call", "http", {"max_attempts": 3, "retry_delay": 60, "jitter": False},
                url=api_server.url + "/later"),
              edges=[e("trigger", "first"), e("first", "call")])
    run = run_now(make_workflow(definition=d))
    assert run.status == Run.Status.WAITING
    assert 55 <= (run.resume_at - timezone.now()).total_seconds() <= 61
    assert api_server.count("/later") == 1
    assert recovery.run_resume_due() == []  # not due yet
    for expected_calls in (2, 3):
        # What the scheduler does when resume_at has come (run_resume_due), then the executor.
        Run.objects.filter(pk=run.pk, status=Run.Status.WAITING).update(
            status=Run.Status.QUEUED, resume_at=None)
        execute_run(run.pk)
        run.refresh_from_db()
        assert api_server.count("/later") == expected_calls
    assert run.status == Run.Status.SUCCEEDED, run.error
    attempts = list(run.logs.filter(node_id="call").order_by("id")
                    .values_list("attempt", "status"))
    assert attempts == [(1, "failed"), (2, "failed"), (3, "succeeded")]
    assert run.logs.filter(node_id="first").count() == 1  # not re-run on resume


def test_settings_are_frozen_so_nodes_without_settings_can_share_one_instance():
    """The engine hands every node that sets nothing the same NodeSettings: a node's settings
    can never be changed in place, and one node's settings never leak into another's."""
    from pydantic import ValidationError

    from runs.engine.attempts import _NO_SETTINGS

    with pytest.raises(ValidationError, match="frozen"):
        _NO_SETTINGS.max_attempts = 5
    assert _NO_SETTINGS == NodeSettings.model_validate({})
    d = graph(n("plain", "transform", expression="input"),
              n("retried", "transform", {"max_attempts": 3, **FAST}, expression="1 / 0"),
              n("after", "transform", expression="input"),
              edges=[e("trigger", "plain"), e("plain", "retried"), e("retried", "after")])
    run = run_now(make_workflow(definition=d))
    assert run.status == Run.Status.FAILED
    attempts = {log.node_id: log.attempt for log in run.logs.all()}
    assert attempts["plain"] == 1  # the default settings: one attempt
    assert run.logs.filter(node_id="retried").count() == 3  # its own settings
    assert _NO_SETTINGS.max_attempts == 1
