"""A `respond` node's answer reaches the waiting webhook request through an in-process signal
(runs/engine/answered.py), not by polling the run's row; the answer's row is committed first."""

from __future__ import annotations

import threading

import pytest
from django.test import Client

from nodes.base import NodeType
from nodes.registry import registry
from runs.dispatch import wait_for_run
from runs.engine import answered
from runs.models import Run
from runs.webhooks import gateway
from tests.factories import make_workflow, simple_definition

pytestmark = pytest.mark.django_db(transaction=True)


class HoldNode(NodeType):
    """Holds its run until the test releases it (and tells when it started)."""

    type = "test_hold"
    label = "Hold"
    started = threading.Event()
    release = threading.Event()

    def run(self, ctx, config, input):
        self.started.set()
        self.release.wait(30)
        return input


@pytest.fixture(autouse=True)
def _no_polling(monkeypatch):
    def polled(*args, **kwargs):
        raise AssertionError("the webhook polled the run's row")

    monkeypatch.setattr(gateway, "wait_for_answer", polled)
    HoldNode.started.clear()
    HoldNode.release.clear()
    with registry.temporarily(HoldNode):
        yield
    HoldNode.release.set()
    for run_id in Run.objects.exclude(status__in=Run.FINISHED).values_list("id", flat=True):
        wait_for_run(run_id, 30)
    assert answered.waiting() == 0  # no request left registered


def respond(body="{{ input }}", status=201) -> dict:
    return {"id": "answer", "type": "respond",
            "config": {"status": status, "headers": {"X-Kind": "early"}, "body": body}}


def hold(node_id="hold") -> dict:
    return {"id": node_id, "type": "test_hold", "config": {}}


def post(workflow):
    return Client().post(f"/api/webhook/{workflow.pk}", b'{"name": "ada"}',
                         content_type="application/json")


def test_the_answer_comes_while_the_run_goes_on_and_is_committed_first(user):
    workflow = make_workflow(owner=user, definition=simple_definition(respond(), hold()))
    answer = post(workflow)
    assert answer.status_code == 201, answer.content
    assert answer.json() == {"name": "ada"}
    assert answer["X-Kind"] == "early"
    run = Run.objects.get(pk=int(answer["X-Run-Id"]))
    assert run.status == Run.Status.RUNNING  # the hold node still holds it
    assert run.response["body"] == {"name": "ada"}  # stored before it was answered
    HoldNode.release.set()
    assert wait_for_run(run.pk, 30)
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED
    assert list(run.logs.values_list("node_id", flat=True).order_by("id")) == [
        "trigger", "answer", "hold"]


def test_a_run_that_fails_before_its_respond_node_is_answered_500(user):
    boom = {"id": "boom", "type": "transform", "config": {"expression": "1/0"}}
    workflow = make_workflow(owner=user, definition=simple_definition(boom, respond()))
    answer = post(workflow)
    assert answer.status_code == 500
    assert answer.json()["code"] == "run_failed"
    assert answer.json()["error_node_id"] == "boom"


def test_a_respond_node_that_is_not_reached_in_time_is_answered_202(user, settings):
    settings.WFAIB = {**settings.WFAIB, "WEBHOOK_SYNC_TIMEOUT": 0.2}
    workflow = make_workflow(owner=user, definition=simple_definition(hold(), respond()))
    answer = post(workflow)
    assert answer.status_code == 202
    assert answer.json()["status"] == Run.Status.RUNNING
    HoldNode.release.set()
    run_id = answer.json()["run"]
    assert wait_for_run(run_id, 30)
    run = Run.objects.get(pk=run_id)
    assert run.status == Run.Status.SUCCEEDED
    assert run.response["status"] == 201  # stored for whoever reads the run


def test_a_finished_run_with_a_respond_node_answers_with_it(user):
    workflow = make_workflow(owner=user, definition=simple_definition(respond(status=200)))
    answers = [post(workflow) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert all(a.json() == {"name": "ada"} for a in answers)
    for a in answers:  # answered on the signal: a run may still be writing its last log
        assert wait_for_run(int(a["X-Run-Id"]), 30)
    assert Run.objects.filter(workflow=workflow, status=Run.Status.SUCCEEDED).count() == 3


def test_a_workflow_answering_last_runs_deferred_and_one_going_on_is_signalled(user):
    from runs.dispatch import sync_shape
    from workflows.services import current_version

    last = make_workflow(owner=user, definition=simple_definition(
        {"id": "shape", "type": "transform", "config": {"expression": "input"}}, respond()))
    going_on = make_workflow(owner=user, definition=simple_definition(respond(), hold()))
    naming_run = make_workflow(owner=user, definition=simple_definition(
        respond(body="{{ run.id }}")))
    assert sync_shape(current_version(last)) == "deferred"
    assert sync_shape(current_version(going_on)) == "polled"
    assert sync_shape(current_version(naming_run)) == "polled"  # no id before it is stored
    answer = post(last)
    assert answer.status_code == 201
    assert answer.json() == {"name": "ada"}
    run = Run.objects.get(pk=int(answer["X-Run-Id"]))  # stored before it was answered
    assert run.status == Run.Status.SUCCEEDED
    assert run.response["body"] == {"name": "ada"}
    assert run.logs.count() == 3
