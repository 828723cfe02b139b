"""condition, switch and merge: branches taken, skipped, and joined again."""

import pytest

from runs.models import Run
from tests.factories import make_workflow, run_now

from .helpers import e, graph, n, statuses, t

pytestmark = pytest.mark.django_db


def if_else():
    return graph(
        n("check", "condition", expression="input.n > 10"),
        t("big", "'big ' + str(input.n)"), t("small", "'small ' + str(input.n)"),
        t("after_big", "input.upper()"),
        edges=[e("trigger", "check"), e("check", "big", "true"), e("check", "small", "false"),
               e("big", "after_big")],
    )


def test_condition_takes_one_branch_and_skips_the_other_downstream_too():
    wf = make_workflow(definition=if_else())
    run = run_now(wf, input={"n": 50})
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert statuses(run) == {"trigger": "succeeded", "check": "succeeded", "big": "succeeded",
                             "small": "skipped", "after_big": "succeeded"}
    assert run.result == "BIG 50"
    check = run.logs.get(node_id="check")
    assert check.ports == ["true"]
    assert check.output == {"true": {"n": 50}}

    run = run_now(wf, input={"n": 3})
    assert statuses(run) == {"trigger": "succeeded", "check": "succeeded", "big": "skipped",
                             "small": "succeeded", "after_big": "skipped"}
    assert run.result == "small 3"


def test_condition_with_a_bad_expression_fails_with_node_id():
    d = graph(n("check", "condition", expression="input.nope > 1"), t("x", "1"),
              edges=[e("trigger", "check"), e("check", "x", "true")])
    run = run_now(make_workflow(definition=d), input={})
    assert run.status == "failed"
    assert run.error_node_id == "check"


def switch_def(mode="first"):
    return graph(
        n("route", "switch", mode=mode, cases=[
            {"name": "small", "expression": "input < 10"},
            {"name": "even", "expression": "input % 2 == 0"},
        ]),
        t("s", "'small'"), t("ev", "'even'"), t("other", "'other'"),
        edges=[e("trigger", "route"), e("route", "s", "small"), e("route", "ev", "even"),
               e("route", "other", "default")],
    )


@pytest.mark.parametrize(("value", "mode", "ran"), [
    (4, "first", {"s"}),
    (4, "all", {"s", "ev"}),
    (12, "first", {"ev"}),
    (13, "first", {"other"}),
])
def test_switch_routes_by_case_with_default(value, mode, ran):
    run = run_now(make_workflow(definition=switch_def(mode)), input=value)
    assert run.status == "succeeded", run.error
    st = statuses(run)
    assert {k for k in ("s", "ev", "other") if st[k] == "succeeded"} == ran
    assert {k for k in ("s", "ev", "other") if st[k] == "skipped"} == {"s", "ev", "other"} - ran


def test_merge_after_two_branches_one_skipped_combines_the_live_one():
    d = graph(
        n("check", "condition", expression="input.vip"),
        t("vip", "{'discount': 20}"), t("regular", "{'discount': 0}"),
        t("audit", "'audited'"),
        n("join", "merge", combine="object"),
        edges=[e("trigger", "check"), e("check", "vip", "true"), e("check", "regular", "false"),
               e("trigger", "audit"), e("vip", "join"), e("regular", "join"), e("audit", "join")],
    )
    run = run_now(make_workflow(definition=d), input={"vip": False})
    assert run.status == "succeeded", run.error
    assert statuses(run)["vip"] == "skipped"
    assert statuses(run)["join"] == "succeeded"
    assert run.result == {"regular": {"discount": 0}, "audit": "audited"}


def test_merge_with_a_single_live_input_still_gets_it_by_name():
    d = graph(
        n("check", "condition", expression="True"), t("a", "1"), t("b", "2"),
        n("join", "merge"),
        edges=[e("trigger", "check"), e("check", "a", "true"), e("check", "b", "false"),
               e("a", "join"), e("b", "join")],
    )
    run = run_now(make_workflow(definition=d))
    assert run.result == {"a": 1}


def test_merge_skipped_when_all_its_branches_are_skipped():
    d = graph(
        n("check", "condition", expression="False"), t("a", "1"), n("join", "merge"),
        t("fallback", "'no'"),
        edges=[e("trigger", "check"), e("check", "a", "true"), e("a", "join"),
               e("check", "fallback", "false")],
    )
    run = run_now(make_workflow(definition=d))
    assert statuses(run)["join"] == "skipped"
    assert run.result == "no"


@pytest.mark.parametrize(("config", "expected"), [
    ({"combine": "append"}, [1, 2, 3, "x"]),
    ({"wait": "first"}, [1, 2]),
    ({"combine": "join", "key": "id"},
     [{"id": 1, "name": "a", "score": 5}, {"id": 2, "name": "b"}, {"id": 3, "score": 7}]),
])
def test_merge_modes(config, expected):
    if config.get("combine") == "join":
        left, right = "[{'id': 1, 'name': 'a'}, {'id': 2, 'name': 'b'}]", \
            "[{'id': 1, 'score': 5}, {'id': 3, 'score': 7}]"
    else:
        left, right = "[1, 2]", "[3, 'x']" if config.get("combine") else "[3]"
    d = graph(t("left", left), t("right", right), n("join", "merge", **config),
              edges=[e("trigger", "left"), e("trigger", "right"), e("left", "join"),
                     e("right", "join")])
    run = run_now(make_workflow(definition=d))
    assert run.status == "succeeded", run.error
    assert run.result == expected


def test_merge_join_refuses_items_without_the_key():
    d = graph(t("left", "[{'id': 1}]"), t("right", "[{'other': 1}]"),
              n("join", "merge", combine="join", key="id"),
              edges=[e("trigger", "left"), e("trigger", "right"), e("left", "join"),
                     e("right", "join")])
    run = run_now(make_workflow(definition=d))
    assert run.status == "failed"
    assert "'right'" in run.error
    assert "key 'id'" in run.error
