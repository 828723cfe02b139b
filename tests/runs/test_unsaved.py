"""runs.unsaved.Unsaved builds the same unsaved Run as Django's keyword constructor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import signals
from django.utils import timezone

from runs.models import Run
from runs.unsaved import Unsaved
from tests.factories import make_workflow
from workflows.models import Workflow
from workflows.services import current_version

pytestmark = pytest.mark.django_db


def _fields(obj) -> dict:
    return {k: v for k, v in obj.__dict__.items() if k != "_state"}


@pytest.fixture(params=["direct", "constructor"])
def new_run(request, monkeypatch):
    """Both ways: filling __dict__, and Django's positional constructor (taken when a field
    has a descriptor of its own or something listens to Run's init signals)."""
    made = Unsaved(Run)
    if request.param == "constructor":
        monkeypatch.setattr(made, "_plain", False)
    assert made.direct() is (request.param == "direct")
    return made


def test_a_new_run_equals_the_keyword_constructors(user, new_run):
    workflow = make_workflow(owner=user)
    version = current_version(workflow)
    values = {"workflow": workflow, "version": version, "trigger": "webhook",
              "input": {"a": [1, 2]}, "trace_context": {"traceparent": "00-x"}}
    made, reference = new_run(**values), Run(**values)
    assert abs(made.created_at - reference.created_at) < timedelta(seconds=5)  # now(), each
    made.created_at = reference.created_at
    assert _fields(made) == _fields(reference)
    assert made.workflow is workflow  # cached as the constructor caches it
    assert made.version is version
    assert made.workflow_id == workflow.pk
    assert made._state.adding
    assert made._state.db is None
    assert made.pk is None
    assert made.get_deferred_fields() == set()
    assert made.status == Run.Status.QUEUED


def test_a_callable_default_is_called_for_each_run(new_run):
    first = new_run(trigger="manual")
    later = new_run(trigger="manual")
    assert first.created_at <= later.created_at <= timezone.now()
    assert first.created_at is not later.created_at


def test_a_relation_by_its_key_and_an_unsaved_related_object(new_run):
    assert new_run(workflow_id=12).workflow_id == 12
    parent = Run()  # unsaved: its key is None, as Run(parent_run=parent) takes it
    child = new_run(parent_run=parent)
    assert child.parent_run_id is None
    assert child.parent_run is parent
    assert new_run(parent_run=None).parent_run is None


def test_it_refuses_an_unknown_field_and_an_object_of_another_model(user, new_run):
    with pytest.raises(TypeError, match="no field 'colour'"):
        new_run(colour="red")
    with pytest.raises(ValueError, match="Run.version must be a WorkflowVersion"):
        new_run(version=make_workflow(owner=user))
    assert isinstance(make_workflow(owner=user), Workflow)


def test_a_new_run_is_stored_as_the_constructors_is(user, new_run):
    workflow = make_workflow(owner=user)
    run = new_run(workflow=workflow, version=current_version(workflow), trigger="webhook",
                  input={"b": 1})
    run.save()
    stored = Run.objects.get(pk=run.pk)
    assert (stored.workflow_id, stored.input, stored.status) == (workflow.pk, {"b": 1},
                                                                  "queued")


def test_an_init_listener_for_runs_is_called():
    """Something listening to Run's post_init still hears every new run: the direct way
    steps aside for the constructor."""
    made = Unsaved(Run)
    heard = []

    def listener(sender, instance, **kwargs):
        heard.append(instance.trigger)

    signals.post_init.connect(listener, sender=Run)
    try:
        assert not made.direct()
        made(trigger="cli")
    finally:
        signals.post_init.disconnect(listener, sender=Run)
    assert heard == ["cli"]
    assert made.direct()


def test_a_mutable_default_is_refused(monkeypatch):
    field = Run._meta.get_field("input")
    shared: list = []  # one list for every object: refused
    monkeypatch.setattr(field, "default", shared)
    monkeypatch.setitem(field.__dict__, "_get_default", lambda: shared)  # Django's cache
    with pytest.raises(TypeError, match="Run.input: a mutable default cannot be shared"):
        Unsaved(Run)()
