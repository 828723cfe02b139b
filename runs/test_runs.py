"""Test runs from the editor: the whole workflow with pinned data, one step, or from a node.

    run_start_test(workflow=wf, mode="step", node="fetch", user=user)

A test run (trigger "test") is an ordinary run whose plan is written before it executes: the
nodes that should not run get a checkpoint (a RunLog) holding their pinned data or their output
in an earlier run, so the engine continues from them as it does after a crash or a retry
(runs/engine/executor.py `load_checkpoints`). Modes:

    workflow  everything runs, except pinned nodes: their pinned data is their output
    from      `node` and everything after it run (pinned ones among them excepted); the nodes
              before it take their pinned data, else their last run's output
    step      only `node` runs, on its upstream nodes' pinned data or last run's output; an
              upstream node with neither runs too (`Run.test["only"]` tells the engine)

Pins are read here and nowhere else: webhook, schedule, API, CLI and retry runs never see
them. The plan is kept in `Run.test` for the run viewer ({mode, node, pinned, reused, only}).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from nodes.registry import registry
from workflows.graph import DEFAULT_PORT, Graph
from workflows.models import Workflow
from workflows.pins import InvalidField, pins_of
from workflows.services import current_version

from . import dispatch
from .engine.state import is_truncated
from .models import Run, RunLog
from .services import run_start

MODES = ("workflow", "step", "from")
RECENT_RUNS = 50  # how far back "the last run's output" of a node is looked for


def _ancestors(graph: Graph, node_id: str) -> set[str]:
    seen: set[str] = set()
    stack = [e.source for e in graph.incoming[node_id]]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(e.source for e in graph.incoming[current])
    return seen


def _top_level(graph: Graph) -> set[str]:
    bodies = {}
    for nid, node in graph.nodes.items():
        cls = registry.get(node.get("type")) if node.get("type") in registry else None
        if cls is not None and cls.body_port:
            bodies[nid] = graph.descendants(nid, cls.body_port)
    owners = graph.loop_owners(bodies)
    return {nid for nid in graph.order if owners[nid] is None}


def _usable(log: RunLog) -> bool:
    continued = log.status == RunLog.Status.FAILED and log.ports is not None
    return (log.status == RunLog.Status.SUCCEEDED or continued) and not is_truncated(log.output)


def _last_outputs(workflow: Workflow, node_ids: set[str],
                  from_run: Run | None) -> dict[str, RunLog]:
    """The latest usable top-level log of each node: in `from_run`, else in the workflow's
    recent runs."""
    if not node_ids:
        return {}
    if from_run is not None:
        run_ids = [from_run.pk]
    else:
        run_ids = list(Run.objects.filter(workflow=workflow).order_by("-created_at", "-id")
                       .values_list("pk", flat=True)[:RECENT_RUNS])
    found: dict[str, RunLog] = {}
    logs = RunLog.objects.filter(run_id__in=run_ids, scope="", node_id__in=node_ids)
    for log in logs.order_by("-id"):
        if log.node_id not in found and _usable(log):
            found[log.node_id] = log
    return found


def _pinned_log(run: Run, node: dict[str, Any], pin: dict[str, Any]) -> RunLog:
    now = timezone.now()
    port = pin.get("port") or DEFAULT_PORT
    value = pin.get("value")
    ports, output = (None, value) if port == DEFAULT_PORT else ([port], {port: value})
    return RunLog(run=run, node_id=node["id"], node_type=node.get("type", ""),
                  status=RunLog.Status.SUCCEEDED, ports=ports, output=output,
                  started_at=now, finished_at=now, duration_ms=0)


def _reused_log(run: Run, log: RunLog) -> RunLog:
    return RunLog(run=run, node_id=log.node_id, node_type=log.node_type, status=log.status,
                  ports=log.ports, input=log.input, output=log.output, error=log.error,
                  duration_ms=log.duration_ms, attempt=log.attempt,
                  started_at=log.started_at, finished_at=log.finished_at, usage=None)


def _plan(graph: Graph, top: set[str], mode: str,
          node_id: str | None) -> tuple[set[str], set[str] | None]:
    """(nodes whose earlier output should be seeded, `only` for step mode)."""
    if mode == "workflow":
        return set(), None
    assert node_id is not None
    if node_id not in top:
        raise InvalidField("node", f"node {node_id!r} runs inside a loop's body; run the "
                                   f"loop node instead")
    if mode == "step":
        return _ancestors(graph, node_id) & top, {node_id}
    return top - {node_id} - graph.descendants(node_id), None


def _check(workflow: Workflow, graph: Graph, mode: str, node: str | None,
           from_run: Run | None) -> None:
    if mode not in MODES:
        raise InvalidField("mode", f"one of {', '.join(MODES)}")
    if mode != "workflow" and (not node or node not in graph.nodes):
        raise InvalidField("node", f"the saved workflow has no node {node!r}" if node
                           else f"mode {mode!r} needs the node to run")
    if from_run is not None and from_run.workflow_id != workflow.pk:
        raise InvalidField("from_run", f"run {from_run.pk} is not a run of this workflow")


def _source_input(workflow: Workflow, last: dict[str, RunLog], from_run: Run | None) -> Any:
    """The trigger payload of the run the earlier outputs come from (else the latest run's)."""
    source = from_run or (Run.objects.filter(pk=next(iter(last.values())).run_id).first()
                          if last else Run.objects.filter(workflow=workflow).first())
    return source.input if source is not None else None


def _pinned_trigger(graph: Graph, pins: dict[str, Any], used: set[str]) -> Any:
    for nid in graph.order:
        cls = registry.get(graph.nodes[nid].get("type")) \
            if graph.nodes[nid].get("type") in registry else None
        if cls is not None and cls.is_trigger and nid in pins and nid in used:
            return pins[nid].get("value")
    return None


def _seed(run: Run, graph: Graph, mode: str, seed: set[str], pins: dict[str, Any],
          last: dict[str, RunLog]) -> tuple[list[RunLog], list[str], dict[str, int]]:
    """The checkpoints of the nodes that do not run: (logs, pinned ids, reused {id: run})."""
    logs: list[RunLog] = []
    pinned: list[str] = []
    reused: dict[str, int] = {}
    for nid in graph.order:
        if nid in pins and (mode != "step" or nid in seed):
            logs.append(_pinned_log(run, graph.nodes[nid], pins[nid]))
            pinned.append(nid)
        elif nid in seed and nid in last:
            logs.append(_reused_log(run, last[nid]))
            reused[nid] = last[nid].run_id
    return logs, pinned, reused


def run_start_test(*, workflow: Workflow, mode: str, node: str | None = None,
                   input: Any = None, from_run: Run | None = None, user: Any = None,
                   execute: bool = True) -> Run:
    """Start a test run (see the module). Raises InvalidField naming `mode`, `node` or
    `from_run`. `input` None: the trigger payload of the run the data comes from."""
    version = current_version(workflow)
    graph = Graph.from_definition(version.definition)
    _check(workflow, graph, mode, node, from_run)
    top = _top_level(graph)  # pins of nodes inside loop bodies are not used
    pins = {nid: pin for nid, pin in pins_of(workflow).items() if nid != node and nid in top}
    seed, only = _plan(graph, top, mode, node)
    last = _last_outputs(workflow, seed - set(pins), from_run)
    if input is None:  # a pinned trigger's data, else the source run's payload
        input = _pinned_trigger(graph, pins, seed if mode == "step" else set(graph.nodes))
    if input is None and mode != "workflow":
        input = _source_input(workflow, last, from_run)
    with transaction.atomic():
        run = run_start(workflow=workflow, input=input, trigger=Run.Trigger.TEST,
                        execute=False, version=version)
        logs, pinned, reused = _seed(run, graph, mode, seed, pins, last)
        if only is not None:  # upstream nodes with no data run too
            only |= {nid for nid in seed if nid not in pinned and nid not in reused}
        RunLog.objects.bulk_create(logs)
        run.test = {"mode": mode, "node": node, "pinned": pinned, "reused": reused,
                    "only": sorted(only) if only is not None else None,
                    "by": getattr(user, "email", "") or ""}
        run.save(update_fields=["test"])
        if execute:
            transaction.on_commit(lambda: dispatch.dispatch_run(run.pk))
    return run
