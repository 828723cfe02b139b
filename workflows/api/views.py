"""Workflows (CRUD, versions, webhook secret rotation), credentials (CRUD, sharing) and node
types.

Thin views: they parse, call a service, serialize. What a user may see and do is applied by
`ScopedViewSetMixin` from the selectors (others' objects are 404, a viewer's writes 403).
"""

from __future__ import annotations

import datetime as dt
import re

from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import token_of
from accounts.api.base import ScopedViewSetMixin
from nodes.registry import registry
from wfaib.conf import wfaib_settings
from wfaib.exceptions import ErrorSerializer

from .. import services
from ..credential_kinds import KINDS
from ..gallery import available_templates
from ..selectors import credentials_visible_to, workflows_visible_to
from .n8n import N8nImportSerializer, import_n8n_response
from .serializers import (
    CredentialKindSerializer,
    CredentialSerializer,
    CredentialShareSerializer,
    CredentialTestResultSerializer,
    CredentialTestSerializer,
    NodeTypeSerializer,
    OAuth2ConnectSerializer,
    RotatedSecretSerializer,
    TemplateSerializer,
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


PROJECT_FILTER = OpenApiParameter("project", int, description="Only this project's.")
KIND_FILTER = OpenApiParameter(
    "kind", str, description="Only credentials of these kinds (comma-separated) that you may "
                             "use in nodes, your projects' own and those shared with them.")


class CredentialKindFilterSerializer(serializers.Serializer):
    kind = serializers.CharField(required=False, max_length=500)

    def validate_kind(self, value: str) -> list[str]:
        kinds = [k.strip() for k in value.split(",") if k.strip()]
        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            raise serializers.ValidationError(
                f"unknown kind {unknown[0]!r}; one of {', '.join(KINDS)}")
        return kinds


FOLDER_FILTER = OpenApiParameter("folder", str, description="Only the workflows directly in this "
                                 "folder (`top`: those in no folder).")


class FolderFilterSerializer(serializers.Serializer):
    folder = serializers.RegexField(r"^(top|\d{1,18})$", required=False, error_messages={
        "invalid": "a folder id, or `top` for the workflows in no folder"})


def filter_by_folder(request: Request, qs):
    params = FolderFilterSerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    folder = params.validated_data.get("folder")
    if folder == "top":
        return qs.filter(folder__isnull=True)
    return qs.filter(folder_id=int(folder)) if folder else qs


class ProjectFilterSerializer(serializers.Serializer):
    project = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)


def filter_by_project(request: Request, qs):
    params = ProjectFilterSerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    if "project" not in params.validated_data:
        return qs
    return qs.filter(project_id=params.validated_data["project"])


