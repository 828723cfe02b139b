"""Reads behind the admin's run pages and dashboard: the run viewer's timeline and the
dashboard's figures (runs and failure rate over 24 h, runs per hour, recent failures).

Both are scoped to what the user may see (`workflows.selectors`, `runs.selectors`).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import TruncHour
from django.urls import reverse
from django.utils import timezone

from wfaib.masking import mask_text
from workflows.selectors import workflows_visible_to

from .ledger import usage_report
from .models import Run, RunLog
from .selectors import runs_visible_to


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


def agent_steps(output: Any) -> list[dict[str, Any]]:
    """An agent node's `steps` (model turns and tool calls, nodes/types/agent.py) as rows of
    the run viewer's nested timeline; [] for any other output."""
    steps = output.get("steps") if isinstance(output, dict) else None
    if not isinstance(steps, list):
        return []
    rows = []
    for step in steps:
        if not isinstance(step, dict):
            continue
        if step.get("type") == "tool":
            failed = "error" in step
            rows.append({"kind": "tool", "title": f"tool {step.get('name')}",
                         "failed": failed, "duration_ms": step.get("duration_ms"),
                         "input_json": pretty_json(step.get("input")),
                         "output_json": mask_text(str(step.get("error"))) if failed
                         else pretty_json(step.get("output"))})
        else:
            calls = step.get("tool_calls") or []
            usage = step.get("usage") or {}
            rows.append({"kind": "model", "failed": False,
                         "title": f"model turn {step.get('iteration')}"
                                  + (f" → {len(calls)} tool call(s)" if calls else " → answer"),
                         "tokens": (usage.get("prompt_tokens") or 0)
                         + (usage.get("completion_tokens") or 0),
                         "output_json": step.get("text") or pretty_json(calls)})
    return rows


def run_timeline(run: Run) -> dict[str, Any]:
    """Every node log of `run` with its offset and width on a shared time axis (percentages),
    pretty JSON for its input and output, and whether it is the node the run failed on."""
    logs = list(run.logs.order_by("id"))
    starts = [log.started_at for log in logs if log.started_at]
    t0 = run.started_at or (min(starts) if starts else None)
    ends = [log.finished_at or log.started_at for log in logs if log.started_at]
    if run.finished_at:
        ends.append(run.finished_at)
    total_ms = max(((max(ends) - t0).total_seconds() * 1000) if t0 and ends else 0, 1)
    rows = []
    for log in logs:
        offset = ((log.started_at - t0).total_seconds() * 1000) if t0 and log.started_at else 0
        width = log.duration_ms or 0
        rows.append({
            "log": log,
            "offset_pct": round(max(offset, 0) / total_ms * 100, 2),
            "width_pct": round(max(min(width / total_ms * 100, 100), 0.8), 2),
            "input_json": pretty_json(log.input),
            "output_json": pretty_json(log.output),
            "steps": agent_steps(log.output) if log.node_type == "agent" else [],
            "error": mask_text(log.error),
            "is_error_node": bool(run.error_node_id) and log.node_id == run.error_node_id
            and log.status == RunLog.Status.FAILED,
        })
    return {"rows": rows, "total_ms": int(total_ms)}


def spend_chart(user: Any) -> dict[str, Any]:
    """This month's model spend the user may see, a bar per day: estimated cost, or tokens
    when no call had a price."""
    report = usage_report(user)
    by_cost = report["totals"]["cost"] > 0
    values = [d["cost"] if by_cost else d["total_tokens"] for d in report["days"]]
    peak = max(values or [0])
    return {
        "month": report["month"], "totals": report["totals"], "by_cost": by_cost,
        "peak": round(peak, 4) if by_cost else peak,
        "bars": [{"day": d["day"], "value": round(v, 4) if by_cost else v,
                  "tokens": d["total_tokens"], "calls": d["calls"],
                  "height_pct": round(v / peak * 100, 1) if peak else 0}
                 for d, v in zip(report["days"], values, strict=True)],
        "workflows": sorted(report["workflows"],
                            key=lambda w: (-w["cost"], -w["total_tokens"]))[:5],
    }


def dashboard(user: Any, *, now: dt.datetime | None = None, hours: int = 24) -> dict[str, Any]:
    """Figures for the admin index: the user's workflows with their last run, run counts and
    failure rate over the last `hours`, runs per hour (for a small bar chart), the most
    recent failures and this month's model spend (`spend_chart`)."""
    now = now or timezone.now()
    since = now - dt.timedelta(hours=hours)
    runs = runs_visible_to(user)
    recent = runs.filter(created_at__gte=since)
    counts = recent.aggregate(
        total=Count("id"),
        failed=Count("id", filter=Q(status=Run.Status.FAILED)),
        succeeded=Count("id", filter=Q(status=Run.Status.SUCCEEDED)),
        active=Count("id", filter=Q(status__in=[Run.Status.QUEUED, Run.Status.RUNNING,
                                               Run.Status.WAITING])),
    )
    finished = counts["failed"] + counts["succeeded"]
    failure_rate = round(counts["failed"] / finished * 100, 1) if finished else None

    per_hour = {
        row["hour"]: row for row in recent.annotate(hour=TruncHour("created_at"))
        .values("hour").annotate(n=Count("id"), failed=Count("id", filter=Q(status="failed")))
    }
    start_hour = now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=hours - 1)
    bars = []
    peak = max([r["n"] for r in per_hour.values()] or [0])
    for i in range(hours):
        hour = start_hour + dt.timedelta(hours=i)
        row = next((r for h, r in per_hour.items() if h and abs((h - hour).total_seconds()) < 1),
                   None)
        n, failed = (row["n"], row["failed"]) if row else (0, 0)
        bars.append({
            "hour": hour, "n": n, "failed": failed,
            "height_pct": round(n / peak * 100, 1) if peak else 0,
            "failed_pct": round(failed / peak * 100, 1) if peak else 0,
        })

    newest = Run.objects.filter(workflow=OuterRef("pk")).order_by("-created_at", "-id")
    workflows = workflows_visible_to(user).annotate(
        last_run_id=Subquery(newest.values("id")[:1]),
        last_run_status=Subquery(newest.values("status")[:1]),
        last_run_at=Subquery(newest.values("created_at")[:1]),
    ).order_by("-updated_at")[:15]
    failures = (runs.filter(status=Run.Status.FAILED).select_related("workflow")
                .order_by("-created_at", "-id")[:8])
    return {
        "spend": spend_chart(user),
        "counts": counts,
        "failure_rate": failure_rate,
        "bars": bars,
        "peak": peak,
        "hours": hours,
        "workflows": [
            {"workflow": w,
             "editor_url": reverse("admin:workflows_workflow_editor", args=[w.pk]),
             "run_url": reverse("admin:runs_run_change", args=[w.last_run_id])
             if w.last_run_id else None,
             "last_run_status": w.last_run_status, "last_run_at": w.last_run_at}
            for w in workflows
        ],
        "failures": [
            {"run": r, "error": mask_text(r.error),
             "url": reverse("admin:runs_run_change", args=[r.pk])} for r in failures
        ],
    }
