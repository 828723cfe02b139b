"""runs.engine.log_rows.new_log builds the same RunLog as the keyword constructor."""

import pytest
from django.utils import timezone

from runs.engine.log_rows import new_log
from runs.models import Run, RunLog


def _fields(log: RunLog) -> dict:
    return {k: v for k, v in log.__dict__.items() if k != "_state"}


@pytest.mark.parametrize("pk", [None, 41])
def test_new_log_equals_the_keyword_constructor(pk):
    run = Run(pk=pk)
    now = timezone.now()
    values = {"node_id": "t1", "node_type": "transform", "attempt": 2, "scope": "loop[1]",
              "started_at": now, "input": {"a": [1, 2]}}
    made, reference = new_log(run, **values), RunLog(run=run, **values)
    assert _fields(made) == _fields(reference)
    assert made.run is run
    assert made._state.adding
    assert made.pk is None


def test_new_log_refuses_an_unknown_field():
    with pytest.raises(TypeError, match="no field 'colour'"):
        new_log(Run(pk=1), node_id="a", colour="red")


@pytest.mark.django_db
def test_a_log_of_a_run_stored_later_takes_its_id():
    from django.contrib.auth import get_user_model

    from workflows.services import workflow_create

    owner = get_user_model().objects.create_user("logrows", password="x-Long-pass-123")
    workflow = workflow_create(owner=owner, name="w", definition={
        "name": "w", "nodes": [{"id": "trigger", "type": "webhook", "config": {}}],
        "edges": []})
    run = Run(workflow=workflow, version=workflow.versions.first(), input=None,
              trigger="manual")
    log = new_log(run, node_id="trigger", node_type="webhook", status="succeeded")
    run.save()
    log.save()
    assert RunLog.objects.get(pk=log.pk).run_id == run.pk
