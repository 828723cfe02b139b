"""The engine over its in-memory journal (no database), and the database journal's retries."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.utils import timezone

from runs.engine import journal as journal_module
from runs.engine.executor import RunExecution
from runs.engine.hooks import NO_HOOKS, EngineHooks
from runs.engine.journal import _retrying
from runs.engine.memory_journals import MemoryJournal
from runs.models import Run, RunLog
from workflows.models import Workflow, WorkflowVersion


def unsaved_run(*nodes, edges=None, payload=None) -> Run:
    all_nodes = [{"id": "trigger", "type": "webhook", "config": {}}, *nodes]
    if edges is None:
        edges = [{"from": a["id"], "to": b["id"]}
                 for a, b in zip(all_nodes, all_nodes[1:], strict=False)]
    definition = {"name": "mem", "nodes": all_nodes, "edges": edges}
    workflow = Workflow(name="mem", definition=definition, version=1)
    version = WorkflowVersion(workflow=workflow, number=1, definition=definition)
    return Run(workflow=workflow, version=version, input=payload, trigger="manual",
               status="running", started_at=timezone.now())


def t(node_id, expression):
    return {"id": node_id, "type": "transform", "config": {"expression": expression}}


def test_a_run_executes_in_memory_and_keeps_every_log():
    run = unsaved_run(t("a", "input.n + 1"), t("b", "input * 10"), payload={"n": 1})
    journal = MemoryJournal(run)
    assert RunExecution(run, journal=journal, hooks=NO_HOOKS).execute() == "succeeded"
    assert (run.status, run.result) == ("succeeded", 20)
    assert [(log.node_id, log.status) for log in journal.written] == [
        ("trigger", "succeeded"), ("a", "succeeded"), ("b", "succeeded")]


def test_a_run_resumes_from_the_journal_checkpoints():
    run = unsaved_run(t("a", "input.n + 1"), t("b", "nodes.a * 10"), payload={"n": 1})
    saved = [RunLog(node_id="trigger", status="succeeded", output={"n": 1}, attempt=1),
             RunLog(node_id="a", status="succeeded", output=41, attempt=1)]
    journal = MemoryJournal(run, saved=saved)
    assert RunExecution(run, journal=journal, hooks=NO_HOOKS).execute() == "succeeded"
    assert run.result == 410  # `a` was not run again: its checkpoint's output was used
    assert [log.node_id for log in journal.written] == ["b"]


def test_cancellation_is_asked_of_the_journal():
    run = unsaved_run(t("a", "1"))
    journal = MemoryJournal(run, cancel=lambda: True)
    assert RunExecution(run, journal=journal, hooks=NO_HOOKS).execute() == "cancelled"
    assert (run.status, run.error) == ("cancelled", "cancelled by request")


def test_a_failed_run_reports_through_the_hooks():
    seen = []
    run = unsaved_run(t("a", "1 / 0"))
    hooks = EngineHooks(after_finish=lambda r, status: seen.append((r, status)))
    assert RunExecution(run, journal=MemoryJournal(run), hooks=hooks).execute() == "failed"
    assert seen == [(run, "failed")]
    assert run.error_node_id == "a"


def test_a_write_is_tried_again_on_a_new_connection(transactional_db, monkeypatch):
    from django.db import connection

    monkeypatch.setattr(journal_module, "DB_BACKOFF", (0.0, 0.0))
    Run.objects.count()  # this thread's connection is open
    seen = []

    def flaky():
        seen.append(connection.connection)  # None: closed since the last try
        if len(seen) < 3:
            raise OperationalError("server closed the connection unexpectedly")
        return Run.objects.count()

    assert _retrying("a test write", 1, flaky) == 0
    assert seen[0] is not None
    assert seen[1:] == [None, None]


def test_a_write_gives_up_after_its_retries(transactional_db, monkeypatch):
    monkeypatch.setattr(journal_module, "DB_BACKOFF", (0.0, 0.0))
    monkeypatch.setattr(journal_module, "DB_RETRIES", 2)
    calls = []

    def down():
        calls.append(1)
        raise OperationalError("connection refused")

    with pytest.raises(OperationalError):
        _retrying("a test write", 1, down)
    assert len(calls) == 3


@pytest.mark.django_db
def test_a_write_inside_a_transaction_is_not_tried_again(monkeypatch):
    """Inside a transaction the caller must redo the whole transaction, not one statement."""
    calls = []

    def down():
        calls.append(1)
        raise OperationalError("connection refused")

    with pytest.raises(OperationalError):
        _retrying("a test write", 1, down)
    assert len(calls) == 1
