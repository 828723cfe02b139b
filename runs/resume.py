"""`POST /api/resume/{token}`: the public URL that resumes a run waiting in a wait_for_webhook
node. The token is the URL's only secret (an HMAC, see runs/engine/resume_tokens.py).

    202 {"run", "status"}       resumed: the body became the node's output, the run is queued
    404 not_waiting             no run waits for this token (unknown, resumed, timed out, ended)
    413 body_too_large          WFAIB_WEBHOOK_MAX_BODY
    400 invalid_json            a JSON content type with a body that does not parse

A JSON body is parsed; any other body is passed on as text (an empty body as null).
"""

from __future__ import annotations

from typing import Any

import orjson
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from wfaib.conf import wfaib_settings
from wfaib.exceptions import ErrorSerializer, error_body

from .models import Run
from .services import ResumeNotFound, run_resume_webhook


def _json(data: Any, status: int) -> HttpResponse:
    return HttpResponse(orjson.dumps(data), status=status, content_type="application/json")


class ResumedSerializer(serializers.Serializer):
    run = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Run.Status.choices)


class ResumeView(APIView):
    """Resumes the run waiting for this token with the request body as the node's output."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":  # plain Django: no DRF negotiation needed here
            response = _json(error_body("method_not_allowed",
                                        f"{request.method} is not allowed here; send a POST"),
                             405)
            response["Allow"] = "POST"
            return response
        return self.post(request, **kwargs)

    @extend_schema(
        request=OpenApiTypes.ANY,
        responses={
            202: ResumedSerializer,
            400: OpenApiResponse(ErrorSerializer, description="invalid_json"),
            404: OpenApiResponse(ErrorSerializer, description="not_waiting"),
            413: OpenApiResponse(ErrorSerializer, description="body_too_large"),
        },
        auth=[],
        summary="Resume a run waiting for a webhook",
    )
    def post(self, request: HttpRequest, token: str) -> HttpResponse:  # type: ignore[override]
        limit = int(wfaib_settings.WEBHOOK_MAX_BODY)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return _json(error_body("body_too_large", f"the body exceeds {limit} bytes"), 413)
        try:
            raw = request.body
        except RequestDataTooBig:
            return _json(error_body("body_too_large", f"the body exceeds {limit} bytes"), 413)
        if len(raw) > limit:
            return _json(error_body("body_too_large", f"the body exceeds {limit} bytes"), 413)
        content_type = (request.content_type or "").lower()
        payload: Any
        if not raw:
            payload = None
        elif content_type == "application/json" or content_type.endswith("+json"):
            try:
                payload = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                return _json(error_body("invalid_json", f"the body is not valid JSON: {exc}"),
                             400)
        else:
            payload = raw.decode("utf-8", errors="replace")
        try:
            run = run_resume_webhook(token=token, payload=payload)
        except ResumeNotFound as exc:
            return _json(error_body("not_waiting", str(exc)), 404)
        return _json({"run": run.pk, "status": run.status}, 202)


urlpatterns = [path("<str:token>", ResumeView.as_view(), name="resume")]
