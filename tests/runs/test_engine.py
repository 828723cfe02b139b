import pytest

from runs.models import Run, RunLog
from tests.factories import make_workflow, run_now, simple_definition

pytestmark = pytest.mark.django_db


def t(node_id, expression=None, mapping=None):
    config = {"expression": expression} if expression else {"mapping": mapping}
    return {"id": node_id, "type": "transform", "config": config}


def test_runs_nodes_in_topological_order_not_definition_order():
    d = simple_definition(
        t("c", "input + 100"), t("a", "input + 1"), t("b", "input * 10"),
        edges=[{"from": "trigger", "to": "a"}, {"from": "a", "to": "b"}, {"from": "b", "to": "c"}],
    )
    run = run_now(make_workflow(definition=d), input=1)
    assert run.status == Run.Status.SUCCEEDED
    assert [log.node_id for log in run.logs.order_by("id")] == ["trigger", "a", "b", "c"]
    assert run.result == 120


def test_input_is_upstream_output_and_fan_in_gets_dict_by_node():
    d = simple_definition(
        t("left", "input['n'] * 2"), t("right", "input['n'] * 3"), t("join", "input"),
        edges=[{"from": "trigger", "to": "left"}, {"from": "trigger", "to": "right"},
               {"from": "left", "to": "join"}, {"from": "right", "to": "join"}],
    )
    run = run_now(make_workflow(definition=d), input={"n": 5})
    assert run.result == {"left": 10, "right": 15}
    join = run.logs.get(node_id="join")
    assert join.input == {"left": 10, "right": 15}


def test_expression_context_input_nodes_run_and_trigger():
    d = simple_definition(
        t("first", "input.name.upper()"),
        t("second", mapping={"from_first": "nodes.first", "trigger": "trigger.name",
                             "run_id": "run.id", "wf": "run.workflow", "has_now": "len(now) > 10"}),
    )
    wf = make_workflow(definition=d, name="ctx-test")
    run = run_now(wf, input={"name": "ada"})
    assert run.result == {"from_first": "ADA", "trigger": "ada", "run_id": run.pk,
                          "wf": "ctx-test", "has_now": True}


def test_templates_render_in_config_strings(api_server):
    api_server.json("POST", "/echo", {"ok": True})
    d = simple_definition({
        "id": "call", "type": "http",
        "config": {"method": "POST", "url": api_server.url + "/{{ input.path }}",
                   "headers": {"X-Name": "hi {{ input.name }}"},
                   "json_body": "{{ {'n': input.n + 1, 'tags': ['a']} }}"},
    })
    run = run_now(make_workflow(definition=d), input={"path": "echo", "name": "ada", "n": 1})
    assert run.status == Run.Status.SUCCEEDED, run.error
    req = api_server.requests[-1]
    assert req.headers["X-Name"] == "hi ada"
    assert req.json() == {"n": 2, "tags": ["a"]}  # whole-template values keep their type


def test_failing_node_fails_run_with_node_id_and_reason_and_stops():
    d = simple_definition(t("ok", "1"), t("boom", "1 / 0"), t("after", "2"))
    run = run_now(make_workflow(definition=d))
    assert run.status == Run.Status.FAILED
    assert run.error_node_id == "boom"
    assert "boom" in run.error
    assert "division by zero" in run.error
    statuses = {log.node_id: log.status for log in run.logs.all()}
    assert statuses == {"trigger": "succeeded", "ok": "succeeded", "boom": "failed"}
    assert "division by zero" in run.logs.get(node_id="boom").error
    assert run.finished_at is not None


def test_logs_record_input_output_duration_attempt():
    d = simple_definition(t("double", "input * 2"))
    run = run_now(make_workflow(definition=d), input=21)
    log = run.logs.get(node_id="double")
    assert (log.status, log.input, log.output, log.attempt) == ("succeeded", 21, 42, 1)
    assert log.duration_ms is not None
    assert log.started_at
    assert log.finished_at
    assert run.started_at <= log.started_at <= run.finished_at


def test_bad_template_in_config_fails_node(api_server):
    d = simple_definition({"id": "call", "type": "http",
                           "config": {"url": "http://127.0.0.1:{{ input.nope }}/"}})
    run = run_now(make_workflow(definition=d), input={})
    assert run.status == Run.Status.FAILED
    assert "no key 'nope'" in run.error
    assert run.error_node_id == "call"


def test_run_pins_version_and_editing_does_not_change_old_run():
    from workflows.services import workflow_update

    wf = make_workflow(definition=simple_definition(t("x", "'v1'")))
    old = run_now(wf)
    workflow_update(workflow=wf, user=wf.owner,
                    definition=simple_definition(t("x", "'v2'")))
    new = run_now(wf)
    old.refresh_from_db()
    assert (old.version.number, old.result) == (1, "v1")
    assert (new.version.number, new.result) == (2, "v2")
    assert old.version.definition["nodes"][1]["config"]["expression"] == "'v1'"


