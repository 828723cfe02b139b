"""Runs created already claimed (the synchronous webhook's fast path)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runs.engine.executor import execute_run
from runs.models import Run
from runs.services import run_start
from tests.factories import make_workflow, simple_definition

pytestmark = pytest.mark.django_db


def two_transforms():
    return make_workflow(definition=simple_definition(
        {"id": "a", "type": "transform", "config": {"expression": "input.n + 1"}},
        {"id": "b", "type": "transform", "config": {"expression": "input * 2"}}))


def test_claimed_run_is_running_and_executes_without_a_claim():
    wf = two_transforms()
    run = run_start(workflow=wf, input={"n": 1}, execute=False, claimed=True)
    stored = Run.objects.get(pk=run.pk)
    assert (stored.status, stored.executions) == (Run.Status.RUNNING, 1)
    assert stored.heartbeat_at is not None  # a dead process is found by the watchdog
    assert execute_run(run.pk, claimed=run) == Run.Status.SUCCEEDED
    assert (run.status, run.result) == (Run.Status.SUCCEEDED, 4)  # the caller's object too
    stored.refresh_from_db()
    assert (stored.status, stored.result, stored.executions) == (Run.Status.SUCCEEDED, 4, 1)
    assert [log.node_id for log in stored.logs.order_by("id")] == ["trigger", "a", "b"]


def test_claimed_fast_path_writes_run_and_logs_in_two_commits():
    wf = two_transforms()
    run_start(workflow=wf, input={"n": 0}, execute=False)  # warm the version cache
    with CaptureQueriesContext(connection) as queries:
        run = run_start(workflow=wf, input={"n": 1}, trigger=Run.Trigger.WEBHOOK,
                        execute=False, claimed=True)
        execute_run(run.pk, claimed=run)
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    assert statements.count("SELECT") == 0
    assert statements.count("INSERT") == 2  # the run; the logs in one bulk insert
    assert statements.count("UPDATE") == 1  # the run's end


def test_queued_run_of_the_same_workflow_still_loads_checkpoints():
    wf = two_transforms()
    run = run_start(workflow=wf, input={"n": 1}, execute=False)
    assert execute_run(run.pk) == Run.Status.SUCCEEDED
    run.refresh_from_db()
    assert run.result == 4
