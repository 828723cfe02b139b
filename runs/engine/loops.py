"""Loops: a node returning `Iterate` runs its body once per item (or batch).

    run_loop(execution, frame, loop_id, plan, names)   # -> {"done": [result per iteration]}

Each iteration runs in a `Frame` of its own (scope "loop1[3]", nested "loop1[3]/inner[0]")
with `item` and `index` in expressions. Body logs are buffered in the frame and adopted by the
thread that owns the loop, in order, so iterations may run in worker threads (bounded
parallelism) without touching the database. A loop is a checkpoint only as a whole: a crash
inside it re-runs the loop.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from nodes.base import Iterate, NodeError

from .expressions import ExpressionError, evaluate
from .state import BodyFailure, Frame, NodeState, RunCancelled, StateTable

if TYPE_CHECKING:
    from .executor import RunExecution

Outcome = tuple[int, Any, Frame, BaseException | None]


def run_loop(ex: RunExecution, frame: Frame, loop_id: str, plan: Iterate,
             names: dict[str, Any]) -> dict[str, Any]:
    items = list(plan.items)
    if len(items) > ex.max_loop_items:
        raise NodeError(f"{len(items)} items exceed the loop limit of {ex.max_loop_items}")
    size = max(1, plan.batch_size)
    batches = items if size == 1 else [items[i:i + size] for i in range(0, len(items), size)]
    parallel = max(1, plan.parallelism)
    if parallel > 1 and any(ex.types[n].inline_only or _uses_memory(ex, n)
                            for n in ex.bodies[loop_id]):
        parallel = 1  # nodes that reach into the database run in the engine's thread
    if parallel > 1 and not frame.threaded and any(ex.types[n].uses_models
                                                   for n in ex.bodies[loop_id]):
        ex.usage.load()  # iteration threads check budgets against this (no database there)
    results: list[Any] = []
    for start in range(0, len(batches), parallel):
        chunk = list(enumerate(batches[start:start + parallel], start))
        for index, item, iteration, error in _run_chunk(ex, frame, loop_id, chunk):
            ex.adopt_logs(frame, iteration.logs)  # recorded in order, by this thread
            if not frame.threaded:
                ex.usage.flush()  # model calls made in iteration threads, into the ledger
            if error is not None:
                raise error
            result = iteration.last_value if iteration.has_value else None
            results.append(result)
            if plan.break_if and _breaks(ex, plan.break_if, names, item, index, result):
                return {"done": results}
        if not frame.threaded:
            ex.journal.check()
    return {"done": results}


def _run_chunk(ex: RunExecution, frame: Frame, loop_id: str,
               chunk: list[tuple[int, Any]]) -> list[Outcome]:
    if len(chunk) == 1:
        return [_iteration(ex, frame, loop_id, *chunk[0], threaded=frame.threaded)]
    with ThreadPoolExecutor(max_workers=len(chunk),
                            thread_name_prefix=f"wfaib-loop-{loop_id}") as pool:
        return list(pool.map(
            lambda pair: _iteration(ex, frame, loop_id, *pair, threaded=True), chunk))


def _iteration(ex: RunExecution, frame: Frame, loop_id: str, index: int, item: Any, *,
               threaded: bool) -> Outcome:
    scope = f"{frame.scope}/{loop_id}[{index}]" if frame.scope else f"{loop_id}[{index}]"
    states = StateTable(frame.states)
    states[loop_id] = NodeState("succeeded", {str(ex.types[loop_id].body_port): item})
    iteration = Frame(scope=scope, owner=loop_id, states=states,
                      extra={**frame.extra, "item": item, "index": index}, threaded=threaded)
    try:
        for node_id in ex.members[loop_id]:
            ex.step(iteration, node_id)
            if iteration.states[node_id].status == "succeeded":
                iteration.succeeded(iteration.states[node_id])
    except NodeError as exc:
        return index, item, iteration, BodyFailure(exc.message, node_id=exc.node_id)
    except RunCancelled as exc:
        return index, item, iteration, exc
    return index, item, iteration, None


def _breaks(ex: RunExecution, expression: str, names: dict[str, Any], item: Any, index: int,
            result: Any) -> bool:
    try:
        return bool(evaluate(expression, {**names, "item": item, "index": index,
                                          "result": result},
                             timeout=ex.expression_timeout))
    except ExpressionError as exc:
        raise NodeError(f"break_if failed: {exc}") from None


def _uses_memory(ex: RunExecution, node_id: str) -> bool:
    """A node whose memory the engine loads and stores in the iteration's thread."""
    field = ex.types[node_id].memory_field
    config = ex.graph.nodes[node_id].get("config") or {}
    return bool(field and config.get(field))
