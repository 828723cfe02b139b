"""The one admin mixin: every model admin that shows project data uses it, so the admin, the
builder (editor) and the run viewer apply the same rule as the API.

    @admin.register(Workflow)
    class WorkflowAdmin(ProjectScopedAdmin, admin.ModelAdmin):
        visible_to = staticmethod(workflows_visible_to)

The staff flag only opens the admin; what a staff user sees and may change comes from their
project roles (`accounts.access`), with no per-model Django permission to set up. Superusers
see everything. An object outside the user's projects is not in the queryset, so its pages are
a 404 (or the admin's "doesn't exist" redirect). An object of a project that requires
two-factor sign-in, opened by a member who has not turned it on, redirects to the two-factor
page with a message naming the project (`mfa_refusal`); every admin page shows a banner
listing such projects (`accounts.context_processors`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from .access import mfa_blocking_project, project_ids
from .models import Project


def _may_somewhere(user: Any, action: str) -> bool:
    ids = project_ids(user, action)
    return ids is None or Project.objects.filter(pk__in=ids).exists()


def mfa_refusal(request: HttpRequest, model: type[Model], object_id: Any,
                project_lookup: str = "project") -> HttpResponse | None:
    """For an object the user cannot see: when it belongs to a project of theirs that requires
    2FA they have not turned on, a redirect to the two-factor page saying so; else None."""
    project = mfa_blocking_project(request.user, model, object_id,
                                   project_lookup=project_lookup)
    if project is None:
        return None
    messages.warning(request, f"Project {project.name!r} requires two-factor sign-in: turn it "
                              "on for your account to open its workflows, runs and credentials.")
    return redirect("admin_two_factor")


class ProjectScopedAdmin:
    visible_to: ClassVar[Callable[..., QuerySet]]
    # The path from the model to its project (runs: "workflow__project"; projects: "pk").
    project_lookup: ClassVar[str] = "project"
    # The access actions behind Django's change and delete permissions (projects: "admin").
    change_action: ClassVar[str] = "edit"
    delete_action: ClassVar[str] = "delete"

    @staticmethod
    def _staff(request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff)

    def scoped(self, request: HttpRequest, queryset: QuerySet, action: str) -> QuerySet:
        """`queryset` narrowed to the objects the user may do `action` on."""
        if request.user.is_superuser:
            return queryset
        allowed = type(self).visible_to(request.user, action).values("pk")
        return queryset.filter(pk__in=allowed)

    def allows(self, request: HttpRequest, obj: Model | None, action: str) -> bool:
        if not self._staff(request):
            return False
        if obj is None:
            return _may_somewhere(request.user, action)
        return type(self).visible_to(request.user, action).filter(pk=obj.pk).exists()

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return self.scoped(request, super().get_queryset(request), "view")  # type: ignore[misc]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._staff(request) and (obj is None or self.allows(request, obj, "view"))

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        # Every user may add to their personal project.
        return self._staff(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.allows(request, obj, self.change_action)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.allows(request, obj, self.delete_action)

    def has_run_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        """For admin actions declared with permissions=["run"]."""
        return self.allows(request, obj, "run")

    def mfa_refusal(self, request: HttpRequest, object_id: str) -> HttpResponse | None:
        """For custom object pages (editor, run viewer) that found no object."""
        return mfa_refusal(request, self.model, unquote(object_id),  # type: ignore[attr-defined]
                           type(self).project_lookup)

    def _get_obj_does_not_exist_redirect(self, request: HttpRequest, opts: Any,
                                         object_id: str) -> HttpResponse:
        # Django's change, history and delete views all end here when the object is not in
        # the queryset: say why when it is hidden by a project's 2FA requirement.
        return self.mfa_refusal(request, object_id) or \
            super()._get_obj_does_not_exist_redirect(  # type: ignore[misc]
                request, opts, object_id)
