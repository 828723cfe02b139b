"""The engine's one observation point (runs/engine/observe.py): observers see each execution,
node attempt and end, in order; an observer that fails never changes a run."""

from __future__ import annotations

import contextlib

import pytest

from runs.engine import observe
from runs.models import Run
from tests.factories import make_workflow, run_now, simple_definition


class Recorder(observe.Observer):
    def __init__(self) -> None:
        self.events: list[tuple] = []

    @contextlib.contextmanager
    def execution(self, run):
        self.events.append(("execution", run.pk))
        yield
        self.events.append(("execution done", run.pk))

    @contextlib.contextmanager
    def node(self, run, node_id, node_type):
        try:
            yield
            self.events.append(("node", node_id, node_type, "ok"))
        except Exception:
            self.events.append(("node", node_id, node_type, "failed"))
            raise

    def run_ended(self, run, status):
        self.events.append(("ended", status))


class Broken(observe.Observer):
    @contextlib.contextmanager
    def execution(self, run):
        raise RuntimeError("observer broke on entry")
        yield

    @contextlib.contextmanager
    def node(self, run, node_id, node_type):
        yield
        raise RuntimeError("observer broke on exit")

    def run_ended(self, run, status):
        raise RuntimeError("observer broke at the end")


@pytest.fixture
def installed():
    added: list[observe.Observer] = []

    def install(one):
        added.append(observe.install(one))
        return one

    yield install
    for one in added:
        observe.uninstall(one)


@pytest.mark.django_db
def test_observers_see_executions_nodes_and_the_end(installed):
    recorder = installed(Recorder())
    wf = make_workflow(definition=simple_definition(
        {"id": "bad", "type": "transform", "config": {"expression": "1/0"}}))
    run = run_now(wf)
    assert run.status == Run.Status.FAILED
    assert recorder.events == [("execution", run.pk), ("node", "trigger", "webhook", "ok"),
                               ("node", "bad", "transform", "failed"),
                               ("ended", "failed"), ("execution done", run.pk)]


@pytest.mark.django_db
def test_a_failing_observer_changes_nothing(installed, caplog):
    installed(Broken())
    recorder = installed(Recorder())
    wf = make_workflow(definition=simple_definition(
        {"id": "t", "type": "transform", "config": {"expression": "input.n + 1"}}))
    run = run_now(wf, input={"n": 1})
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.result == 2
    assert ("ended", "succeeded") in recorder.events
    assert "observer broke on entry" in caplog.text
    assert "observer broke at the end" in caplog.text


class Swallower(observe.Observer):
    """An observer whose node hook claims to handle every exception (returns True)."""

    def node(self, run, node_id, node_type):
        return self

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return True


@pytest.mark.django_db
def test_an_observer_cannot_swallow_a_node_failure(installed):
    installed(Swallower())
    recorder = installed(Recorder())
    wf = make_workflow(definition=simple_definition(
        {"id": "bad", "type": "transform", "config": {"expression": "1/0"}}))
    run = run_now(wf)
    assert run.status == Run.Status.FAILED
    assert run.error_node_id == "bad"
    assert ("node", "bad", "transform", "failed") in recorder.events
