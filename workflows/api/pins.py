"""/api/workflows/{id}/pins: the editor's pinned test data (workflows/pins.py).

    GET    /api/workflows/{id}/pins             {"pins": {node_id: {value, port, bytes, at, by}}}
    PUT    /api/workflows/{id}/pins/{node_id}   {"value": ..., "port": "main"}  -> the pin
    DELETE /api/workflows/{id}/pins/{node_id}   204 (also when it was not pinned)

Members read pins (view); editors and admins set and clear them (edit). Pins never change a
production run: only test runs (POST /api/workflows/{id}/runs with a `mode`) use them.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.base import get_scoped
from wfaib.exceptions import ErrorSerializer

from ..pins import pins_of, workflow_pin, workflow_unpin
from ..selectors import workflows_visible_to

NODE_ID = OpenApiParameter("node_id", str, OpenApiParameter.PATH,
                           description="The id of a node of the workflow's saved definition.")


class PinSerializer(serializers.Serializer):
    value = serializers.JSONField(allow_null=True,
                                  help_text="The node's output to use in test runs.")
    port = serializers.CharField(required=False, max_length=100, help_text=(
        "The output port the data leaves on (default: the node's first)."))

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["unknown field"] for name in unknown})
        return super().to_internal_value(data)


class StoredPinSerializer(serializers.Serializer):
    value = serializers.JSONField()
    port = serializers.CharField()
    bytes = serializers.IntegerField(help_text="Size of the value as JSON.")
    at = serializers.DateTimeField()
    by = serializers.CharField(allow_blank=True)


class PinsSerializer(serializers.Serializer):
    pins = serializers.DictField(child=StoredPinSerializer(), help_text="By node id.")


@extend_schema(tags=["workflows"])
class WorkflowPinsViewSet(viewsets.ViewSet):  # scoped with get_scoped
    """Pinned test data of a workflow's nodes."""

    @extend_schema(responses=PinsSerializer, operation_id="workflows_pins_list")
    def list(self, request: Request, pk: int) -> Response:
        """The pins of the nodes the saved definition has."""
        workflow = get_scoped(workflows_visible_to, request, pk, "view")
        return Response({"pins": pins_of(workflow)})

    @extend_schema(request=PinSerializer, parameters=[NODE_ID], operation_id="workflows_pin",
                   responses={200: StoredPinSerializer, 400: OpenApiResponse(
                       ErrorSerializer, description="invalid: `fields` names node, port or "
                                                    "value (e.g. over WFAIB_PIN_MAX_BYTES)")})
    def update(self, request: Request, pk: int, node_id: str) -> Response:
        """Pin `value` as the node's output in test runs (replacing an earlier pin)."""
        workflow = get_scoped(workflows_visible_to, request, pk, "edit")
        body = PinSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        pin = workflow_pin(workflow=workflow, node_id=node_id, value=body.validated_data["value"],
                           port=body.validated_data.get("port"), user=request.user)
        return Response(pin)

    @extend_schema(request=None, parameters=[NODE_ID], responses={204: None},
                   operation_id="workflows_unpin")
    def destroy(self, request: Request, pk: int, node_id: str) -> Response:
        """Unpin the node: test runs run it again."""
        workflow = get_scoped(workflows_visible_to, request, pk, "edit")
        workflow_unpin(workflow=workflow, node_id=node_id, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
