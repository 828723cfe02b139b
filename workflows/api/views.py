"""Workflows (CRUD, versions, webhook secret rotation), credentials and node types.

Thin views: they parse, scope to the user (others' objects are 404), call a service, serialize.
"""

from __future__ import annotations

import datetime as dt
import re

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from nodes.registry import registry
from wfaib.conf import wfaib_settings
from wfaib.exceptions import ErrorSerializer

from .. import services
from ..models import Credential, Workflow
from .scoping import credentials_visible_to, workflows_visible_to
from .serializers import (
    CredentialSerializer,
    NodeTypeSerializer,
    RotatedSecretSerializer,
    WorkflowSerializer,
    WorkflowVersionSerializer,
    WorkflowVersionSummarySerializer,
    default_definition,
)

_IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')

IF_MATCH = OpenApiParameter(
    "If-Match", location=OpenApiParameter.HEADER, required=False, type=str,
    description='The version the change is based on (`"3"`); same as the body field `version`.')
CONFLICT = OpenApiResponse(ErrorSerializer, description="version_conflict: saved by someone "
                           "else since the given version; `current_version` says which is stored.")


def base_version(request: Request, data: dict) -> int | None:
    """The version an update is based on: body `version`, else the If-Match header."""
    if data.get("version") is not None:
        return data["version"]
    header = request.headers.get("If-Match")
    if not header:
        return None
    match = _IF_MATCH.match(header)
    if not match:
        raise serializers.ValidationError({"If-Match": ['expected a version number such as "3"']})
    return int(match.group(1))


@extend_schema(tags=["workflows"])
class WorkflowViewSet(viewsets.ModelViewSet):
    """Workflows of the signed-in user (staff: everyone's)."""

    serializer_class = WorkflowSerializer

    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Workflow.objects.none()
        return workflows_visible_to(self.request.user)

    def perform_create(self, serializer: WorkflowSerializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("version", None)
        name = data.pop("name")
        definition = data.pop("definition", None) or default_definition(name)
        serializer.instance = services.workflow_create(
            owner=self.request.user, name=name, definition=definition, **data)

    def perform_update(self, serializer: WorkflowSerializer) -> None:
        data = dict(serializer.validated_data)
        based_on = base_version(self.request, data)
        data.pop("version", None)
        serializer.instance = services.workflow_update(
            workflow=serializer.instance, user=self.request.user, base_version=based_on, **data)

    def perform_destroy(self, instance: Workflow) -> None:
        services.workflow_delete(workflow=instance)

    def finalize_response(self, request, response, *args, **kwargs):
        # The version as an ETag, so a client can send it back in If-Match.
        if isinstance(getattr(response, "data", None), dict) and "version" in response.data \
                and "id" in response.data and response.status_code < 300:
            response["ETag"] = f'"{response.data["version"]}"'
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(parameters=[IF_MATCH], responses={200: WorkflowSerializer, 409: CONFLICT})
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(parameters=[IF_MATCH], responses={200: WorkflowSerializer, 409: CONFLICT})
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(responses=WorkflowVersionSummarySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def versions(self, request: Request, pk: str | None = None) -> Response:
        """Saved versions, newest first (without their definitions)."""
        workflow = self.get_object()
        versions = workflow.versions.select_related("created_by").order_by("-number")
        return Response(WorkflowVersionSummarySerializer(versions, many=True).data)

    @extend_schema(responses=WorkflowVersionSerializer,
                   parameters=[OpenApiParameter("number", int, OpenApiParameter.PATH)])
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>\d+)",
            url_name="version")
    def version(self, request: Request, pk: str | None = None, number: str = "") -> Response:
        """One saved version with its definition."""
        workflow = self.get_object()
        version = get_object_or_404(workflow.versions.select_related("created_by"),
                                    number=int(number))
        return Response(WorkflowVersionSerializer(version).data)

    @extend_schema(request=None, responses=RotatedSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str | None = None) -> Response:
        """A new webhook secret, returned only here; the previous one keeps working for the
        grace period (WFAIB_WEBHOOK_SECRET_GRACE seconds)."""
        workflow = self.get_object()
        secret = services.workflow_rotate_secret(workflow=workflow)
        grace = wfaib_settings.WEBHOOK_SECRET_GRACE
        until = (workflow.webhook_secret_rotated_at + dt.timedelta(seconds=grace)
                 if workflow.webhook_previous_secret else None)
        return Response({"webhook_secret": secret, "previous_secret_valid_until": until})


@extend_schema(tags=["credentials"])
class CredentialViewSet(viewsets.ModelViewSet):
    """Credentials of the signed-in user (staff: everyone's); secrets are write-only."""

    serializer_class = CredentialSerializer

    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Credential.objects.none()
        return credentials_visible_to(self.request.user)

    def perform_create(self, serializer: CredentialSerializer) -> None:
        serializer.instance = services.credential_create(owner=self.request.user,
                                                         **serializer.validated_data)

    def perform_update(self, serializer: CredentialSerializer) -> None:
        serializer.instance = services.credential_update(credential=serializer.instance,
                                                         **serializer.validated_data)

    def perform_destroy(self, instance: Credential) -> None:
        services.credential_delete(credential=instance)


class NodeTypesView(APIView):
    """Every registered node type: palette data and the JSON Schema of its config."""

    @extend_schema(responses=NodeTypeSerializer(many=True), operation_id="node_types_list",
                   tags=["node-types"])
    def get(self, request: Request) -> Response:
        return Response([cls.describe() for cls in registry])
