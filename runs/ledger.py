"""Reads of the cost ledger (ModelCall rows): a month's model usage, by project, workflow and
day, scoped to what a user may see; and the month's spend a budget is checked against.

    month_bounds("2026-03")                  # (start, end) of the month, in TIME_ZONE
    usage_report(user, month="2026-03")      # GET /api/usage
    usage_report(user, month=..., workflow=w) / (..., project=p)
    month_spend(workflow_id=..., project_id=..., now=...)   # {"workflow": {...}, "project": ...}

Costs are estimates (runs/engine/pricing.py): a call of a model without a price counts its
tokens and no cost.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from accounts.access import project_ids
from accounts.models import ApiToken
from wfaib.errors import DomainError

from .models import ModelCall

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
ZERO = Decimal(0)


class BadMonth(DomainError):
    code = "invalid_month"
    status = 400


def month_bounds(month: str | None = None, *,
                 now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of `month` ("YYYY-MM"; default: the current one) in the server's zone."""
    local = timezone.localtime(now or timezone.now())
    if month:
        match = MONTH.match(month)
        if not match:
            raise BadMonth("month: expected YYYY-MM, e.g. 2026-03")
        year, number = int(match.group(1)), int(match.group(2))
    else:
        year, number = local.year, local.month
    zone = local.tzinfo
    start = dt.datetime(year, number, 1, tzinfo=zone)
    end = dt.datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return start, end


def _sums(qs: QuerySet[ModelCall]) -> dict[str, Any]:
    row = qs.aggregate(calls=Count("id"), prompt_tokens=Coalesce(Sum("prompt_tokens"), 0),
                       completion_tokens=Coalesce(Sum("completion_tokens"), 0),
                       cached_tokens=Coalesce(Sum("cached_tokens"), 0), cost=Sum("cost"))
    return _shape(row)


def _shape(row: dict[str, Any]) -> dict[str, Any]:
    prompt, completion = int(row["prompt_tokens"] or 0), int(row["completion_tokens"] or 0)
    return {"calls": row["calls"], "prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion, "cached_tokens": int(row["cached_tokens"] or 0),
            "cost": float(row["cost"] or ZERO)}


def _grouped(qs: QuerySet[ModelCall], *fields: str) -> list[dict[str, Any]]:
    rows = qs.values(*fields).annotate(
        calls=Count("id"), prompt_tokens=Sum("prompt_tokens"),
        completion_tokens=Sum("completion_tokens"), cached_tokens=Sum("cached_tokens"),
        cost=Sum("cost")).order_by(*fields)
    return [{**{f: r[f] for f in fields}, **_shape(r)} for r in rows]


def calls_visible_to(user: Any, *, token: ApiToken | None = None) -> QuerySet[ModelCall]:
    """Ledger rows of the projects whose workflows and runs `user` may view."""
    ids = project_ids(user, "view", token=token)
    qs = ModelCall.objects.all()
    return qs if ids is None else qs.filter(project_id__in=ids)


def usage_report(user: Any, *, month: str | None = None, token: ApiToken | None = None,
                 workflow: Any = None, project: Any = None) -> dict[str, Any]:
    """The month's usage the user may see (of one workflow or project when given): totals,
    by project, by workflow, by model and by day (every day of the month, for a chart)."""
    start, end = month_bounds(month)
    qs = calls_visible_to(user, token=token).filter(created_at__gte=start, created_at__lt=end)
    if workflow is not None:
        qs = qs.filter(workflow=workflow)
    if project is not None:
        qs = qs.filter(project=project)
    days = {r["day"]: r for r in _grouped(qs.annotate(day=TruncDate("created_at")), "day")}
    by_day = []
    day = start.date()
    while day < end.date():
        row = days.get(day) or _shape({"calls": 0, "prompt_tokens": 0, "completion_tokens": 0,
                                       "cached_tokens": 0, "cost": None})
        by_day.append({**row, "day": day.isoformat()})
        day += dt.timedelta(days=1)
    return {
        "month": f"{start:%Y-%m}",
        "totals": _sums(qs),
        "projects": [{"id": r.pop("project_id"), "name": r.pop("project__name"), **r}
                     for r in _grouped(qs, "project_id", "project__name")],
        "workflows": [{"id": r.pop("workflow_id"), "name": r.pop("workflow__name"), **r}
                      for r in _grouped(qs, "workflow_id", "workflow__name")],
        "models": _grouped(qs, "provider", "model"),
        "days": by_day,
    }


def month_spend(*, workflow_id: int, project_id: int | None,
                now: dt.datetime | None = None) -> dict[str, dict[str, Decimal]]:
    """This month's tokens and cost of a workflow and of its project (for budgets)."""
    start, end = month_bounds(now=now)
    month = ModelCall.objects.filter(created_at__gte=start, created_at__lt=end)

    def spend(qs: QuerySet[ModelCall]) -> dict[str, Decimal]:
        row = _sums(qs)
        return {"tokens": Decimal(row["total_tokens"]), "cost": Decimal(str(row["cost"]))}

    return {"workflow": spend(month.filter(workflow_id=workflow_id)),
            "project": spend(month.filter(project_id=project_id)) if project_id else
            {"tokens": ZERO, "cost": ZERO}}
