"""Queued runs of pure nodes: executed in memory, then claimed and finished with one commit
(runs.dispatch.execute -> runs.engine.executor.execute_queued)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runs import dispatch
from runs.engine import answered
from runs.engine.executor import SUPERSEDED, execute_queued
from runs.models import Run, RunLog
from runs.services import run_start
from tests.factories import make_workflow, simple_definition

pytestmark = pytest.mark.django_db


def two_transforms(**fields):
    return make_workflow(definition=simple_definition(
        {"id": "a", "type": "transform", "config": {"expression": "input.n + 1"}},
        {"id": "b", "type": "transform", "config": {"expression": "input * 2"}}), **fields)


def queued(wf, n=1, **kwargs):
    return run_start(workflow=wf, input={"n": n}, execute=False, **kwargs)


def statements(queries):
    return [q["sql"].split()[0].upper() for q in queries.captured_queries]


def test_queued_pure_run_is_read_once_and_written_in_one_update_and_one_insert():
    wf = two_transforms()
    dispatch.execute(queued(wf, 0).pk)  # warm the version's shape cache
    run = queued(wf)
    with CaptureQueriesContext(connection) as queries:
        assert dispatch.execute(run.pk) == Run.Status.SUCCEEDED
    # The run with its workflow and version, by SQL compiled once (runs/prepared.py).
    assert statements(queries).count("SELECT") == 1
    assert statements(queries).count("UPDATE") == 1  # claim and end in one conditional update
    assert statements(queries).count("INSERT") == 1  # its logs in one bulk insert
    run.refresh_from_db()
    assert (run.status, run.result, run.executions) == (Run.Status.SUCCEEDED, 4, 1)
    assert run.started_at is not None
    assert run.finished_at >= run.started_at
    assert run.heartbeat_at is None
    assert [log.node_id for log in run.logs.order_by("id")] == ["trigger", "a", "b"]


def test_a_run_taken_meanwhile_is_not_overwritten():
    wf = two_transforms()
    run = queued(wf)
    read = Run.objects.select_related("version", "workflow").get(pk=run.pk)
    # Another executor claimed it between our read and our write.
    Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING, executions=1)
    assert execute_queued(read) == SUPERSEDED
    run.refresh_from_db()
    assert (run.status, run.executions, run.result) == (Run.Status.RUNNING, 1, None)
    assert not run.logs.exists()


def test_a_run_cancelled_meanwhile_stays_cancelled():
    wf = two_transforms()
    run = queued(wf)
    read = Run.objects.select_related("version", "workflow").get(pk=run.pk)
    Run.objects.filter(pk=run.pk).update(cancel_requested=True)
    assert execute_queued(read) == SUPERSEDED
    run.refresh_from_db()
    assert (run.status, run.executions) == (Run.Status.QUEUED, 0)
    assert not run.logs.exists()
    # Its next hand-out takes the claim path, which ends it cancelled.
    assert dispatch.execute(run.pk) == Run.Status.CANCELLED


def test_a_failing_pure_run_is_stored_failed_with_its_node():
    wf = make_workflow(definition=simple_definition(
        {"id": "bad", "type": "transform", "config": {"expression": "input.missing.deeper"}}))
    run = queued(wf)
    assert dispatch.execute(run.pk) == Run.Status.FAILED
    run.refresh_from_db()
    assert (run.status, run.error_node_id, run.executions) == (Run.Status.FAILED, "bad", 1)
    assert run.logs.filter(node_id="bad", status=RunLog.Status.FAILED).exists()


def test_not_queued_is_a_no_op():
    wf = two_transforms()
    run = queued(wf)
    assert dispatch.execute(run.pk) == Run.Status.SUCCEEDED
    assert dispatch.execute(run.pk) is None  # a second hand-out of the same run
    assert Run.objects.get(pk=run.pk).logs.count() == 3


def test_a_respond_node_answer_is_stored_and_signalled():
    wf = make_workflow(definition=simple_definition(
        {"id": "a", "type": "transform", "config": {"expression": "input.n + 1"}},
        {"id": "r", "type": "respond", "config": {"status": 201, "body": "{{ input }}"}}))
    run = queued(wf, 41)
    waiter = answered.expect(run.pk)
    try:
        assert dispatch.execute(run.pk) == Run.Status.SUCCEEDED
        assert waiter.result(timeout=5)["status"] == 201
    finally:
        answered.forget(run.pk)
    run.refresh_from_db()
    assert run.response["status"] == 201


@pytest.mark.parametrize("case", ["limited", "retried", "test", "side effect"])
def test_other_runs_are_claimed_first(case):
    """These need the claim: a concurrency limit counts running runs, a run executed before or
    a test run continues from stored logs, a node with side effects is written as it goes."""
    if case == "side effect":
        wf = make_workflow(definition=simple_definition(
            {"id": "w", "type": "delay", "config": {"seconds": 0}}))
    else:
        wf = two_transforms(max_concurrency=5 if case == "limited" else None)
    trigger = Run.Trigger.TEST if case == "test" else Run.Trigger.MANUAL
    run = queued(wf, trigger=trigger)
    if case == "retried":
        Run.objects.filter(pk=run.pk).update(executions=1)
    with CaptureQueriesContext(connection) as queries:
        dispatch.execute(run.pk)
    claim = [q["sql"] for q in queries.captured_queries
             if q["sql"].upper().startswith("UPDATE") and "'running'" in q["sql"]]
    assert claim, f"{case}: no claim among {statements(queries)}"
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED
