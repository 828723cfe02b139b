"""run_start and run_start_idempotent: what a start returns (no ad-hoc attributes on Run)."""

from __future__ import annotations

import pytest

from runs.models import Run
from runs.services import RunStart, run_start, run_start_idempotent
from tests.factories import make_workflow


@pytest.mark.django_db
def test_a_repeated_key_returns_the_first_run_marked_not_created(user) -> None:
    workflow = make_workflow(owner=user)
    first = run_start_idempotent(workflow=workflow, input={"n": 1}, trigger="api", key="k1")
    again = run_start_idempotent(workflow=workflow, input={"n": 2}, trigger="api", key="k1")
    assert isinstance(first, RunStart)
    assert (first.created, again.created) == (True, False)
    assert again.run.pk == first.run.pk
    assert again.run.input == {"n": 1}
    assert Run.objects.filter(workflow=workflow).count() == 1
    other = run_start_idempotent(workflow=make_workflow(owner=user), trigger="api", key="k1")
    assert other.created  # keys are per workflow


@pytest.mark.django_db
def test_an_empty_key_always_starts_a_run(user) -> None:
    workflow = make_workflow(owner=user)
    runs = [run_start_idempotent(workflow=workflow, trigger="webhook", key="") for _ in "ab"]
    assert all(started.created for started in runs)
    assert runs[0].run.pk != runs[1].run.pk


@pytest.mark.django_db
def test_run_start_returns_a_plain_run(user) -> None:
    run = run_start(workflow=make_workflow(owner=user), execute=False)
    assert isinstance(run, Run)
    assert not hasattr(run, "created")
    assert run.idempotency_key == ""
