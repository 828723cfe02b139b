"""Which audit events a user may read: a superuser all; anyone else the events they caused and
those about the workflows, credentials and projects they administer (role `admin`)."""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast

from accounts.access import project_ids
from accounts.models import Project
from workflows.selectors import credentials_visible_to, workflows_visible_to

from .models import AuditEvent


def _ids_as_text(qs: QuerySet) -> QuerySet:
    return qs.annotate(text_id=Cast("pk", CharField())).values("text_id")


def events_visible_to(user: Any) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.select_related("actor")
    if project_ids(user, "admin") is None:
        return qs
    projects = Project.objects.filter(pk__in=project_ids(user, "admin"))
    return qs.filter(
        Q(actor=user)
        | Q(object_type="workflows.workflow",
            object_id__in=_ids_as_text(workflows_visible_to(user, "admin")))
        | Q(object_type="workflows.credential",
            object_id__in=_ids_as_text(credentials_visible_to(user, "admin")))
        | Q(object_type="accounts.project", object_id__in=_ids_as_text(projects))
    )
