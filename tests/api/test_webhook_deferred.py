"""The synchronous webhook's path for workflows of pure nodes: executed, then stored with its
logs in one transaction, answered after the commit."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runs.engine.executor import can_defer
from runs.models import Run
from tests.factories import make_workflow, simple_definition


def transform(node_id, expression):
    return {"id": node_id, "type": "transform", "config": {"expression": expression}}


def post(client, workflow, body=b'{"n": 2}'):
    return client.post(f"/api/webhook/{workflow.pk}", body, content_type="application/json")


@pytest.mark.django_db
def test_pure_run_is_stored_with_its_logs_in_one_transaction(client, user):
    wf = make_workflow(owner=user, definition=simple_definition(
        transform("a", "input.n + 1"), transform("b", "input * 10")))
    post(client, wf)  # warm caches (version, sandbox)
    with CaptureQueriesContext(connection) as queries:
        answer = post(client, wf)
    assert answer.status_code == 200
    assert answer.json()["result"] == 30
    writes = [q["sql"] for q in queries.captured_queries
              if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    assert [w.split()[2].strip('"') for w in writes] == ["runs_run", "runs_runlog"]
    run = Run.objects.get(pk=answer.json()["run"])
    assert (run.status, run.result, run.trigger, run.executions) == ("succeeded", 30, "webhook", 1)
    assert run.started_at <= run.finished_at
    assert [(log.node_id, log.status) for log in run.logs.order_by("id")] == [
        ("trigger", "succeeded"), ("a", "succeeded"), ("b", "succeeded")]


@pytest.mark.django_db
def test_failing_pure_run_is_stored_failed_and_answered_500(client, user):
    wf = make_workflow(owner=user, definition=simple_definition(transform("a", "1 / 0")))
    answer = post(client, wf)
    assert answer.status_code == 500
    assert answer.json()["error_node_id"] == "a"
    run = Run.objects.get(pk=answer.json()["run"])
    assert run.status == "failed"
    assert "division by zero" in run.error
    assert run.logs.get(node_id="a").status == "failed"


@pytest.mark.django_db(transaction=True)
def test_run_id_in_an_expression_sees_the_real_id(client, user):
    wf = make_workflow(owner=user, definition=simple_definition(transform("a", "run.id")))
    assert not can_defer(wf.definition)
    answer = post(client, wf)
    assert answer.json()["result"] == answer.json()["run"]


def test_only_pure_never_waiting_workflows_are_deferred():
    pure = simple_definition(transform("a", "1"))
    assert can_defer(pure)
    assert not can_defer(simple_definition(
        {"id": "h", "type": "http", "config": {"url": "http://127.0.0.1/"}}))
    assert not can_defer(simple_definition({"id": "d", "type": "delay",
                                            "config": {"seconds": 1}}))


@pytest.mark.django_db
def test_the_run_row_is_the_same_with_or_without_a_save_listener(client, user):
    """The run's row is inserted without Model.save (runs/prepared_inserts.py) unless something
    listens to Run's save signals; then save() runs, and the listener is called."""
    from django.db.models.signals import post_save

    wf = make_workflow(owner=user, definition=simple_definition(
        transform("a", "input.n + 1")))
    post(client, wf)  # warm caches
    plain = Run.objects.get(pk=post(client, wf).json()["run"])
    heard = []

    def listener(sender, instance, created, **kwargs):
        heard.append((instance.pk, created))

    post_save.connect(listener, sender=Run)
    try:
        saved = Run.objects.get(pk=post(client, wf).json()["run"])
    finally:
        post_save.disconnect(listener, sender=Run)
    assert heard == [(saved.pk, True)]
    assert saved.pk == plain.pk + 1
    for field in Run._meta.concrete_fields:
        if field.name not in ("id", "created_at", "started_at", "finished_at"):
            assert getattr(saved, field.attname) == getattr(plain, field.attname), field.name
    assert plain.started_at <= plain.finished_at
    assert plain.created_at is not None
    assert [log.run_id for log in plain.logs.all()] == [plain.pk, plain.pk]
