"""Waits: a node returning `Wait` suspends the run at the top level.

    finish_wait(execution, node_id)   # True when the wait is over (the node then succeeded)

The waiting node's RunLog.output is a `WaitRecord` (runs/engine/wait_record.py lists its
keys). The resume services (runs.services) mark it resumed with an `output` or an `error`; a
delay ends when `resume_at` has passed.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.utils import timezone

from nodes.base import NodeError
from workflows.graph import DEFAULT_PORT

from ..models import RunLog
from .state import NodeState, first_port
from .wait_record import WaitRecord

if TYPE_CHECKING:
    from .executor import RunExecution


def resume_at(log: RunLog) -> dt.datetime | None:
    return WaitRecord.from_json(log.output).resume_at


def finish_wait(ex: RunExecution, node_id: str) -> bool:
    """A waiting node: finished if its time came (or it was resumed with a value)."""
    log: RunLog = ex.states[node_id].outputs["_wait"]
    record = WaitRecord.from_json(log.output)
    due, resumed = record.resume_at, record.resumed
    if not resumed and (due is None or due > timezone.now()):
        return False
    if resumed and record.error:  # e.g. the sub-workflow waited on failed
        ex.journal.settle_wait(log, status=RunLog.Status.FAILED, error=record.error,
                               finished_at=timezone.now())
        ex.states[node_id] = NodeState("failed")
        raise NodeError(f"node {node_id!r} ({log.node_type}) failed: {record.error}",
                        node_id=node_id)
    cls, node = ex.types[node_id], ex.graph.nodes[node_id]
    port = record.timeout_port if not resumed and record.timeout_port else \
        first_port(cls, node)
    value = record.output
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
