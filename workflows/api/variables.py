"""/api/variables: project variables (`vars.<key>` in expressions); values are not secret.

Members read them (view); editors and admins create, change and delete them (edit, delete).
`?project=` lists one project's; a new variable goes to `project` (default: your personal
project or the token's).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets

from accounts.api.base import ScopedViewSetMixin

from ..models import Variable
from ..variables import (
    MAX_VALUE_LENGTH,
    key_problem,
    variable_create,
    variable_delete,
    variable_update,
    variables_visible_to,
)
from .serializers import project_field, scope_project_field
from .views import PROJECT_FILTER, filter_by_project


class VariableSerializer(serializers.ModelSerializer):
    """A project variable. Its value is plain text that any member can read: not a secret."""

    key = serializers.CharField(max_length=64, help_text="Read in expressions as vars.<key>.")
    value = serializers.CharField(max_length=MAX_VALUE_LENGTH, allow_blank=True,
                                  trim_whitespace=False, required=False, default="")
    project = project_field("The project the variable belongs to (default: your personal "
                            "project).")

    class Meta:
        model = Variable
        fields = ["id", "key", "value", "project", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators: list = []  # the key per project is checked by the service

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["unknown field"] for name in unknown})
        return super().to_internal_value(data)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope_project_field(self)

    def validate_key(self, value: str) -> str:
        problem = key_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


@extend_schema(tags=["variables"])
class VariableViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """Variables of the signed-in user's projects (`?project=` for one)."""

    serializer_class = VariableSerializer
    visible_to = staticmethod(variables_visible_to)
    lookup_value_regex = r"\d+"

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        return filter_by_project(self.request, queryset) if self.action == "list" else queryset

    @extend_schema(parameters=[PROJECT_FILTER])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer: VariableSerializer) -> None:
        data = dict(serializer.validated_data)
        project = self.target_project(data.pop("project", None))
        serializer.instance = variable_create(project=project, actor=self.request.user, **data)

    def perform_update(self, serializer: VariableSerializer) -> None:
        data = dict(serializer.validated_data)
        if data.get("project") is not None and data["project"].pk != serializer.instance.project_id:
            self.target_project(data["project"])
        serializer.instance = variable_update(variable=serializer.instance,
                                              actor=self.request.user, **data)

    def perform_destroy(self, instance) -> None:
        variable_delete(variable=instance, actor=self.request.user)
