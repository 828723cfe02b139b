"""The base of every API viewset that serves project data: one place applies the visibility
rule (NetBox's `BaseViewSet.initial` restricting the queryset is the model).

    class WorkflowViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
        visible_to = staticmethod(workflows_visible_to)     # selector(user, action, token=)
        action_access = {"rotate_secret": "edit"}           # DRF action -> access action

`initial()` works out the access action of the request (reads are `view`; create, update and
unknown writes `edit`; destroy `delete`; as declared otherwise). Lists and lookups see only
what the user may view, so others' objects are a 404; an object the user may view but not act
on is a 403 (a viewer writing or starting a run). An object of a project that requires
two-factor sign-in, asked for by a member who has not turned it on, is a 403
`mfa_required_by_project` naming the project; lists omit such objects and name the hidden
projects' ids in the `WFAIB-MFA-Required-Projects` header. `TokenLimits` refuses writes with
a read-only API token before any of this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, NoReturn

from django.db.models import Model, QuerySet
from django.http import Http404
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from ..access import (
    MfaRequiredByProject,
    can,
    default_project,
    mfa_blocked_projects,
    mfa_blocking_project,
    token_of,
)
from ..models import Project

MFA_HEADER = "WFAIB-MFA-Required-Projects"
DEFAULT_ACCESS = {"list": "view", "retrieve": "view", "create": "edit", "update": "edit",
                  "partial_update": "edit", "destroy": "delete"}


class TokenLimits(BasePermission):
    """A read-only API token may only read (and log itself out)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        token = token_of(request.auth)
        if token is not None and token.read_only and request.method not in SAFE_METHODS \
                and not getattr(view, "read_only_token_may_post", False):
            raise PermissionDenied("this API token is read-only", code="read_only_token")
        return True


def forbidden(action: str) -> PermissionDenied:
    return PermissionDenied(f"your role in this project does not allow '{action}'",
                            code="forbidden")


def mfa_blocking(request: Request, model: type[Model], pk: Any,
                 project_lookup: str = "project") -> Project | None:
    return mfa_blocking_project(request.user, model, pk, project_lookup=project_lookup,
                                token=token_of(request.auth))


def refuse_unseen(request: Request, model: type[Model], pk: Any,
                  project_lookup: str = "project") -> NoReturn:
    """An object the user cannot view: 403 `mfa_required_by_project` when it belongs to a
    project of theirs that requires 2FA they have not turned on, else 404."""
    project = mfa_blocking(request, model, pk, project_lookup)
    if project is not None:
        raise MfaRequiredByProject(project)
    raise Http404


def refuse_action(request: Request, obj: Model, action: str,
                  project_lookup: str = "project") -> NoReturn:
    """An object the user may view but not do `action` on (a viewer writing; a credential
    seen through sharing, in a project whose 2FA requirement hides it): 403, saying why."""
    project = mfa_blocking(request, type(obj), obj.pk, project_lookup)
    if project is not None:
        raise MfaRequiredByProject(project)
    raise forbidden(action)


def get_scoped(selector: Callable[..., QuerySet], request: Request, pk: Any,
               action: str, project_lookup: str = "project") -> Model:
    """The object `pk` if the user may view it (else 404, or 403 `mfa_required_by_project`)
    and do `action` on it (else 403)."""
    token = token_of(request.auth)
    visible = selector(request.user, "view", token=token)
    obj = visible.filter(pk=pk).first()
    if obj is None:
        refuse_unseen(request, visible.model, pk, project_lookup)
    if action != "view" and not selector(request.user, action, token=token).filter(
            pk=obj.pk).exists():
        refuse_action(request, obj, action, project_lookup)
    return obj


class ScopedViewSetMixin:
    visible_to: ClassVar[Callable[..., QuerySet]]
    # The path from the model to its project (runs: "workflow__project"; projects: "pk").
    project_lookup: ClassVar[str] = "project"
    action_access: ClassVar[dict[str, str]] = {}
    access: str = "view"
    request: Request

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        name = getattr(self, "action", None) or ""
        self.access = ({**DEFAULT_ACCESS, **self.action_access}.get(name)
                       or ("view" if request.method in SAFE_METHODS else "edit"))

    def scoped(self, action: str = "view") -> QuerySet:
        return type(self).visible_to(self.request.user, action,
                                     token=token_of(self.request.auth))

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return self._model().objects.none()
        return self.scoped("view")

    def _model(self) -> type[Model]:
        return self.get_serializer_class().Meta.model  # type: ignore[attr-defined]

    def get_object(self) -> Model:
        try:
            obj = super().get_object()  # type: ignore[misc]
        except Http404:
            kwarg = self.lookup_url_kwarg or self.lookup_field  # type: ignore[attr-defined]
            refuse_unseen(self.request, self._model(), self.kwargs.get(kwarg),  # type: ignore[attr-defined]
                          type(self).project_lookup)
        if self.access != "view" and not self.scoped(self.access).filter(pk=obj.pk).exists():
            refuse_action(self.request, obj, self.access, type(self).project_lookup)
        return obj

    def finalize_response(self, request: Request, response: Any, *args: Any,
                          **kwargs: Any) -> Any:
        """Lists omit the objects of projects that require 2FA the user has not turned on;
        the header names those projects' ids so a client can say why."""
        response = super().finalize_response(request, response, *args,  # type: ignore[misc]
                                             **kwargs)
        if getattr(self, "action", None) == "list" and response.status_code == 200:
            ids = list(mfa_blocked_projects(request.user, token=token_of(request.auth))
                       .values_list("pk", flat=True))
            if ids:
                response[MFA_HEADER] = ",".join(str(i) for i in ids)
        return response

    def target_project(self, project: Project | None) -> Project:
        """Where a new or moved object goes: the given project (the user must be able to edit
        there, else 403 `project_forbidden`), by default the token's project or the user's
        personal one."""
        token = token_of(self.request.auth)
        if project is None:
            project = default_project(self.request.user, token=token)
        if not can(self.request.user, "edit", project.pk, token=token):
            raise PermissionDenied(f"you cannot add or move anything into project "
                                   f"{project.pk} ({project.name})", code="project_forbidden")
        return project
