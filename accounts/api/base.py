"""The base of every API viewset that serves project data: one place applies the visibility
rule (NetBox's `BaseViewSet.initial` restricting the queryset is the model).

    class WorkflowViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
        visible_to = staticmethod(workflows_visible_to)     # selector(user, action, token=)
        action_access = {"rotate_secret": "edit"}           # DRF action -> access action

`initial()` works out the access action of the request (reads are `view`; create, update and
unknown writes `edit`; destroy `delete`; as declared otherwise). Lists and lookups see only
what the user may view, so others' objects are a 404; an object the user may view but not act
on is a 403 (a viewer writing or starting a run). `TokenLimits` refuses writes with a read-only
API token before any of this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.db.models import Model, QuerySet
from django.http import Http404
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from ..access import can, default_project, token_of
from ..models import Project

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


def get_scoped(selector: Callable[..., QuerySet], request: Request, pk: Any,
               action: str) -> Model:
    """The object `pk` if the user may view it (else 404) and do `action` on it (else 403)."""
    token = token_of(request.auth)
    obj = selector(request.user, "view", token=token).filter(pk=pk).first()
    if obj is None:
        raise Http404
    if action != "view" and not selector(request.user, action, token=token).filter(
            pk=obj.pk).exists():
        raise forbidden(action)
    return obj


class ScopedViewSetMixin:
    visible_to: ClassVar[Callable[..., QuerySet]]
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
        obj = super().get_object()  # type: ignore[misc]
        if self.access != "view" and not self.scoped(self.access).filter(pk=obj.pk).exists():
            raise forbidden(self.access)
        return obj

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
