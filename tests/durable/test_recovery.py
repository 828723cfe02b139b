"""The watchdog, start-up recovery, due waits, cancellation and concurrency limits, in-process
with the inline executor (real threads on a database they share with the test)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.utils import timezone

from nodes.base import NodeType, Wait
from nodes.registry import registry
from runs import dispatch, recovery
from runs.engine.executor import claim
from runs.models import Run
from runs.services import run_cancel, run_start
from tests.factories import make_workflow, simple_definition

from .conftest import wait_until

WAIT_TIMEOUT = 60  # hang guard for runs executed by pool threads


def http_workflow(url: str, **kwargs):
    return make_workflow(definition=simple_definition(
        {"id": "call", "type": "http", "config": {"url": url}}), **kwargs)


def settle(run: Run) -> Run:
    assert dispatch.wait_for_run(run.pk, WAIT_TIMEOUT), f"run {run.pk} did not settle"
    run.refresh_from_db()
    return run


def test_watchdog_requeues_a_run_whose_heartbeat_stopped(shared_db, api_server):
    api_server.json("GET", "/ok", {"ok": True})
    run = run_start(workflow=http_workflow(f"{api_server.url}/ok"), execute=False)
    assert claim(run.pk) is not None  # an executor took it ... and died without a trace
    long_ago = timezone.now() - dt.timedelta(minutes=10)
    Run.objects.filter(pk=run.pk).update(heartbeat_at=long_ago)

    assert recovery.run_recover_stale() == [run.pk]
    run = settle(run)
    assert run.status == Run.Status.SUCCEEDED
    assert (run.recoveries, run.executions) == (1, 2)
    assert api_server.count("/ok") == 1


def test_watchdog_leaves_runs_with_a_fresh_heartbeat_alone(shared_db):
    run = run_start(workflow=make_workflow(), execute=False)
    claim(run.pk)
    assert recovery.run_recover_stale() == []
    run.refresh_from_db()
    assert run.status == Run.Status.RUNNING


def test_watchdog_fails_a_run_after_max_recoveries_with_the_reason(shared_db, settings):
    settings.WFAIB = {**settings.WFAIB, "MAX_RECOVERIES": 2}
    workflow = make_workflow()
    workflow.max_concurrency = 1
    workflow.save(update_fields=["max_concurrency"])
    run = run_start(workflow=workflow, execute=False)
    claim(run.pk)
    Run.objects.filter(pk=run.pk).update(
        recoveries=2, heartbeat_at=timezone.now() - dt.timedelta(minutes=10))
    behind = run_start(workflow=workflow, execute=False)
    assert claim(behind.pk) is None  # the lost run holds the only slot

    assert recovery.run_recover_stale() == []
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED
    assert "recovered 2 times, the limit is 2" in run.error
    assert run.finished_at is not None
    assert settle(behind).status == Run.Status.SUCCEEDED  # the freed slot was handed on


def test_a_run_the_watchdog_fails_starts_its_error_workflow(shared_db, settings):
    settings.WFAIB = {**settings.WFAIB, "MAX_RECOVERIES": 0}
    workflow = make_workflow()
    handler = make_workflow(owner=workflow.owner, name="on-error")
    workflow.error_workflow = handler
    workflow.save(update_fields=["error_workflow"])
    run = run_start(workflow=workflow, execute=False)
    claim(run.pk)
    Run.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - dt.timedelta(minutes=10))
    recovery.run_recover_stale()
    started = Run.objects.get(workflow=handler)
    assert started.trigger == Run.Trigger.ERROR
    assert started.input["run_id"] == run.pk
    assert "process executing" in started.input["error"]
    assert settle(started).status == Run.Status.SUCCEEDED


def test_watchdog_finishes_a_lost_run_whose_cancellation_was_requested(shared_db):
    run = run_start(workflow=make_workflow(), execute=False)
    claim(run.pk)
    Run.objects.filter(pk=run.pk).update(
        cancel_requested=True, heartbeat_at=timezone.now() - dt.timedelta(minutes=10))
    recovery.run_recover_stale()
    run.refresh_from_db()
    assert run.status == Run.Status.CANCELLED


def test_start_up_recovery_dispatches_queued_runs_left_behind(shared_db):
    runs = [run_start(workflow=make_workflow(), input={"n": i}, execute=False) for i in range(3)]
    assert sorted(recovery.run_recover_on_startup()) == sorted(r.pk for r in runs)
    for run in runs:
        assert settle(run).status == Run.Status.SUCCEEDED


def test_queued_runs_nobody_took_are_dispatched_again(shared_db, settings):
    settings.WFAIB = {**settings.WFAIB, "REDISPATCH_AFTER": 60.0}
    fresh = run_start(workflow=make_workflow(), execute=False)
    lost = run_start(workflow=make_workflow(), execute=False)
    Run.objects.filter(pk=lost.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))

    assert recovery.run_redispatch_queued() == [lost.pk]
    assert settle(lost).status == Run.Status.SUCCEEDED
    fresh.refresh_from_db()
    assert fresh.status == Run.Status.QUEUED


class PauseNode(NodeType):
    """Test node: waits until the time given in its input."""

    type = "test_pause"
    label = "Pause (test)"

    def run(self, ctx, config, input):
        return Wait(resume_at=dt.datetime.fromisoformat(input["until"]),
                    output={"paused_until": input["until"]})


@pytest.fixture
def pause_node():
    with registry.temporarily(PauseNode):
        yield


def test_waiting_run_is_resumed_when_its_time_comes(shared_db, pause_node):
    # Far enough ahead that a loaded CI machine has not reached it by the first assertion (at
    # one second, a PostgreSQL CI run found the pause already over).
    until = timezone.now() + dt.timedelta(seconds=4)
    workflow = make_workflow(definition=simple_definition({"id": "pause", "type": "test_pause"}))
    run = run_start(workflow=workflow, input={"until": until.isoformat()}, execute=False)
    dispatch.execute(run.pk)
    run.refresh_from_db()
    assert run.status == Run.Status.WAITING
    assert run.resume_at == until

    assert recovery.run_resume_due(now=until - dt.timedelta(milliseconds=1)) == []
    run.refresh_from_db()
    assert run.status == Run.Status.WAITING

    wait_until(lambda: timezone.now() >= until, "the resume time")
    assert recovery.run_resume_due() == [run.pk]
    run = settle(run)
    assert run.status == Run.Status.SUCCEEDED
    assert run.result == {"paused_until": until.isoformat()}


def test_cancelling_queued_and_waiting_runs_keeps_them_from_running(shared_db, pause_node):
    queued = run_start(workflow=make_workflow(), execute=False)
    run_cancel(run=queued)
    assert dispatch.execute(queued.pk) is None  # a late hand-out finds nothing to do
    queued.refresh_from_db()
    assert queued.status == Run.Status.CANCELLED
    assert not queued.logs.exists()

    workflow = make_workflow(definition=simple_definition({"id": "pause", "type": "test_pause"}))
    past = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    waiting = run_start(workflow=workflow, input={"until": past}, execute=False)
    dispatch.execute(waiting.pk)
    run_cancel(run=waiting)
    assert recovery.run_resume_due(now=timezone.now() + dt.timedelta(hours=2)) == []
    waiting.refresh_from_db()
    assert waiting.status == Run.Status.CANCELLED


def test_max_concurrency_keeps_extra_runs_queued_and_starts_them_in_order(
        shared_db, slow_server):
    workflow = make_workflow(definition=slow_server.definition())
    workflow.max_concurrency = 1
    workflow.save(update_fields=["max_concurrency"])
    runs = [run_start(workflow=workflow, input={"n": i}) for i in range(3)]  # dispatched

    wait_until(slow_server.entered.is_set, "the first run to reach the slow node")
    statuses = dict(Run.objects.filter(workflow=workflow).values_list("pk", "status"))
    assert statuses == {runs[0].pk: "running", runs[1].pk: "queued", runs[2].pk: "queued"}
    assert dispatch.execute(runs[1].pk) is None  # no free slot: it stays queued
    assert dispatch.execute(runs[2].pk) is None

    slow_server.release()
    for run in runs:
        assert settle(run).status == Run.Status.SUCCEEDED
    started = [Run.objects.get(pk=r.pk).started_at for r in runs]
    finished = [Run.objects.get(pk=r.pk).finished_at for r in runs]
    assert started == sorted(started)
    assert started[1] >= finished[0]  # one at a time
    assert started[2] >= finished[1]
    assert slow_server.server.count("/first") == 3


def test_concurrent_claims_respect_the_limit(shared_db):
    workflow = make_workflow()
    workflow.max_concurrency = 1
    workflow.save(update_fields=["max_concurrency"])
    for _ in range(5):
        a = run_start(workflow=workflow, execute=False)
        b = run_start(workflow=workflow, execute=False)
        barrier = threading.Barrier(2)
        claimed: list[int] = []

        def take(run_id: int, barrier=barrier, claimed=claimed) -> None:
            from django.db import connection

            barrier.wait()
            try:
                if claim(run_id) is not None:
                    claimed.append(run_id)
            finally:
                connection.close()

        threads = [threading.Thread(target=take, args=(r.pk,)) for r in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert claimed == [a.pk]  # the older run, and only it
        Run.objects.filter(pk__in=[a.pk, b.pk]).update(status=Run.Status.SUCCEEDED)


def test_a_long_node_keeps_heartbeating_and_is_never_taken_from_its_process(
        shared_db, slow_server):
    workflow = make_workflow(definition=slow_server.definition())
    run = run_start(workflow=workflow)  # executed by this process's pool
    wait_until(slow_server.entered.is_set, "the run to reach the slow node")
    run.refresh_from_db()
    first_beat = run.heartbeat_at
    wait_until(lambda: Run.objects.get(pk=run.pk).heartbeat_at > first_beat,
               "a heartbeat while the slow node is still running")
    assert not slow_server.gate.is_set()

    # Even when its heartbeat looks stale (say the machine slept), the watchdog of the process
    # executing the run leaves it alone.
    Run.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - dt.timedelta(hours=1))
    assert recovery.run_recover_stale() == []
    slow_server.release()
    run = settle(run)
    assert run.status == Run.Status.SUCCEEDED
    assert (run.executions, run.recoveries) == (1, 0)
