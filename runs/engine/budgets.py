"""Monthly budgets of model calls, as the engine checks them: the workflow's and its project's
token and cost limits with this month's spend, loaded before an attempt of a node that calls
models (`NodeType.uses_models`) in the thread that owns the run.

    budgets = load_budgets(run)   # [Budget(scope="workflow", kind="cost", limit=5, used=...)]

The check itself is `metering.UsageMeter.check` (a call that would pass a limit fails before
it is made, naming the budget); the warning at 80 % is an audit event `budget.warning` on the
workflow or project, written by the services (`EngineHooks.budget_warning`) when a node's
calls take the month's spend across that mark.
"""

from __future__ import annotations

from decimal import Decimal

from workflows.models import Workflow

from ..ledger import month_spend
from ..models import Run
from .metering import Budget


def load_budgets(run: Run) -> list[Budget]:
    row = (Workflow.objects.filter(pk=run.workflow_id).select_related("project")
           .only("name", "monthly_token_budget", "monthly_cost_budget", "project__name",
                 "project__monthly_token_budget", "project__monthly_cost_budget").first())
    if row is None:
        return []
    limits = [("workflow", row.pk, row.name, row.monthly_token_budget, row.monthly_cost_budget),
              ("project", row.project.pk, row.project.name, row.project.monthly_token_budget,
               row.project.monthly_cost_budget)]
    if not any(tokens is not None or cost is not None for *_, tokens, cost in limits):
        return []
    spent = month_spend(workflow_id=row.pk, project_id=row.project.pk)
    budgets = []
    for scope, object_id, name, tokens, cost in limits:
        for kind, limit in (("tokens", tokens), ("cost", cost)):
            if limit is not None:
                budgets.append(Budget(scope=scope, object_id=object_id, name=name, kind=kind,
                                      limit=Decimal(limit), used=spent[scope][kind]))
    return budgets
