"""`POST /api/webhook/{workflowId}` (and `/hook/<custom path>`, `/hook/test/<...>`): the public
gateway that starts a run. GET, PUT, PATCH and DELETE too when the webhook node allows them,
with JSON, form, multipart (files), text or XML bodies as it accepts (nodes/types/webhook.py).

The hot path, so it is a plain Django view (DRF's request wrapping, content negotiation and
authentication are skipped; the class is an APIView only so drf-spectacular documents it).
Checks, cheapest first, each answering the API's JSON error shape:

    429 rate_limited          per client address, then per workflow (Retry-After header)
    413 body_too_large / 411 length_required   WFAIB_WEBHOOK_MAX_BODY; chunked bodies are
                              read within it (runs/webhooks/body.py)
    404 workflow_not_found    unknown or inactive workflow, or a token / signature that is
                              missing or wrong (one answer: ids cannot be probed)
    415 unsupported_media_type  not JSON (body.JSON_TYPES, UTF-8 only), even with no body
    400 invalid_json / json_too_deep / number_out_of_range / invalid_parameter
An empty body starts the run with `{}` as its input.

Then the run is created (committed before any 2xx) and answered:
    sync  (default, or ?wait=true): waits up to WFAIB_WEBHOOK_SYNC_TIMEOUT seconds;
          a `respond` node's Run.response {"status", "headers", "body"} -> exactly that, as
                soon as the node set it (the run may go on)
          succeeded -> 200 {"run", "status", "result"}
          failed -> 500 {"code": "run_failed", "message", "run", "status", "error",
                         "error_node_id", "url"}
          cancelled -> 409 {"code": "run_cancelled", ...}
    async (?wait=false, the workflow's webhook_mode, a timeout, or a run that waits):
          202 {"run", "status", "url"} with a Location header.
A repeated webhook-id or Idempotency-Key returns the first run (Idempotent-Replayed: true).
Every answer carries `Content-Security-Policy: sandbox` and `nosniff` (`harden`).

The view is the door only: the steps are in runs/webhooks/gateway.py, the answers in
runs/webhooks/answers.py, and what it shares with the resume URL in runs/webhooks/http.py.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers

from wfaib.exceptions import ErrorSerializer

from ..models import Run
from .gateway import receive
from .http import PublicPostView
from .signatures import TOKEN_HEADER


class WebhookResultSerializer(serializers.Serializer):
    run = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Run.Status.choices)
    result = serializers.JSONField(allow_null=True)


class WebhookAcceptedSerializer(serializers.Serializer):
    run = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Run.Status.choices)
    url = serializers.URLField()


def _error_doc(text: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=text)


def _header(name: str, text: str) -> OpenApiParameter:
    return OpenApiParameter(name, str, OpenApiParameter.HEADER, required=False, description=text)


class WebhookView(PublicPostView):
    """The public door: starts a run of the workflow with the JSON body as its payload."""

    @extend_schema(
        operation_id="webhook_trigger", tags=["webhook"],
        summary="Trigger a workflow (public; authenticated per workflow)",
        request={"application/json": OpenApiTypes.ANY},
        parameters=[
            OpenApiParameter("wait", bool, OpenApiParameter.QUERY, required=False,
                             description="false: answer 202 at once; true: wait for the "
                                         "result. Default: the workflow's webhook_mode."),
            _header("webhook-id", "Standard Webhooks message id (also the idempotency key)."),
            _header("webhook-timestamp", "Standard Webhooks: seconds since the epoch."),
            _header("webhook-signature", "Standard Webhooks: `v1,<base64 HMAC-SHA256>`."),
            _header(TOKEN_HEADER, "The workflow's secret (webhook_auth=token); "
                                  "`Authorization: Bearer <secret>` works too."),
            _header("Idempotency-Key", "A repeated key returns the first run."),
        ],
        responses={
            200: OpenApiResponse(WebhookResultSerializer, description=(
                "The run succeeded: its result. A workflow with a `respond` node answers with "
                "the status, headers and body that node set instead.")),
            202: OpenApiResponse(WebhookAcceptedSerializer, description=(
                "Accepted: ?wait=false, async mode, the wait timed out, or the run waits.")),
            400: _error_doc("invalid_json, json_too_deep, number_out_of_range, "
                            "invalid_parameter"),
            404: _error_doc("workflow_not_found: unknown or inactive workflow, or a missing "
                            "or wrong token or signature"),
            411: _error_doc("length_required: a chunked body this server cannot read"),
            405: _error_doc("method_not_allowed"),
            409: _error_doc("run_cancelled: the run was cancelled before it finished"),
            413: _error_doc("body_too_large"),
            415: _error_doc("unsupported_media_type: the body must be JSON"),
            429: _error_doc("rate_limited (see Retry-After)"),
            500: _error_doc("run_failed: the run failed; also `run`, `status`, `error`, "
                            "`error_node_id`, `url`"),
        },
    )
    def post(self, request: HttpRequest, workflow_id: int) -> HttpResponse:
        return receive(request, workflow_id)

    # The other methods a webhook node may allow (`methods`); 405 unless it does.
    @extend_schema(operation_id="webhook_trigger_get", tags=["webhook"],
                   summary="Trigger a workflow with GET (the query is the input), if its "
                           "webhook node allows GET", responses={200: WebhookResultSerializer})
    def get(self, request: HttpRequest, workflow_id: int) -> HttpResponse:
        return receive(request, workflow_id)

    @extend_schema(exclude=True)
    def put(self, request: HttpRequest, workflow_id: int) -> HttpResponse:
        return receive(request, workflow_id)

    @extend_schema(exclude=True)
    def patch(self, request: HttpRequest, workflow_id: int) -> HttpResponse:
        return receive(request, workflow_id)

    @extend_schema(exclude=True)
    def delete(self, request: HttpRequest, workflow_id: int) -> HttpResponse:
        return receive(request, workflow_id)

    public_methods = ("GET", "POST", "PUT", "PATCH", "DELETE")


@extend_schema(exclude=True)
class HookView(PublicPostView):
    """`/hook/<custom path or id>`: the same webhook under the workflow's custom path."""

    public_methods = WebhookView.public_methods
    test = False

    def _receive(self, request: HttpRequest, ref: str) -> HttpResponse:
        return receive(request, ref, test=self.test)

    get = post = put = patch = delete = _receive


@extend_schema(exclude=True)
class HookTestView(HookView):
    """`/hook/test/<custom path or id>`: captured for the editor that listens, no run starts
    (runs/webhooks/listening.py)."""

    test = True
