"""`POST /api/resume/{token}`: the public URL that resumes a run waiting in a wait_for_webhook
node. The token is the URL's only secret (an HMAC, see runs/engine/resume_tokens.py).

    202 {"run", "status"}       resumed: the body became the node's output, the run is queued
    404 not_waiting             no run waits for this token (unknown, resumed, timed out, ended)
    413 body_too_large          WFAIB_WEBHOOK_MAX_BODY (411 length_required: see webhooks.body)
    400 invalid_json, json_too_deep, number_out_of_range   a JSON body read as the webhook's
    415 unsupported_media_type  a +json type the webhook does not read, or JSON not in UTF-8

A JSON body is parsed as the webhook's is (runs/webhooks/body.py); any other body is passed on
as text (an empty body as null). Answers carry the webhook's CSP sandbox and nosniff.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers

from wfaib.exceptions import ErrorSerializer

from .models import Run
from .services import ResumeNotFound, run_resume_webhook
from .webhooks.body import is_json_type, parse_json
from .webhooks.http import PublicPostView, json_response, read_request_body
from .webhooks.rejected import WebhookRejected


def read_payload(request: HttpRequest) -> Any:
    """The resume body: JSON parsed as the webhook's is, other bodies as text, empty as None."""
    raw = read_request_body(request)
    if not raw:
        return None
    if is_json_type(request) or (request.content_type or "").lower().endswith("+json"):
        return parse_json(raw, request)  # refuses other +json types and charsets
    return raw.decode("utf-8", errors="replace")


class ResumedSerializer(serializers.Serializer):
    run = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Run.Status.choices)


class ResumeView(PublicPostView):
    """Resumes the run waiting for this token with the request body as the node's output."""

    door = "resume"

    @extend_schema(
        request=OpenApiTypes.ANY,
        responses={
            202: ResumedSerializer,
            400: OpenApiResponse(ErrorSerializer, description="invalid_json, json_too_deep, "
                                                               "number_out_of_range"),
            404: OpenApiResponse(ErrorSerializer, description="not_waiting"),
            411: OpenApiResponse(ErrorSerializer, description="length_required"),
            413: OpenApiResponse(ErrorSerializer, description="body_too_large"),
            415: OpenApiResponse(ErrorSerializer, description="unsupported_media_type"),
        },
        auth=[],
        summary="Resume a run waiting for a webhook",
    )
    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        payload = read_payload(request)
        try:
            run = run_resume_webhook(token=token, payload=payload)
        except ResumeNotFound as exc:
            raise WebhookRejected(404, "not_waiting", str(exc)) from None
        return json_response({"run": run.pk, "status": run.status}, 202)


urlpatterns = [path("<str:token>", ResumeView.as_view(), name="resume")]
