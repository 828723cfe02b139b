"""Waits: a node returning `Wait` suspends the run at the top level.

    wait_record(Wait(...))            # what the waiting node's RunLog.output holds
    finish_wait(execution, node_id)   # True when the wait is over (the node then succeeded)

The record's keys: `resume_at` (ISO time the scheduler resumes the run, or None), `token`
(wait-for-webhook), `output` (the node's output when the wait ends without a value),
`timeout_port` (the port used when the time runs out first), and the node's `extra` (e.g.
`child_run`, `resume_url`). The resume services (runs.services) add `resumed: true` with an
`output` or an `error`; a delay ends when `resume_at` has passed.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from nodes.base import NodeError, Wait
from workflows.graph import DEFAULT_PORT

from ..models import RunLog
from .state import NodeState, first_port, jsonable

if TYPE_CHECKING:
    from .executor import RunExecution


def wait_record(result: Wait) -> Any:
    return jsonable({
        "resume_at": result.resume_at.isoformat() if result.resume_at else None,
        "token": result.token, "output": result.output,
        "timeout_port": result.timeout_port, **result.extra,
    })


def resume_at(log: RunLog) -> dt.datetime | None:
    text = (log.output or {}).get("resume_at")
    return dt.datetime.fromisoformat(text) if text else None


def finish_wait(ex: RunExecution, node_id: str) -> bool:
    """A waiting node: finished if its time came (or it was resumed with a value)."""
    log: RunLog = ex.states[node_id].outputs["_wait"]
    data = log.output or {}
    due = resume_at(log)
    resumed = bool(data.get("resumed"))
    if not resumed and (due is None or due > timezone.now()):
        return False
    if resumed and data.get("error"):  # e.g. the sub-workflow waited on failed
        ex.journal.settle_wait(log, status=RunLog.Status.FAILED, error=data["error"],
                               finished_at=timezone.now())
        ex.states[node_id] = NodeState("failed")
        raise NodeError(f"node {node_id!r} ({log.node_type}) failed: {data['error']}",
                        node_id=node_id)
    cls, node = ex.types[node_id], ex.graph.nodes[node_id]
    port = data.get("timeout_port") if not resumed and data.get("timeout_port") else \
        first_port(cls, node)
    value = data.get("output")
    ports, output = (None, value) if port == DEFAULT_PORT else ([port], {port: value})
    ex.journal.settle_wait(log, status=RunLog.Status.SUCCEEDED, output=output, ports=ports,
                           finished_at=timezone.now())
    ex.states[node_id] = NodeState("succeeded", {str(port): value})
    return True


def suspend(ex: RunExecution, node_id: str) -> bool:
    """Park the run as `waiting`. False when the wait was resumed meanwhile (the resume
    service saw the run still running and left it to us): the caller then continues."""
    log: RunLog = ex.states[node_id].outputs["_wait"]
    fresh = ex.journal.suspend(log, resume_at(log))
    if fresh is not None:
        ex.states[node_id] = NodeState("waiting", {"_wait": fresh})
        return False
    return True
