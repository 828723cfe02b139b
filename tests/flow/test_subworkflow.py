"""The subworkflow node: results, errors, ownership, recursion bound, waiting children."""

import pytest
from django.test import override_settings

from accounts.services import project_create
from runs.engine.executor import execute_run
from runs.models import Run
from tests.factories import UserFactory, make_workflow, run_now
from workflows.services import workflow_update

from .helpers import e, graph, n, t
from .test_waits import make_due

pytestmark = pytest.mark.django_db


def parent_of(child, owner=None, **config):
    d = graph(n("sub", "subworkflow", workflow=child.pk, **config), t("after", "input"),
              edges=[e("trigger", "sub"), e("sub", "after")])
    return make_workflow(owner=owner or child.owner, definition=d, name="parent")


def test_runs_the_child_and_returns_its_result(user):
    child = make_workflow(owner=user, name="double", definition=graph(
        t("x2", "input.n * 2"), edges=[e("trigger", "x2")]))
    parent = parent_of(child, input={"n": "{{ input.value }}"})
    run = run_now(parent, input={"value": 21})
    assert run.status == "succeeded", run.error
    assert run.result == 42
    kid = Run.objects.get(parent_run=run)
    assert (kid.workflow_id, kid.trigger, kid.depth, kid.input, kid.status) == (
        child.pk, "subworkflow", 1, {"n": 21}, "succeeded")


def test_child_failure_fails_the_parent_node_with_the_childs_error(user):
    child = make_workflow(owner=user, name="broken", definition=graph(
        t("boom", "1 // 0"), edges=[e("trigger", "boom")]))
    run = run_now(parent_of(child))
    assert run.status == "failed"
    assert run.error_node_id == "sub"
    kid = Run.objects.get(parent_run=run)
    assert f"sub-workflow 'broken' (run {kid.pk}) failed at node 'boom'" in run.error
    assert "ZeroDivisionError" in run.error
    assert run.logs.get(node_id="sub").output["run_id"] == kid.pk


def test_child_failure_can_be_routed_like_any_error(user):
    child = make_workflow(owner=user, definition=graph(t("boom", "1 // 0"),
                                                       edges=[e("trigger", "boom")]))
    d = graph(n("sub", "subworkflow", {"on_error": "route"}, workflow=child.pk),
              t("handled", "input.details.error_node_id"),
              edges=[e("trigger", "sub"), e("sub", "handled", "error")])
    run = run_now(make_workflow(owner=user, definition=d))
    assert run.status == "succeeded"
    assert run.result == "boom"


def test_only_workflows_of_the_same_project_can_be_called(user):
    stranger = make_workflow(owner=UserFactory(), definition=graph(
        t("x", "'secret'"), edges=[e("trigger", "x")]))
    run = run_now(parent_of(stranger, owner=user))
    assert run.status == "failed"
    assert f"no workflow {stranger.pk} in this workflow's project" in run.error
    assert not Run.objects.filter(workflow=stranger).exists()


def test_a_teammates_workflow_in_the_same_project_can_be_called(user):
    team = project_create(name="team", creator=user)
    mate = UserFactory()
    child = make_workflow(owner=mate, project=team, definition=graph(
        t("x", "'shared'"), edges=[e("trigger", "x")]))
    parent = parent_of(child, owner=user)
    workflow_update(workflow=parent, user=user, project=team)
    run = run_now(parent)
    assert run.status == "succeeded", run.error


@override_settings(WFAIB={"MAX_SUBWORKFLOW_DEPTH": 3, "EXECUTOR": "inline"})
def test_recursion_is_bounded(user):
    wf = make_workflow(owner=user, definition=graph(t("x", "1"), edges=[e("trigger", "x")]))
    workflow_update(workflow=wf, user=user, definition=graph(
        n("again", "subworkflow", workflow=wf.pk), edges=[e("trigger", "again")]))
    run = run_now(wf)
    assert run.status == "failed"
    assert "sub-workflows nest at most 3 levels deep" in run.error
    assert sorted(Run.objects.values_list("depth", flat=True)) == [0, 1, 2, 3]
    assert set(Run.objects.values_list("status", flat=True)) == {"failed"}


def test_a_waiting_child_makes_the_parent_wait_and_resume_with_its_result(user):
    child = make_workflow(owner=user, name="slow", definition=graph(
        n("pause", "delay", seconds=3600), t("done", "'child done'"),
        edges=[e("trigger", "pause"), e("pause", "done")]))
    run = run_now(parent_of(child))
    assert run.status == "waiting"
    kid = Run.objects.get(parent_run=run)
    assert kid.status == "waiting"
    assert run.logs.get(node_id="sub").output["child_run"] == kid.pk

    make_due(kid)
    assert execute_run(kid.pk) == "succeeded"
    run.refresh_from_db()
    assert run.status == "queued"  # the child's end queued its parent
    assert execute_run(run.pk) == "succeeded"
    run.refresh_from_db()
    assert run.result == "child done"
