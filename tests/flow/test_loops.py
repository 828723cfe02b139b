"""The loop node: bodies run per item, nested loops, conditions inside, batches, parallelism,
break, and failures inside a body."""

import pytest

from runs.models import Run
from tests.factories import make_workflow, run_now
from workflows.validation import validate_definition

from .helpers import e, graph, n, statuses, t

pytestmark = pytest.mark.django_db


def test_loop_runs_body_per_item_and_collects_results_on_done():
    d = graph(
        n("each", "loop", items="{{ input.numbers }}"),
        t("square", "item * item + index * 1000"),
        t("total", "sum(input)"),
        edges=[e("trigger", "each"), e("each", "square", "each"), e("each", "total", "done")],
    )
    run = run_now(make_workflow(definition=d), input={"numbers": [1, 2, 3]})
    assert run.status == Run.Status.SUCCEEDED, run.error
    loop = run.logs.get(node_id="each", scope="")
    assert loop.ports == ["done"]
    assert loop.output == {"done": [1, 1004, 2009]}
    assert run.result == 1 + 1004 + 2009
    scoped = {(log.scope, log.node_id): log.output for log in run.logs.exclude(scope="")}
    assert scoped == {("each[0]", "square"): 1, ("each[1]", "square"): 1004,
                      ("each[2]", "square"): 2009}
    # The body never runs at the top level.
    assert not run.logs.filter(scope="", node_id="square").exists()


def test_empty_list_runs_no_iteration():
    d = graph(n("each", "loop"), t("x", "item"), t("after", "len(input)"),
              edges=[e("trigger", "each"), e("each", "x", "each"), e("each", "after", "done")])
    run = run_now(make_workflow(definition=d), input=[])
    assert run.result == 0
    assert not run.logs.exclude(scope="").exists()


def test_items_must_be_a_list():
    d = graph(n("each", "loop"), t("x", "item"),
              edges=[e("trigger", "each"), e("each", "x", "each")])
    run = run_now(make_workflow(definition=d), input={"a": 1})
    assert run.status == "failed"
    assert run.error_node_id == "each"
    assert "items must be a list, got dict" in run.error


def test_nested_loops_see_both_items_and_log_nested_scopes():
    d = graph(
        n("rows", "loop", items="{{ input }}"),
        n("cells", "loop", items="{{ item }}"),
        t("cell", "str(index) + ':' + str(item) + '@' + str(nodes.rows)"),
        t("row_done", "','.join(input)"),
        edges=[e("trigger", "rows"), e("rows", "cells", "each"), e("cells", "cell", "each"),
               e("cells", "row_done", "done")],
    )
    run = run_now(make_workflow(definition=d), input=[["a", "b"], ["c"]])
    assert run.status == "succeeded", run.error
    assert run.result == ["0:a@['a', 'b'],1:b@['a', 'b']", "0:c@['c']"]
    scopes = list(run.logs.filter(node_id="cell").order_by("id").values_list("scope", "output"))
    assert scopes == [("rows[0]/cells[0]", "0:a@['a', 'b']"),
                      ("rows[0]/cells[1]", "1:b@['a', 'b']"),
                      ("rows[1]/cells[0]", "0:c@['c']")]
    assert set(run.logs.filter(node_id="row_done").values_list("scope", flat=True)) == {
        "rows[0]", "rows[1]"}


def test_condition_inside_a_loop():
    d = graph(
        n("each", "loop"),
        n("odd", "condition", expression="item % 2 == 1"),
        t("triple", "item * 3"), t("halve", "item // 2"),
        edges=[e("trigger", "each"), e("each", "odd", "each"), e("odd", "triple", "true"),
               e("odd", "halve", "false")],
    )
    run = run_now(make_workflow(definition=d), input=[1, 2, 3, 4])
    assert run.status == "succeeded", run.error
    assert run.result == [3, 1, 9, 2]
    assert statuses(run, "each[1]") == {"odd": "succeeded", "triple": "skipped",
                                        "halve": "succeeded"}
    assert statuses(run, "each[2]") == {"odd": "succeeded", "triple": "succeeded",
                                        "halve": "skipped"}


