"""Cancellation reaches a run whatever it is doing: the node at work (HTTP is interrupted),
the moment between its last node and its end, and a wait it is about to enter."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections

from nodes.base import NodeType
from nodes.registry import registry
from runs.engine.executor import execute_run
from runs.models import Run
from runs.services import run_cancel, run_start
from tests.factories import make_workflow, simple_definition


class CancelMeNode(NodeType):
    """Pure and quick: asks for its own run's cancellation as it works (a user pressing
    cancel while this node runs)."""

    type = "test_cancel_me"
    label = "Cancel me"
    pure = True

    def run(self, ctx, config, input):
        run_cancel(run=Run.objects.get(pk=ctx.run_id))
        return "done"


@pytest.fixture
def cancel_me():
    with registry.temporarily(CancelMeNode):
        yield


def start(*nodes):
    return run_start(workflow=make_workflow(definition=simple_definition(*nodes)), execute=False)


@pytest.mark.django_db
def test_a_cancel_requested_while_the_last_node_runs_ends_the_run_cancelled(cancel_me):
    run = start({"id": "t", "type": "transform", "config": {"expression": "1"}},
                {"id": "last", "type": "test_cancel_me"})
    assert execute_run(run.pk) == Run.Status.CANCELLED
    run.refresh_from_db()
    assert (run.status, run.error, run.result) == ("cancelled", "cancelled by request", None)
    assert run.finished_at is not None


@pytest.mark.django_db
def test_a_cancel_requested_before_a_delay_ends_the_run_instead_of_parking_it(cancel_me):
    run = start({"id": "cancel", "type": "test_cancel_me"},
                {"id": "wait", "type": "delay", "config": {"seconds": 3600}})
    assert execute_run(run.pk) == Run.Status.CANCELLED
    run.refresh_from_db()
    assert (run.status, run.resume_at) == ("cancelled", None)


@pytest.mark.django_db(transaction=True)
def test_a_cancel_interrupts_an_http_call_in_flight(api_server):
    """The server asks for the cancellation and then holds the request: the run ends
    cancelled while the request is still unanswered, not after it."""
    holding, answered = threading.Event(), threading.Event()
    release = threading.Event()

    def slow(req):
        holding.set()  # before the cancel: the run may end before this thread goes on
        try:
            run_cancel(run=Run.objects.get(pk=int(req.headers["X-Run"].split()[1])))
        finally:
            close_old_connections()
        release.wait(30)
        answered.set()
        return 200, {"Content-Type": "application/json"}, b"{}"

    api_server.route("GET", "/slow", slow)
    run = start({"id": "call", "type": "http", "config": {
        "url": api_server.url + "/slow", "headers": {"X-Run": "run {{ run.id }}"}}})
    try:
        status = execute_run(run.pk)
        run.refresh_from_db()
        assert status == Run.Status.CANCELLED, (run.error, list(run.logs.values_list("error")))
        assert holding.is_set()
        assert not answered.is_set()
    finally:
        release.set()
    run.refresh_from_db()
    assert run.status == Run.Status.CANCELLED
    log = run.logs.get(node_id="call")
    assert (log.status, log.error) == ("failed", "cancelled by request")


class ReachedNode(NodeType):
    """Pure and quick: tells the test that the run has reached it, so the node after it is
    about to start."""

    type = "test_reached"
    label = "Reached"
    pure = True
    reached = threading.Event()

    def run(self, ctx, config, input):
        ReachedNode.reached.set()
        return input


@pytest.mark.django_db(transaction=True)
def test_a_cancel_interrupts_a_code_node_at_work():
    """An endless loop in a code node (allowed 20 s): the run ends cancelled as soon as the
    cancellation is seen, its node interrupted, not failed by its timeout 20 s later.

    The cancel is sent a second after the node before the loop has finished, so that it
    reaches the loop at work rather than the gap between nodes (a cancel seen there ends the
    run before the loop starts, which is right but not what this test is about)."""
    ReachedNode.reached.clear()
    with registry.temporarily(ReachedNode):
        run = start({"id": "before", "type": "test_reached"},
                    {"id": "spin", "type": "code",
                     "config": {"code": "while True:\n    pass", "timeout": 20}})

        def cancel_when_spinning() -> None:
            try:
                if ReachedNode.reached.wait(60):
                    threading.Event().wait(1.0)
                    run_cancel(run=Run.objects.get(pk=run.pk))
            finally:
                close_old_connections()

        canceller = threading.Thread(target=cancel_when_spinning)
        canceller.start()
        status = execute_run(run.pk)
        canceller.join()
    run.refresh_from_db()
    assert status == Run.Status.CANCELLED
    log = run.logs.get(node_id="spin")
    assert (log.status, log.error) == ("failed", "cancelled by request")
