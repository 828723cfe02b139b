"""Retrying failed runs (from the failed node, from the start, with edited input, pinned or
current version, in bulk) and error workflows."""

import pytest

from runs.engine.executor import execute_run
from runs.models import Run
from runs.services import RetryNotAllowed, run_retry, run_retry_bulk
from tests.factories import make_workflow, run_now
from workflows.models import Workflow
from workflows.services import workflow_update

from .helpers import e, graph, n, statuses, t

pytestmark = pytest.mark.django_db


def pipeline(server):
    """trigger -> fetch (counted) -> flaky (fails on its first call) -> total."""
    server.json("GET", "/fetch", {"n": 20})
    calls = {"n": 0}

    def flaky(req):
        calls["n"] += 1
        if calls["n"] == 1:
            return 503, {"Content-Type": "application/json"}, b'{"error": "busy"}'
        return 200, {"Content-Type": "application/json"}, b'{"n": 22}'

    server.route("GET", "/flaky", flaky)
    return graph(n("fetch", "http", url=server.url + "/fetch"),
                 n("flaky", "http", url=server.url + "/flaky"),
                 t("total", "nodes.fetch.body.n + input.body.n + trigger.bonus"),
                 edges=[e("trigger", "fetch"), e("fetch", "flaky"), e("flaky", "total")])


def retried(run, **kwargs):
    new = run_retry(run=run, execute=False, **kwargs)
    execute_run(new.pk)
    new.refresh_from_db()
    return new


def test_retry_from_the_failed_node_reuses_earlier_outputs(api_server):
    wf = make_workflow(definition=pipeline(api_server))
    run = run_now(wf, input={"bonus": 0})
    assert run.status == "failed"
    assert run.error_node_id == "flaky"
    assert api_server.count("/fetch") == 1

    new = retried(run, mode="from_failed")
    assert new.status == "succeeded", new.error
    assert new.result == 42
    assert (new.retry_of_id, new.trigger, new.version_id) == (run.pk, "retry", run.version_id)
    assert api_server.count("/fetch") == 1  # not called again: its recorded output was used
    assert api_server.count("/flaky") == 2
    assert new.logs.get(node_id="fetch").output["body"] == {"n": 20}


def test_retry_from_the_start_runs_everything_again(api_server):
    wf = make_workflow(definition=pipeline(api_server))
    run = run_now(wf, input={"bonus": 0})
    new = retried(run, mode="from_start")
    assert new.status == "succeeded"
    assert api_server.count("/fetch") == 2


def test_retry_with_edited_input(api_server):
    wf = make_workflow(definition=pipeline(api_server))
    run = run_now(wf, input={"bonus": 0})
    new = retried(run, mode="from_start", input={"bonus": 100})
    assert new.input == {"bonus": 100}
    assert new.result == 142
    with pytest.raises(RetryNotAllowed, match="edited input runs from the start"):
        run_retry(run=run, mode="from_failed", input={"bonus": 1})


def test_retry_on_the_pinned_or_the_current_version():
    wf = make_workflow(definition=graph(t("a", "'A'"), t("b", "1 // 0"),
                                        edges=[e("trigger", "a"), e("a", "b")]))
    run = run_now(wf)
    workflow_update(workflow=wf, user=wf.owner, definition=graph(
        t("a", "'changed'"), t("b", "input + ' fixed'"), edges=[e("trigger", "a"), e("a", "b")]))
    pinned = retried(run, version="pinned")
    assert pinned.status == "failed"
    assert pinned.version.number == 1
    current = retried(run, version="current")
    assert current.status == "succeeded"
    assert current.version.number == 2
    # From the failed node: `a` kept its recorded output although v2 changed it.
    assert current.result == "A fixed"
    assert retried(run, mode="from_start", version="current").result == "changed fixed"


def test_retry_refuses_what_it_cannot_do():
    ok = run_now(make_workflow(definition=graph(t("a", "1"), edges=[e("trigger", "a")])))
    with pytest.raises(RetryNotAllowed, match="only failed or cancelled runs"):
        run_retry(run=ok)
    failed = run_now(make_workflow(definition=graph(t("a", "1//0"), edges=[e("trigger", "a")])))
    with pytest.raises(RetryNotAllowed, match="mode must be one of"):
        run_retry(run=failed, mode="sideways")
    with pytest.raises(RetryNotAllowed, match="version must be one of"):
        run_retry(run=failed, version="newest")


