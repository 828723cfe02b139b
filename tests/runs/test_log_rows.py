"""runs.engine.log_rows.new_log builds the same RunLog as the keyword constructor."""

import pytest
from django.db.models import signals
from django.utils import timezone

from runs.engine import log_rows
from runs.engine.log_rows import new_log
from runs.models import Run, RunLog


def _fields(log: RunLog) -> dict:
    return {k: v for k, v in log.__dict__.items() if k != "_state"}


@pytest.fixture(params=["direct", "constructor"])
def way(request, monkeypatch):
    """Both ways new_log builds a row: filling __dict__, and Django's positional constructor
    (taken when a field has a descriptor of its own)."""
    if request.param == "constructor":
        monkeypatch.setattr(log_rows._NEW_LOG, "_plain", False)
    return request.param


@pytest.mark.parametrize("pk", [None, 41])
def test_new_log_equals_the_keyword_constructor(pk, way):
    assert log_rows._NEW_LOG.direct() is (way == "direct")
    run = Run(pk=pk)
    now = timezone.now()
    values = {"node_id": "t1", "node_type": "transform", "attempt": 2, "scope": "loop[1]",
              "started_at": now, "input": {"a": [1, 2]}}
    made, reference = new_log(run, **values), RunLog(run=run, **values)
    assert _fields(made) == _fields(reference)
    assert made.run is run
    assert made._state.adding
    assert made._state.db is None
    assert made.pk is None
    assert made.get_deferred_fields() == set()


def test_a_post_init_listener_for_run_logs_is_called_by_new_log():
    """Something listening to RunLog's post_init (say, an audit plugin) still hears every new
    log: the direct way steps aside for the constructor."""
    heard = []

    def listener(sender, instance, **kwargs):
        heard.append(instance.node_id)

    signals.post_init.connect(listener, sender=RunLog)
    try:
        assert not log_rows._NEW_LOG.direct()
        new_log(Run(pk=1), node_id="a")
    finally:
        signals.post_init.disconnect(listener, sender=RunLog)
    assert heard == ["a"]
    assert log_rows._NEW_LOG.direct()


@pytest.mark.parametrize("signal", ["pre_init", "post_init"])
def test_only_a_listener_for_run_logs_sets_the_direct_way_aside(signal):
    """A listener for another model's signal leaves new_log direct; one for RunLog's, or for
    every sender, does not."""
    sig = getattr(signals, signal)

    def listener(sender, **kwargs):
        pass

    for sender, direct in ((Run, True), (RunLog, False), (None, False)):
        sig.connect(listener, sender=sender)
        try:
            assert log_rows._NEW_LOG.direct() is direct, sender
        finally:
            sig.disconnect(listener, sender=sender)
        assert log_rows._NEW_LOG.direct()


def test_new_log_refuses_an_unknown_field():
    with pytest.raises(TypeError, match="no field 'colour'"):
        new_log(Run(pk=1), node_id="a", colour="red")


def _unsaved_run_and_log(username: str) -> tuple[Run, RunLog]:
    """A new run of a one-node workflow (not stored) and a new log of it."""
    from django.contrib.auth import get_user_model

    from workflows.services import workflow_create

    owner = get_user_model().objects.create_user(username, password="x-Long-pass-123")
    workflow = workflow_create(owner=owner, name="w", definition={
        "name": "w", "nodes": [{"id": "trigger", "type": "webhook", "config": {}}],
        "edges": []})
    run = Run(workflow=workflow, version=workflow.versions.first(), input=None,
              trigger="manual")
    return run, new_log(run, node_id="trigger", node_type="webhook", status="succeeded")


@pytest.mark.django_db
def test_a_log_of_a_run_stored_later_takes_its_id(way):
    run, log = _unsaved_run_and_log("logrows")
    run.save()
    log.save()
    assert RunLog.objects.get(pk=log.pk).run_id == run.pk


@pytest.mark.django_db
def test_the_logs_of_a_run_not_stored_are_refused():
    """insert_children leaves Django's per-log relation check out: it sets each log's run
    itself, and refuses a run without a key as that check would."""
    run, log = _unsaved_run_and_log("logrows2")
    with pytest.raises(ValueError, match="before their run"):
        log_rows.insert_children([(run, [log], [])])
    assert not RunLog.objects.exists()
    run.save()
    log_rows.insert_children([(run, [log], [])])
    assert RunLog.objects.get().run_id == run.pk