def test_run_resumes_after_completed_nodes(api_server):
    """A run whose process died after a side-effecting node does not repeat it."""
    api_server.json("GET", "/once", {"n": 1})
    d = simple_definition({"id": "call", "type": "http",
                           "config": {"url": api_server.url + "/once"}},
                          t("after", "input.body.n + 1"))
    wf = make_workflow(definition=d)
    run = run_now(wf)
    assert run.result == 2
    assert api_server.count("/once") == 1
    # Simulate a crash after `call`: drop the later logs and put the run back in the queue.
    run.logs.filter(node_id="after").delete()
    Run.objects.filter(pk=run.pk).update(status=Run.Status.QUEUED, result=None)
    from runs.engine.executor import execute_run

    assert execute_run(run.pk) == Run.Status.SUCCEEDED
    run.refresh_from_db()
    assert run.result == 2
    assert api_server.count("/once") == 1


def test_started_node_without_result_is_run_again_with_next_attempt(api_server):
    api_server.json("GET", "/x", {"n": 1})
    d = simple_definition({"id": "call", "type": "http", "config": {"url": api_server.url + "/x"}})
    wf = make_workflow(definition=d)
    from runs.engine.executor import execute_run
    from runs.services import run_start

    run = run_start(workflow=wf, execute=False)
    RunLog.objects.create(run=run, node_id="trigger", node_type="webhook", status="succeeded",
                          output={"a": 1})
    RunLog.objects.create(run=run, node_id="call", node_type="http", status="started")
    execute_run(run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert run.logs.filter(node_id="call", status="succeeded").get().attempt == 2


def test_execute_run_only_claims_queued_runs():
    from runs.engine.executor import execute_run

    run = run_now(make_workflow())
    assert run.status == Run.Status.SUCCEEDED
    assert execute_run(run.pk) is None  # already finished: nothing happens
    assert run.logs.count() == 1


def test_cancel_requested_before_start():
    from runs.engine.executor import execute_run
    from runs.services import run_start

    run = run_start(workflow=make_workflow(), execute=False)
    Run.objects.filter(pk=run.pk).update(cancel_requested=True)
    assert execute_run(run.pk) == Run.Status.CANCELLED


def test_disconnected_non_trigger_node_is_skipped():
    d = simple_definition(t("a", "1"), t("orphan", "2"), edges=[{"from": "trigger", "to": "a"}])
    run = run_now(make_workflow(definition=d))
    assert run.status == "succeeded"
    assert run.result == 1
    assert run.logs.get(node_id="orphan").status == "skipped"


def test_big_values_are_truncated_in_logs_of_pure_nodes_and_recomputed_on_resume(
        settings, api_server):
    from runs.engine.executor import TRUNCATED, execute_run

    settings.WFAIB = {**settings.WFAIB, "LOG_MAX_BYTES": 200}
    api_server.json("GET", "/big", {"rows": ["x" * 50] * 10})
    d = simple_definition(
        t("expand", "[input.n] * 100"),
        {"id": "call", "type": "http", "config": {"url": api_server.url + "/big"}},
        t("count", "len(nodes.expand) + len(input.body.rows)"))
    run = run_now(make_workflow(definition=d), input={"n": 7})
    assert run.status == "succeeded"
    assert run.result == 110
    logs = {log.node_id: log for log in run.logs.all()}
    assert logs["expand"].output[TRUNCATED] is True
    assert logs["expand"].output["bytes"] > 200
    assert logs["call"].input[TRUNCATED] is True  # the big input is not stored again
    assert len(logs["call"].output["body"]["rows"]) == 10  # side effects keep whole outputs
    # Resume after `call`: the truncated pure checkpoint is computed again, `call` is not.
    run.logs.filter(node_id="count").delete()
    Run.objects.filter(pk=run.pk).update(status=Run.Status.QUEUED)
    assert execute_run(run.pk) == Run.Status.SUCCEEDED
    run.refresh_from_db()
    assert run.result == 110
    assert api_server.count("/big") == 1


def test_outputs_are_made_json_safe_only_when_needed():
    from runs.engine.executor import jsonable

    plain = {"a": [1, {"b": "c"}]}
    assert jsonable(plain) is plain
    assert jsonable({"s": {1}}) == {"s": [1]}
    assert jsonable({1: "x"}) == {"1": "x"}


def test_a_superseded_execution_stops_and_never_overwrites_the_run(api_server):
    """The watchdog took this execution for dead and another claimed the run: the first one
    stops at its next check and does not end the run (the claim count is a fencing token)."""
    from django.db.models import F

    from runs.engine.executor import SUPERSEDED, RunExecution, claim
    from runs.services import run_start

    api_server.json("GET", "/side", {"ok": True})
    d = simple_definition(t("a", "1"),
                          {"id": "call", "type": "http",
                           "config": {"url": api_server.url + "/side"}})
    run = run_start(workflow=make_workflow(definition=d), execute=False)
    mine = claim(run.pk)
    Run.objects.filter(pk=run.pk).update(executions=F("executions") + 1)  # another claim
    assert RunExecution(mine).execute() == SUPERSEDED
    assert api_server.count("/side") == 0  # stopped before the side effect
    run.refresh_from_db()
    assert (run.status, run.finished_at) == (Run.Status.RUNNING, None)
    assert not run.logs.filter(node_id="call").exists()
