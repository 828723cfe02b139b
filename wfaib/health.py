"""`GET /api/health`: is the database up, and the broker when Celery executes runs? 503 if not.
Also names the vector store's search path (ai/vectors.py: sqlite-vec, pgvector or exact).

    200 {"status": "ok", "checks": {"database": "up", "broker": "up"},
         "vector_store": "sqlite-vec"}
    503 {"status": "degraded", "checks": {"database": "down", ...}}

Public (load balancers and the demo workflow call it); "broker" appears only when
WFAIB_EXECUTOR=celery.
"""

from __future__ import annotations

from django.db import connection
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ai.vectors import backend
from runs.dispatch import executor


def check_database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def health_checks() -> dict[str, str]:
    checks = {"database": "up" if check_database() else "down"}
    checks.update(executor().health())  # e.g. the broker, when Celery executes runs
    return checks


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "degraded"])
    checks = serializers.DictField(child=serializers.ChoiceField(choices=["up", "down"]))
    vector_store = serializers.ChoiceField(choices=["sqlite-vec", "pgvector", "exact",
                                                    "unknown"])


def vector_backend() -> str:
    try:
        return backend()
    except Exception:  # the database is down: the checks say so
        return "unknown"


class HealthView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(operation_id="health", tags=["health"], responses={
        200: HealthSerializer,
        503: OpenApiResponse(HealthSerializer, description="a dependency is down")})
    def get(self, request: Request) -> Response:
        checks = health_checks()
        ok = all(v == "up" for v in checks.values())
        return Response({"status": "ok" if ok else "degraded", "checks": checks,
                         "vector_store": vector_backend()},
                        status=200 if ok else 503)


health = HealthView.as_view()
