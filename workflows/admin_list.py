"""The workflow list's reads: last run and failure rate annotations (sortable columns), the
tag filter, and the search by node type (a term naming a registered node type, or
`type:<name>`, also finds the workflows that use that type).

Definitions are encrypted in their column, so the node-type search reads them in Python, and
only when the term is a node type: a name search stays one query.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce

from nodes.registry import registry
from runs.models import Run

from .models import Workflow
from .tags import clean_tags


def last_run(field: str) -> Subquery:
    newest = Run.objects.filter(workflow=OuterRef("pk")).order_by("-created_at", "-id")
    return Subquery(newest.values(field)[:1])


def _run_count(**filters: Any) -> Coalesce:
    runs = (Run.objects.filter(workflow=OuterRef("pk"), **filters).order_by()
            .values("workflow").annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(runs, output_field=IntegerField()), Value(0))


def annotate_list(queryset: QuerySet[Workflow]) -> QuerySet[Workflow]:
    """The list's columns: the last run (status, time, id), the number of stored runs, the
    failed ones and the failure rate in percent (null without runs)."""
    return queryset.annotate(
        last_run_status=last_run("status"), last_run_at=last_run("created_at"),
        last_run_id=last_run("id"),
        run_total=_run_count(), run_failed=_run_count(status=Run.Status.FAILED),
    ).annotate(failure_rate=Case(
        When(run_total=0, then=Value(None, output_field=FloatField())),
        default=Cast(F("run_failed"), FloatField()) * 100.0 / Cast(F("run_total"), FloatField()),
        output_field=FloatField()))


def node_type_of(term: str) -> str | None:
    """The node type a search term names (`http`, `type:http`), else None."""
    text = term.strip().lower()
    if text.startswith("type:"):
        text = text[5:].strip()
    return text if text in {t.lower() for t in registry.names()} else None


def using_node_type(queryset: QuerySet[Workflow], node_type: str) -> list[int]:
    """Ids of the workflows of `queryset` whose current definition has a `node_type` node."""
    ids = []
    for pk, definition in queryset.values_list("pk", "definition"):
        nodes = (definition or {}).get("nodes") or []
        if any(isinstance(n, dict) and str(n.get("type", "")).lower() == node_type
               for n in nodes):
            ids.append(pk)
    return ids


class TagFilter(admin.SimpleListFilter):
    title = "tag"
    parameter_name = "tag"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        tags: set[str] = set()
        for value in model_admin.get_queryset(request).values_list("tags", flat=True):
            if isinstance(value, list):
                tags.update(t for t in value if isinstance(t, str))
        return [(t, t) for t in sorted(tags)]

    def queryset(self, request: Any, queryset: QuerySet[Workflow]) -> QuerySet[Workflow]:
        wanted = self.value()
        if not wanted:
            return queryset
        try:
            tag = clean_tags([wanted])[0]
        except ValueError:
            return queryset.none()
        # JSON containment is not portable (SQLite has none): match the lists in Python.
        ids = [pk for pk, tags in queryset.values_list("pk", "tags")
               if isinstance(tags, list) and tag in tags]
        return queryset.filter(pk__in=ids)
