"""POST /api/workflows/import-n8n: create a workflow from an n8n export, with the report.

    {"workflow": {...n8n export...}, "project"?: id, "name"?: str,
     "workflow_map"?: {"<n8n workflow id>": <WFAIB workflow id>}, "dry_run"?: bool}
    -> 201 {"workflow": {...}, "report": {...}}     (dry_run: 200 {"definition", "report"})

Not an n8n export: 400 `invalid_n8n_workflow` naming the field; a result that does not
validate: 400 `invalid_definition` with its errors and the report.
"""

from __future__ import annotations

from typing import Any

import orjson
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from ..n8n_import import MAX_FILE_BYTES, convert, workflow_import_n8n
from ..selectors import workflows_visible_to
from ..validation import InvalidDefinition
from .serializers import project_field, scope_project_field


class N8nImportSerializer(serializers.Serializer):
    workflow = serializers.JSONField(help_text="The n8n workflow export (its JSON object).")
    project = project_field("Where the workflow goes (default: your personal project).")
    name = serializers.CharField(required=False, max_length=200)
    workflow_map = serializers.DictField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), required=False,
        help_text="n8n workflow ids -> WFAIB workflow ids, for Execute Workflow nodes.")
    dry_run = serializers.BooleanField(required=False, default=False,
                                       help_text="Convert and report without creating.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope_project_field(self)

    def validate_workflow(self, value: Any) -> Any:
        if len(orjson.dumps(value)) > MAX_FILE_BYTES:
            raise serializers.ValidationError(f"at most {MAX_FILE_BYTES:,} bytes of JSON")
        return value

    def validate_workflow_map(self, value: dict[str, int]) -> dict[str, int]:
        request = self.context["request"]
        mine = set(workflows_visible_to(request.user, "run").filter(
            pk__in=list(value.values())).values_list("pk", flat=True))
        missing = sorted(set(value.values()) - mine)
        if missing:
            raise serializers.ValidationError(f"not workflows you may run: {missing}")
        return value


def import_n8n_response(view: Any, request: Request) -> Response:
    body = N8nImportSerializer(data=request.data, context={"request": request})
    body.is_valid(raise_exception=True)
    data = body.validated_data
    project = view.target_project(data.get("project"))
    if data["dry_run"]:
        conversion = convert(data["workflow"], workflow_map=data.get("workflow_map"))
        return Response({"definition": conversion.definition, "report": conversion.report})
    try:
        workflow, report = workflow_import_n8n(
            owner=request.user, data=data["workflow"], project=project, name=data.get("name"),
            workflow_map=data.get("workflow_map"))
    except InvalidDefinition as exc:
        conversion = convert(data["workflow"], workflow_map=data.get("workflow_map"))
        return Response({"code": exc.code, "message": exc.message, "errors": exc.errors,
                         "report": conversion.report}, status=status.HTTP_400_BAD_REQUEST)
    payload = view.get_serializer(workflow).data
    return Response({"workflow": payload, "report": report}, status=status.HTTP_201_CREATED)
