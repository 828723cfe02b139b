"""/api/folders: folders of the workflow list (workflows/folders.py).

Members read them (view); editors and admins create, rename, move and delete them (edit,
delete). `?project=` lists one project's, `?parent=<id>` one folder's subfolders
(`?parent=top`: the top level). A new folder goes to `project` (default: your personal
project or the token's), or to its `parent`'s project. Deleting a folder that holds workflows
or subfolders answers 409 `folder_not_empty`. A workflow is put in a folder with PATCH
/api/workflows/{id} {"folder": <id>}.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets

from accounts.access import token_of
from accounts.api.base import ScopedViewSetMixin
from wfaib.exceptions import ErrorSerializer

from ..folders import (
    MAX_NAME_LENGTH,
    folder_create,
    folder_delete,
    folder_path,
    folder_update,
    folders_visible_to,
)
from ..models import Folder
from .serializers import project_field, scope_project_field
from .views import PROJECT_FILTER, filter_by_project

PARENT_FILTER = OpenApiParameter("parent", str, description="Only this folder's subfolders "
                                                            "(`top`: the top level's).")


class FolderSerializer(serializers.ModelSerializer):
    """A folder. `path` is the breadcrumb from the top level down to it."""

    name = serializers.CharField(max_length=MAX_NAME_LENGTH, help_text="Unique among its "
                                 "siblings; no slashes.")
    parent = serializers.PrimaryKeyRelatedField(
        queryset=Folder.objects.none(), required=False, allow_null=True,
        help_text="The folder it sits in (null: the project's top level); same project.")
    project = project_field("The project the folder belongs to (default: the parent's, else "
                            "your personal project). Fixed once created.")
    path = serializers.SerializerMethodField()

    class Meta:
        model = Folder
        fields = ["id", "name", "parent", "project", "path", "created_at", "updated_at"]
        read_only_fields = ["id", "path", "created_at", "updated_at"]
        validators: list = []  # names per parent are checked by the service

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["parent"].queryset = folders_visible_to(
                request.user, token=token_of(request.auth))
        scope_project_field(self)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields) - {"path"})
            if unknown:
                raise serializers.ValidationError({name: ["unknown field"] for name in unknown})
        return super().to_internal_value(data)

    def get_path(self, folder: Folder) -> list[dict[str, Any]]:
        return [{"id": f.pk, "name": f.name} for f in folder_path(folder)]


class FolderFilterSerializer(serializers.Serializer):
    parent = serializers.RegexField(r"^(top|\d{1,18})$", required=False, error_messages={
        "invalid": "a folder id, or `top` for the top level"})


@extend_schema(tags=["folders"])
class FolderViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """Folders of the signed-in user's projects (`?project=` for one, `?parent=` for one
    folder's subfolders)."""

    serializer_class = FolderSerializer
    visible_to = staticmethod(folders_visible_to)
    lookup_value_regex = r"\d+"

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.action != "list":
            return queryset
        queryset = filter_by_project(self.request, queryset)
        params = FolderFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        parent = params.validated_data.get("parent")
        if parent == "top":
            return queryset.filter(parent__isnull=True)
        return queryset.filter(parent_id=int(parent)) if parent else queryset

    @extend_schema(parameters=[PROJECT_FILTER, PARENT_FILTER])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer: FolderSerializer) -> None:
        data = dict(serializer.validated_data)
        parent = data.get("parent")
        project = data.get("project") or (parent.project if parent is not None else None)
        project = self.target_project(project)
        serializer.instance = folder_create(project=project, name=data["name"], parent=parent,
                                            actor=self.request.user)

    def perform_update(self, serializer: FolderSerializer) -> None:
        serializer.instance = folder_update(folder=serializer.instance, actor=self.request.user,
                                            **serializer.validated_data)

    @extend_schema(responses={204: None, 409: OpenApiResponse(
        ErrorSerializer, description="folder_not_empty: `workflows` and `folders` say how "
                                     "many it still holds.")})
    def destroy(self, request, *args, **kwargs):
        """Delete an empty folder (one that holds workflows or subfolders: 409)."""
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance) -> None:
        folder_delete(folder=instance, actor=self.request.user)
