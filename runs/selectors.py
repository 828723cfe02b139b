"""Reads of runs shared by the API, the admin and the CLI."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from accounts.access import project_ids
from accounts.models import ApiToken
from wfaib.masking import mask_text

from .models import Run, RunFile, RunLog


def runs_visible_to(user: Any, action: str = "view", *,
                    token: ApiToken | None = None) -> QuerySet[Run]:
    """Runs follow their workflow: those of workflows in projects where `user` may do `action`
    (view; run for cancel and retry)."""
    ids = project_ids(user, action, token=token)
    qs = Run.objects.select_related("version", "workflow")
    return qs if ids is None else qs.filter(workflow__project_id__in=ids)


def log_as_dict(log: RunLog) -> dict[str, Any]:
    return {
        "id": log.pk,
        "node_id": log.node_id,
        "node_type": log.node_type,
        "status": log.status,
        "scope": log.scope,
        "attempt": log.attempt,
        "ports": log.ports,
        "input": log.input,
        "output": log.output,
        "error": mask_text(log.error),
        "duration_ms": log.duration_ms,
        "started_at": log.started_at.isoformat() if log.started_at else None,
        "finished_at": log.finished_at.isoformat() if log.finished_at else None,
        "usage": log.usage,
    }


def run_as_dict(run: Run, *, with_logs: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": run.pk,
        "workflow": run.workflow_id,
        "version": run.version.number,
        "status": run.status,
        "trigger": run.trigger,
        "input": run.input,
        "result": run.result,
        "error": mask_text(run.error),
        "error_node_id": run.error_node_id,
        "created_at": run.created_at.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_ms": run.duration_ms,
        "usage": {"prompt_tokens": run.prompt_tokens,
                  "completion_tokens": run.completion_tokens,
                  "total_tokens": run.prompt_tokens + run.completion_tokens,
                  "cost": float(run.cost)},
        # A test run's plan (runs/test_runs.py): which nodes took pinned or earlier data.
        "test": run.test,
    }
    if with_logs:
        data["logs"] = [log_as_dict(log) for log in run.logs.order_by("id")]
    return data


def run_expression_names(run: Run, node_id: str | None = None) -> dict[str, Any]:
    """The names an expression saw in `run` (for the editor's preview): `trigger`, `nodes`
    (each top-level node's last successful output, on its first port), `run`, and with
    `node_id` that node's last `input`."""
    nodes: dict[str, Any] = {}
    node_input: Any = None
    for log in run.logs.filter(scope="").order_by("id"):
        if log.node_id == node_id and log.status != RunLog.Status.SKIPPED:
            node_input = log.input
        if log.status == RunLog.Status.SUCCEEDED:
            output = log.output
            if log.ports is not None and isinstance(output, dict) and output:
                output = next(iter(output.values()))
            nodes[log.node_id] = output
    return {"trigger": run.input, "nodes": nodes, "input": node_input,
            "run": {"id": run.pk, "workflow_id": run.workflow_id, "trigger": run.trigger}}
def run_files(run: Run) -> list[dict[str, Any]]:
    """The run's files with their download URLs (GET /api/runs/<id>/files/<file id>)."""
    return [{"id": row.pk, "name": row.name, "size": row.size, "content_type": row.content_type,
             "key": row.key, "created_at": row.created_at.isoformat(),
             "url": reverse("run-file", args=[run.pk, row.pk])}
            for row in RunFile.objects.filter(run=run).order_by("id")]
