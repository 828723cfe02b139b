"""`GET /api/health`: is the database up, and the broker when Celery executes runs? 503 if not.

    200 {"status": "ok", "checks": {"database": "up", "broker": "up"}}
    503 {"status": "degraded", "checks": {"database": "down", ...}}

Public (load balancers and the demo workflow call it); "broker" appears only when
WFAIB_EXECUTOR=celery.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wfaib.conf import wfaib_settings

BROKER_TIMEOUT = 2.0  # seconds: a health check must answer quickly even when the broker hangs


def check_database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def check_broker() -> bool:
    from kombu import Connection

    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT,
                        transport_options={"socket_timeout": BROKER_TIMEOUT,
                                           "socket_connect_timeout": BROKER_TIMEOUT}) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0,
                                   timeout=BROKER_TIMEOUT)
        return True
    except Exception:
        return False


def health_checks() -> dict[str, str]:
    checks = {"database": "up" if check_database() else "down"}
    if wfaib_settings.EXECUTOR == "celery":
        checks["broker"] = "up" if check_broker() else "down"
    return checks


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "degraded"])
    checks = serializers.DictField(child=serializers.ChoiceField(choices=["up", "down"]))


class HealthView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(operation_id="health", tags=["health"], responses={
        200: HealthSerializer,
        503: OpenApiResponse(HealthSerializer, description="a dependency is down")})
    def get(self, request: Request) -> Response:
        checks = health_checks()
        ok = all(v == "up" for v in checks.values())
        return Response({"status": "ok" if ok else "degraded", "checks": checks},
                        status=200 if ok else 503)


health = HealthView.as_view()
