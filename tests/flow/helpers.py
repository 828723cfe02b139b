"""Small builders for flow-control tests."""

from __future__ import annotations

from typing import Any

from runs.models import Run


def n(node_id: str, node_type: str, settings: dict[str, Any] | None = None,
      **config: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"id": node_id, "type": node_type, "config": config}
    if settings:
        node["settings"] = settings
    return node


def t(node_id: str, expression: str, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    return n(node_id, "transform", settings, expression=expression)


def e(src: str, dst: str, port: str | None = None) -> dict[str, Any]:
    edge = {"from": src, "to": dst}
    if port:
        edge["port"] = port
    return edge


def graph(*nodes: dict[str, Any], edges: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": "flow", "nodes": [{"id": "trigger", "type": "webhook", "config": {}},
                                      *nodes], "edges": edges}


def statuses(run: Run, scope: str = "") -> dict[str, str]:
    """The last log status of each node in `scope` (top level by default)."""
    return {log.node_id: log.status for log in run.logs.filter(scope=scope).order_by("id")}


def settled(run_id: int, timeout: float = 30.0) -> Run:
    """Wait until the run is finished or waiting and return it.

    With in-memory SQLite (shared cache) a read from the test thread while the executor's
    thread holds a write lock fails at once with "database table is locked" (busy timeouts do
    not apply to shared-cache table locks), so such reads are retried here."""
    import time

    from django.db import OperationalError

    from runs.dispatch import wait_for_run

    deadline = time.monotonic() + timeout
    while True:
        try:
            assert wait_for_run(run_id, timeout=max(0.0, deadline - time.monotonic()))
            return Run.objects.get(pk=run_id)
        except OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
