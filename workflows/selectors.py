"""Which workflows and credentials a user may see or act on: the one visibility rule for these
models (roles in `accounts.access`), used by the API base viewset, the admin mixin, the
dashboard, exports and the CLI alike. Objects outside it are a 404 at every door."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from accounts.access import project_ids
from accounts.models import ApiToken

from .models import Credential, Workflow


def workflows_visible_to(user: Any, action: str = "view", *,
                         token: ApiToken | None = None) -> QuerySet[Workflow]:
    """Workflows in projects where `user` may do `action` (view, edit, run, delete, admin)."""
    ids = project_ids(user, action, token=token)
    qs = Workflow.objects.select_related("owner", "project")
    return qs if ids is None else qs.filter(project_id__in=ids)


def credentials_visible_to(user: Any, action: str = "view", *,
                           token: ApiToken | None = None) -> QuerySet[Credential]:
    """Credentials in projects where `user` may do `action`. For `view` and `use`, also those
    shared with such a project: its members see the credential (never its secret) and editors
    may select it in nodes; changing, deleting, moving or sharing it stays with its project."""
    ids = project_ids(user, action, token=token)
    qs = Credential.objects.select_related("owner", "project")
    if ids is None:
        return qs
    if action in ("view", "use"):
        shared = Credential.objects.filter(shared_with__in=ids).values("pk")
        return qs.filter(Q(project_id__in=ids) | Q(pk__in=shared))
    return qs.filter(project_id__in=ids)


def credential_usable_in(project_id: int, ref: int | str) -> Credential | None:
    """The credential a node of `project_id` may use, by id (or digit string) or by name: one
    of the project's own or one shared with it; None when there is no such credential. A name
    is looked up in the project's own credentials first."""
    shared = Credential.objects.filter(shared_with=project_id).values("pk")
    usable = Credential.objects.filter(Q(project_id=project_id) | Q(pk__in=shared))
    text = str(ref).strip()
    if text.isdigit():
        return usable.filter(pk=int(text)).first()
    own = usable.filter(project_id=project_id, name=text).first()
    return own or usable.filter(name=text).order_by("pk").first()