def test_batches_and_break():
    d = graph(
        n("each", "loop", batch_size=2, break_if="result >= 7"),
        t("s", "sum(item)"),
        edges=[e("trigger", "each"), e("each", "s", "each")],
    )
    run = run_now(make_workflow(definition=d), input=[1, 2, 3, 4, 5, 6])
    # batches [1,2] -> 3, [3,4] -> 7 (break), [5,6] never runs
    assert run.result == [3, 7]
    assert run.logs.filter(node_id="s").count() == 2


def test_parallel_iterations_keep_item_order(api_server):
    api_server.route("GET", "/echo", lambda req: (
        200, {"Content-Type": "application/json"}, req.path.split("=", 1)[1].encode()))
    d = graph(
        n("each", "loop", parallelism=4),
        n("call", "http", url=api_server.url + "/echo", query={"v": "{{ str(item) }}"}),
        t("body", "input.body * 10"),
        edges=[e("trigger", "each"), e("each", "call", "each"), e("call", "body")],
    )
    items = list(range(10))
    run = run_now(make_workflow(definition=d), input=items)
    assert run.status == "succeeded", run.error
    assert run.result == [i * 10 for i in items]
    assert api_server.count("/echo") == 10
    # Logs are recorded in iteration order by the engine's thread.
    scopes = list(run.logs.filter(node_id="call").order_by("id").values_list("scope", flat=True))
    assert scopes == [f"each[{i}]" for i in items]


def test_failure_in_body_fails_run_with_inner_node_and_iteration():
    d = graph(n("each", "loop"), t("inv", "10 // item"),
              edges=[e("trigger", "each"), e("each", "inv", "each")])
    run = run_now(make_workflow(definition=d), input=[5, 0, 2])
    assert run.status == "failed"
    assert run.error_node_id == "inv"
    assert "each[1]" in run.error
    assert "ZeroDivisionError" in run.error
    assert run.logs.get(node_id="each").status == "failed"
    assert run.logs.filter(node_id="inv").count() == 2  # the third item never ran


def test_on_error_continue_inside_body_keeps_looping():
    d = graph(n("each", "loop"),
              t("inv", "10 // item", settings={"on_error": "continue"}),
              edges=[e("trigger", "each"), e("each", "inv", "each")])
    run = run_now(make_workflow(definition=d), input=[5, 0, 2])
    assert run.status == "succeeded", run.error
    assert run.result[0] == 2
    assert run.result[2] == 5
    assert "ZeroDivisionError" in run.result[1]["error"]
    assert run.result[1]["node"] == "inv"


def test_validation_rejects_body_fed_from_outside_and_waits_in_body():
    d = graph(n("each", "loop"), t("x", "1"), t("outside", "2"),
              n("pause", "delay", seconds=1),
              edges=[e("trigger", "each"), e("each", "x", "each"), e("trigger", "outside"),
                     e("outside", "x"), e("x", "pause")])
    errors = validate_definition(d)
    messages = " | ".join(f"{x['path']}: {x['message']}" for x in errors)
    assert "'x' is in the body of loop 'each' but takes an input from 'outside'" in messages
    assert "nodes[4].type: node 'pause' (delay) cannot be inside the body of loop" in messages


def test_validation_rejects_node_connected_to_both_each_and_done():
    d = graph(n("each", "loop"), t("x", "1"), t("y", "2"),
              edges=[e("trigger", "each"), e("each", "x", "each"), e("x", "y"),
                     e("each", "y", "done")])
    errors = validate_definition(d)
    assert any("'y' is in the body of loop 'each'" in x["message"]
               and "'done' output" in x["message"] for x in errors), errors