@extend_schema(tags=["workflows"])
class WorkflowViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """Workflows in the signed-in user's projects (`?project=` for one)."""

    serializer_class = WorkflowSerializer
    visible_to = staticmethod(workflows_visible_to)
    action_access = {"versions": "view", "version": "view", "rotate_secret": "edit",
                     "import_n8n": "edit"}

    lookup_value_regex = r"\d+"

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.action != "list":
            return queryset
        return filter_by_folder(self.request, filter_by_project(self.request, queryset))

    @extend_schema(parameters=[PROJECT_FILTER, FOLDER_FILTER])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer: WorkflowSerializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("version", None)
        data["project"] = self.target_project(data.get("project"))
        name = data.pop("name")
        definition = data.pop("definition", None) or default_definition(name)
        serializer.instance = services.workflow_create(
            owner=self.request.user, name=name, definition=definition, **data)

    def perform_update(self, serializer: WorkflowSerializer) -> None:
        data = dict(serializer.validated_data)
        based_on = base_version(self.request, data)
        data.pop("version", None)
        if data.get("project") is not None and data["project"].pk != serializer.instance.project_id:
            self.target_project(data["project"])
        serializer.instance = services.workflow_update(
            workflow=serializer.instance, user=self.request.user, base_version=based_on, **data)

    def perform_destroy(self, instance) -> None:
        services.workflow_delete(workflow=instance, actor=self.request.user)

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

    @extend_schema(request=N8nImportSerializer, responses={201: OpenApiResponse(
        description="{workflow, report}: created inactive; the report lists every node and "
                    "expression not converted and why"), 200: OpenApiResponse(
        description="dry_run: {definition, report}")})
    @action(detail=False, methods=["post"], url_path="import-n8n", url_name="import-n8n")
    def import_n8n(self, request: Request) -> Response:
        """Create a workflow from an n8n workflow export (JSON)."""
        return import_n8n_response(self, request)

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
class CredentialViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """Credentials in the signed-in user's projects, and those shared with them for use
    (`?project=` for one project's own); secrets are write-only."""

    serializer_class = CredentialSerializer
    visible_to = staticmethod(credentials_visible_to)
    action_access = {"share": "admin", "unshare": "admin", "test": "edit", "connect": "edit"}

    lookup_value_regex = r"\d+"

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.action != "list":
            return queryset
        queryset = filter_by_project(self.request, queryset)
        kinds = CredentialKindFilterSerializer(data=self.request.query_params)
        kinds.is_valid(raise_exception=True)
        if kinds.validated_data.get("kind"):
            # The editor's picker: the credentials of these kinds the user may use in nodes.
            usable = credentials_visible_to(self.request.user, "use",
                                            token=token_of(self.request.auth))
            queryset = queryset.filter(kind__in=kinds.validated_data["kind"],
                                       pk__in=usable.values("pk"))
        return queryset

    @extend_schema(parameters=[PROJECT_FILTER, KIND_FILTER])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer: CredentialSerializer) -> None:
        data = dict(serializer.validated_data)
        data["project"] = self.target_project(data.get("project"))
        serializer.instance = services.credential_create(owner=self.request.user, **data)

    def perform_update(self, serializer: CredentialSerializer) -> None:
        data = dict(serializer.validated_data)
        if data.get("project") is not None and data["project"].pk != serializer.instance.project_id:
            self.target_project(data["project"])
        serializer.instance = services.credential_update(credential=serializer.instance, **data)

    @extend_schema(responses={204: None, 409: OpenApiResponse(
        ErrorSerializer, description="credential_in_use: `workflows` lists the workflows "
                                     "({id, name}) whose nodes name it.")})
    def destroy(self, request, *args, **kwargs):
        """Delete a credential, unless a workflow's current definition uses it (409)."""
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance) -> None:
        services.credential_delete(credential=instance)

    @extend_schema(request=None, responses=OAuth2ConnectSerializer)
    @action(detail=True, methods=["post"], url_path="oauth2/connect")
    def connect(self, request: Request, pk: str | None = None) -> Response:
        """Start the OAuth2 authorization-code flow: send the user's browser to
        `authorize_url`; the provider returns to `redirect_uri` (GET /api/oauth2/callback),
        which stores the tokens. Only oauth2 credentials with grant_type authorization_code."""
        from runs.oauth2_connect import connect_start, redirect_uri

        credential = self.get_object()
        return Response({"authorize_url": connect_start(credential),
                         "redirect_uri": redirect_uri()})

    @extend_schema(request=CredentialTestSerializer, responses=CredentialTestResultSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        """Test the connection: HTTP kinds GET `url` (or the kind's default) with the
        credential applied; smtp/imap log in; database runs SELECT 1; s3 asks head_bucket;
        openai/anthropic list models. Answers {ok, message}; never a secret."""
        from runs.credential_checks import check_credential

        credential = self.get_object()
        body = CredentialTestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(check_credential(credential, url=body.validated_data.get("url")))

    @extend_schema(request=CredentialShareSerializer, responses=CredentialSerializer)
    @action(detail=True, methods=["post"])
    def share(self, request: Request, pk: str | None = None) -> Response:
        """Share the credential with another project for use only (its project's admins)."""
        credential = self.get_object()
        body = CredentialShareSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.credential_share(credential=credential, project=body.validated_data["project"],
                                  actor=request.user)
        return Response(self.get_serializer(credential).data)

    @extend_schema(request=None, responses=CredentialSerializer,
                   parameters=[OpenApiParameter("project_id", int, OpenApiParameter.PATH)])
    @action(detail=True, methods=["delete"], url_path=r"share/(?P<project_id>\d+)",
            url_name="unshare")
    def unshare(self, request: Request, pk: str | None = None, project_id: str = "") -> Response:
        """Stop sharing the credential with a project."""
        credential = self.get_object()
        project = get_object_or_404(credential.shared_with.all(), pk=int(project_id))
        services.credential_unshare(credential=credential, project=project, actor=request.user)
        return Response(self.get_serializer(credential).data)


class OAuth2CallbackView(APIView):
    """Where the OAuth2 provider sends the browser back after "connect": the code is exchanged
    for tokens stored encrypted in the credential. Public (the signed, one-time `state`
    names the credential); a connect started in the admin returns there."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: OpenApiResponse(description="{ok, credential}"),
                              400: ErrorSerializer}, tags=["credentials"],
                   parameters=[OpenApiParameter("code", str), OpenApiParameter("state", str),
                               OpenApiParameter("error", str)])
    def get(self, request: Request) -> Response | HttpResponseRedirect:
        from runs.oauth2_connect import ConnectRefused, connect_finish

        if request.query_params.get("error"):
            raise ConnectRefused(f"the provider refused: "
                                 f"{request.query_params['error'][:100]}")
        credential, back = connect_finish(code=request.query_params.get("code", ""),
                                          state=request.query_params.get("state", ""))
        if back == "admin":
            return HttpResponseRedirect(
                reverse("admin:workflows_credential_change", args=[credential.pk]))
        return Response({"ok": True, "credential": credential.pk})


class CredentialKindsView(APIView):
    """The typed credential kinds and the JSON Schema of each one's data (secret fields carry
    `x-secret`): what the admin and editor forms are generated from."""

    @extend_schema(responses=CredentialKindSerializer(many=True),
                   operation_id="credential_kinds_list", tags=["credentials"])
    def get(self, request: Request) -> Response:
        return Response([kind.describe() for kind in KINDS.values()])


class NodeTypesView(APIView):
    """Every registered node type: palette data and the JSON Schema of its config."""

    @extend_schema(responses=NodeTypeSerializer(many=True), operation_id="node_types_list",
                   tags=["node-types"])
    def get(self, request: Request) -> Response:
        return Response([cls.describe() for cls in registry])


class TemplatesView(APIView):
    """The template gallery: workflows to start from (create one with POST /api/workflows and
    a template's `definition`). `services` names what a template calls outside the run."""

    @extend_schema(responses=TemplateSerializer(many=True), operation_id="templates_list",
                   tags=["node-types"])
    def get(self, request: Request) -> Response:
        return Response(available_templates())