def test_bulk_retry_reports_what_it_skipped():
    wf = make_workflow(definition=graph(t("a", "1 // trigger.d"), edges=[e("trigger", "a")]))
    bad1, bad2, good = run_now(wf, {"d": 0}), run_now(wf, {"d": 0}), run_now(wf, {"d": 1})
    outcome = run_retry_bulk(runs=Run.objects.filter(pk__in=[bad1.pk, bad2.pk, good.pk])
                             .order_by("pk"), mode="from_start")
    assert [r["run"] for r in outcome["retried"]] == [bad1.pk, bad2.pk]
    assert outcome["skipped"] == [{"run": good.pk, "reason": f"run {good.pk} is succeeded; only "
                                   "failed or cancelled runs can be retried"}]
    new_ids = [r["retry"] for r in outcome["retried"]]
    assert set(Run.objects.filter(pk__in=new_ids).values_list("status", "retry_of")) == {
        ("queued", bad1.pk), ("queued", bad2.pk)}


def test_error_workflow_starts_with_the_failure_details():
    handler = make_workflow(name="on-failure", definition=graph(
        t("report", "input.node_id + ': ' + str(input.node_input)"),
        edges=[e("trigger", "report")]))
    wf = make_workflow(owner=handler.owner, name="main", definition=graph(
        t("prep", "{'d': 0}"), t("divide", "1 // input.d"),
        edges=[e("trigger", "prep"), e("prep", "divide")]))
    Workflow.objects.filter(pk=wf.pk).update(error_workflow=handler)
    run = run_now(wf, input={"x": 1})
    assert run.status == "failed"
    err_run = Run.objects.get(workflow=handler)
    assert err_run.trigger == "error"
    assert err_run.status == "queued"
    assert err_run.input["run_id"] == run.pk
    assert err_run.input["workflow"] == {"id": wf.pk, "name": "main"}
    assert err_run.input["node_id"] == "divide"
    assert err_run.input["node_type"] == "transform"
    assert "ZeroDivisionError" in err_run.input["error"]
    assert err_run.input["node_input"] == {"d": 0}
    assert err_run.input["input"] == {"x": 1}
    assert execute_run(err_run.pk) == "succeeded"
    err_run.refresh_from_db()
    assert err_run.result == "divide: {'d': 0}"


def test_error_workflow_does_not_chain_or_cross_owners():
    from tests.factories import UserFactory

    loop = make_workflow(definition=graph(t("boom", "1 // 0"), edges=[e("trigger", "boom")]))
    Workflow.objects.filter(pk=loop.pk).update(error_workflow=loop)
    run_now(loop)
    err_run = Run.objects.get(workflow=loop, trigger="error")
    execute_run(err_run.pk)  # fails too, but starts nothing more
    assert Run.objects.filter(workflow=loop).count() == 2

    foreign = make_workflow(owner=UserFactory(), definition=graph(
        t("x", "1"), edges=[e("trigger", "x")]))
    wf = make_workflow(definition=graph(t("boom", "1 // 0"), edges=[e("trigger", "boom")]))
    Workflow.objects.filter(pk=wf.pk).update(error_workflow=foreign)
    run_now(wf)
    assert not Run.objects.filter(workflow=foreign).exists()


def test_retry_after_a_loop_failure_reruns_the_loop_only(api_server):
    api_server.json("GET", "/once", {"ok": True})
    wf = make_workflow(definition=graph(
        n("once", "http", url=api_server.url + "/once"),
        n("each", "loop", items="{{ trigger.items }}"), t("inv", "10 // item"),
        edges=[e("trigger", "once"), e("once", "each"), e("each", "inv", "each")]))
    run = run_now(wf, input={"items": [1, 0]})
    assert run.status == "failed"
    assert run.error_node_id == "inv"
    new = retried(run, mode="from_failed")
    assert new.status == "failed"
    assert api_server.count("/once") == 1
    assert statuses(new)["once"] == "succeeded"
