"""Which objects a user may see: their own, or all for staff. Anything else is a 404."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ..models import Credential, Workflow


def workflows_visible_to(user: Any) -> QuerySet[Workflow]:
    qs = Workflow.objects.select_related("owner")
    return qs if user.is_staff else qs.filter(owner=user)


def credentials_visible_to(user: Any) -> QuerySet[Credential]:
    qs = Credential.objects.select_related("owner")
    return qs if user.is_staff else qs.filter(owner=user)
