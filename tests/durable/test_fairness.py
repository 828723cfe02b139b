"""Fairness between tenants (runs/tenancy.py): one user's infinite-loop code nodes cannot starve
another user's runs, the first user's excess runs wait queued, a node's timeout is capped by the
operator, and a synchronous webhook answers 202 at WFAIB_WEBHOOK_SYNC_TIMEOUT even while its
code runs."""

from __future__ import annotations

import pytest
from django.test import Client

from runs import dispatch
from runs.engine import sandbox_process
from runs.models import Run
from runs.services import run_cancel, run_start
from tests.factories import UserFactory, make_workflow, simple_definition

from .conftest import wait_until

pytestmark = pytest.mark.slow


def code_workflow(owner, code: str, timeout: float | None = None, **kwargs):
    config = {"code": code, **({"timeout": timeout} if timeout else {})}
    return make_workflow(owner=owner, definition=simple_definition(
        {"id": "code", "type": "code", "config": config}), **kwargs)


def statuses(runs: list[Run]) -> list[str]:
    for run in runs:
        run.refresh_from_db()
    return sorted(run.status for run in runs)


@pytest.fixture
def fair(settings):
    settings.WFAIB = {**settings.WFAIB, "TENANT_MAX_RUNNING": 2, "CODE_WORKERS": 2,
                      "TENANT_CODE_WORKERS": 1, "MAX_NODE_TIMEOUT": 8.0,
                      "WEBHOOK_SYNC_TIMEOUT": 0.5, "EXECUTOR": "inline"}
    yield settings
    sandbox_process.pool().close()


def test_one_tenants_endless_code_does_not_starve_another(shared_db, fair):
    hog, neighbour = UserFactory(), UserFactory()
    simple = code_workflow(neighbour, "result = 1 + 1")
    baseline = run_start(workflow=simple, trigger="api")
    wait_until(lambda: statuses([baseline]) == ["succeeded"], "the baseline run")

    endless = code_workflow(hog, "while True:\n    pass", timeout=40)  # capped at 8 s
    hogs = [run_start(workflow=endless, trigger="api") for _ in range(4)]
    wait_until(lambda: statuses(hogs) == ["queued", "queued", "running", "running"],
               "two of the hog's runs running, two queued")

    mine = run_start(workflow=simple, trigger="api")
    wait_until(lambda: statuses([mine]) in (["succeeded"], ["failed"]), "the neighbour's run")
    mine.refresh_from_db()
    assert mine.status == Run.Status.SUCCEEDED, mine.error
    assert mine.result == 2
    # It finished while the hog's first runs still ran and its excess runs still waited.
    assert statuses(hogs) == ["queued", "queued", "running", "running"]

    for run in hogs:
        if run.status == Run.Status.QUEUED:
            run_cancel(run=run)
    wait_until(lambda: all(s in Run.FINISHED for s in statuses(hogs)), "the hog's runs to end")
    failed = [run for run in hogs if run.status == Run.Status.FAILED]
    assert len(failed) == 2
    assert all("timed out after 8s" in run.error for run in failed), [r.error for r in failed]


def test_a_sync_webhook_answers_202_at_its_timeout_while_code_runs(shared_db, fair):
    endless = code_workflow(UserFactory(), "while True:\n    pass", timeout=40)
    answer = Client().post(f"/api/webhook/{endless.pk}", b'{"a": 1}',
                           content_type="application/json")
    assert answer.status_code == 202, answer.content
    run = Run.objects.get(pk=answer.json()["run"])
    assert run.status in (Run.Status.QUEUED, Run.Status.RUNNING)  # answered before its end
    dispatch.wait_for_run(run.pk, 60)
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED
    assert "timed out after 8s" in run.error
