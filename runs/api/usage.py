"""The cost ledger in the API: a month's model usage (tokens, estimated cost) of what the user
may see, of one workflow, or of one project.

    GET /api/usage?month=YYYY-MM                  every project the user may view
    GET /api/workflows/{id}/usage?month=YYYY-MM   one workflow (viewers may read it)
    GET /api/projects/{id}/usage?month=YYYY-MM    one project
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import projects_visible_to, token_of
from accounts.api.base import get_scoped
from wfaib.exceptions import ErrorSerializer
from workflows.selectors import workflows_visible_to

from ..ledger import usage_report

MONTH = OpenApiParameter("month", str, OpenApiParameter.QUERY, required=False,
                         description="YYYY-MM (default: the current month).")
BAD_MONTH = OpenApiResponse(ErrorSerializer, description="invalid_month: not YYYY-MM")


class UsageSums(serializers.Serializer):
    calls = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()
    cached_tokens = serializers.IntegerField()
    cost = serializers.FloatField(help_text="Estimated USD.")


class NamedUsage(UsageSums):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField(allow_null=True)


class ModelUsageRow(UsageSums):
    provider = serializers.CharField()
    model = serializers.CharField()


class DayUsage(UsageSums):
    day = serializers.DateField()


class UsageReportSerializer(serializers.Serializer):
    month = serializers.CharField()
    totals = UsageSums()
    projects = NamedUsage(many=True)
    workflows = NamedUsage(many=True)
    models = ModelUsageRow(many=True)
    days = DayUsage(many=True)


def _report(request: Request, **scope: Any) -> Response:
    month = request.query_params.get("month") or None
    return Response(usage_report(request.user, month=month, token=token_of(request.auth),
                                 **scope))


@extend_schema(tags=["usage"], parameters=[MONTH],
               responses={200: UsageReportSerializer, 400: BAD_MONTH})
class UsageView(APIView):
    """Model usage and estimated cost in a month, over every project you may view."""

    def get(self, request: Request) -> Response:
        return _report(request)


@extend_schema(tags=["usage"], parameters=[MONTH],
               responses={200: UsageReportSerializer, 400: BAD_MONTH})
class WorkflowUsageView(APIView):
    """Model usage and estimated cost of one workflow in a month."""

    def get(self, request: Request, pk: int) -> Response:
        return _report(request, workflow=get_scoped(workflows_visible_to, request, pk, "view"))


@extend_schema(tags=["usage"], parameters=[MONTH],
               responses={200: UsageReportSerializer, 400: BAD_MONTH})
class ProjectUsageView(APIView):
    """Model usage and estimated cost of one project in a month."""

    def get(self, request: Request, pk: int) -> Response:
        return _report(request, project=get_scoped(projects_visible_to, request, pk, "view",
                                                   project_lookup="pk"))
