"""What the two public doors share: the webhook (runs/webhooks/views.py) and the resume URL
(runs/resume.py). Both are plain Django on the hot path (no DRF request, negotiation or
renderers; the classes are APIViews only so drf-spectacular documents them).

    class MyDoor(PublicPostView):
        def post(self, request, **kwargs):
            body = read_request_body(request)          # WFAIB_WEBHOOK_MAX_BODY, chunked too
            raise WebhookRejected(404, "not_here", "...")  # answered as {code, message}
            return json_response({...}, 202)

`PublicPostView.dispatch` answers 405 to anything but POST, turns the one `WebhookRejected`
a step raises into its JSON error, and hardens every answer (`harden`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from wfaib import metrics, tracing
from wfaib.conf import wfaib_settings

from .body import read_body
from .rejected import WebhookRejected


def json_response(data: Any, status: int,
                  headers: Mapping[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(orjson.dumps(data), status=status, content_type="application/json")
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def rejection_response(rejected: WebhookRejected) -> HttpResponse:
    return json_response(rejected.body(), rejected.status, rejected.headers)


def harden(response: HttpResponse) -> HttpResponse:
    """What every webhook and resume answer carries, whatever a `respond` node set: no script
    runs, no plugin loads, and the page gets an origin of its own (CSP `sandbox`), and the
    browser does not guess another content type (`nosniff`)."""
    response["Content-Security-Policy"] = "sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Frame-Options"] = "DENY"
    response["Referrer-Policy"] = "no-referrer"
    return response


def read_request_body(request: HttpRequest, *, uploads: bool = False) -> bytes:
    """The body, within WFAIB_WEBHOOK_MAX_BODY, or WFAIB_WEBHOOK_MAX_UPLOAD for a multipart
    body with files (`uploads`) (raises WebhookRejected 413/411/400)."""
    limit = wfaib_settings.WEBHOOK_MAX_UPLOAD if uploads else wfaib_settings.WEBHOOK_MAX_BODY
    return read_body(request, int(limit))


class PublicPostView(APIView):
    """A public POST endpoint: no authentication by session or token (the URL or the
    workflow's own check is the secret), every answer hardened, refusals answered alike."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    public_methods: tuple[str, ...] = ("POST",)  # the webhook takes more (its node decides)
    door = "webhook"  # the label of its metrics and spans

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with tracing.request_span(request, self.door) as span:
            try:
                method = request.method or ""
                if method not in self.public_methods:
                    allowed = ", ".join(self.public_methods)
                    raise WebhookRejected(405, "method_not_allowed", f"{method} is not "
                                          f"allowed here; send a {allowed}", {"Allow": allowed})
                response = getattr(self, method.lower())(request, **kwargs)
            except WebhookRejected as rejected:
                response = rejection_response(rejected)
            tracing.answered(span, response.status_code)
        metrics.webhook_answered(self.door, response.status_code)
        return harden(response)
