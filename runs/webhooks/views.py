"""`POST /api/webhook/{workflowId}`: the public gateway that starts a run.

The hot path, so it is a plain Django view (DRF's request wrapping, content negotiation and
authentication are skipped; the class is an APIView only so drf-spectacular documents it).
Checks, cheapest first, each answering the API's JSON error shape:

    429 rate_limited          per client address, then per workflow (Retry-After header)
    404 workflow_not_found    unknown or inactive workflow
    413 body_too_large        WFAIB_WEBHOOK_MAX_BODY
    401 missing_token / invalid_token / missing_signature / invalid_signature /
        invalid_timestamp / timestamp_out_of_window        per the workflow's webhook_auth
    415 unsupported_media_type  a body that is not JSON (application/json or */*+json)
    400 invalid_json / invalid_parameter
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
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from wfaib.client_address import client_address
from wfaib.conf import wfaib_settings
from wfaib.exceptions import ErrorSerializer, error_body
from workflows.models import Workflow

from ..models import Run
from ..services import run_start, run_start_synchronously
from . import ratelimit
from .signatures import TOKEN_HEADER, AuthFailure, check_signature, check_token, valid_secrets

logger = logging.getLogger("wfaib.webhooks")

# Not passed on from a `respond` node: the server sets these itself.
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
               "content-length", "proxy-authenticate", "proxy-authorization"}
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}
_WORKFLOW_FIELDS = ("id", "name", "created_at", "is_active", "version", "max_concurrency",
                    "webhook_auth", "webhook_mode", "webhook_secret", "webhook_previous_secret",
                    "webhook_secret_rotated_at")


def _json(data: Any, status: int, **headers: str) -> HttpResponse:
    response = HttpResponse(orjson.dumps(data), status=status, content_type="application/json")
    for key, value in headers.items():
        response[key.replace("_", "-")] = value
    return response


def _error(status: int, code: str, message: str, **headers: str) -> HttpResponse:
    return _json(error_body(code, message), status, **headers)


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json"))


def _respond_node_answer(run_id: int, response: Any) -> HttpResponse:
    """The HTTP answer a `respond` node stored: {"status", "headers", "body"}."""
    response = response if isinstance(response, dict) else {"body": response}
    status = response.get("status", 200)
    status = status if isinstance(status, int) and 200 <= status <= 599 else 200
    headers = response.get("headers") if isinstance(response.get("headers"), dict) else {}
    body = response.get("body")
    if isinstance(body, str):
        content, content_type = body.encode(), "text/plain; charset=utf-8"
    elif body is None:
        content, content_type = b"", None
    else:
        content, content_type = orjson.dumps(body), "application/json"
    answer = HttpResponse(content, status=status)
    if content_type:
        answer["Content-Type"] = content_type
    for key, value in headers.items():
        if (isinstance(key, str) and key.lower() not in _HOP_BY_HOP
                and isinstance(value, (str, int, float))
                and "\n" not in str(value) and "\r" not in str(value)):
            answer[key] = str(value)
    answer["X-Run-Id"] = str(run_id)
    return answer


def wait_for_answer(run_id: int, timeout: float) -> Run | None:
    """Wait up to `timeout` seconds until the run has an answer for its caller (a response a
    `respond` node set, while the run may go on; or its end) or waits (delay, wait for a
    webhook). Returns the run's row as it is then, or None if it could not be read.

    The run is already committed, so a failing read (a locked table, a dropped connection)
    must not turn the accepted request into an error: it is retried, and at worst the caller
    gets 202 with the run's URL."""
    settled = Q(response__isnull=False) | Q(status__in=(*Run.FINISHED, Run.Status.WAITING))
    rows = Run.objects.filter(pk=run_id).only("id", "status", "result", "error",
                                               "error_node_id", "response")
    deadline = time.monotonic() + timeout
    interval = 0.002  # grows to 0.1 s: quick runs answer fast, long ones poll gently
    while True:
        remaining = deadline - time.monotonic()
        try:
            run = rows.filter(settled).first() if remaining > 0 else rows.first()
        except DatabaseError:
            logger.warning("run %s: could not read it while waiting", run_id, exc_info=True)
            run = None
        if run is not None or remaining <= 0:
            return run
        time.sleep(min(interval, remaining))
        interval = min(interval * 2, 0.1)


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


class WebhookView(APIView):
    """The public door: starts a run of the workflow with the JSON body as its payload."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Plain Django on the hot path: no DRF Request, negotiation or renderers.
        if request.method != "POST":
            return _error(405, "method_not_allowed", f"{request.method} is not allowed here; "
                          "send a POST", Allow="POST")
        return self.post(request, **kwargs)

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
            400: _error_doc("invalid_json, invalid_parameter"),
            401: _error_doc("missing_token, invalid_token, missing_signature, "
                            "invalid_signature, invalid_timestamp, timestamp_out_of_window"),
            404: _error_doc("workflow_not_found: unknown or inactive workflow"),
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
        conf = wfaib_settings
        window = conf.WEBHOOK_RATE_WINDOW
        allowed, retry_after = ratelimit.hit(
            f"ip:{client_address(request) or 'unknown'}",
            limit=conf.WEBHOOK_RATE_PER_CLIENT, window=window)
        if not allowed:
            return _error(429, "rate_limited", "too many webhook requests from this address; "
                          f"retry in {retry_after}s", Retry_After=str(retry_after))

        workflow = Workflow.objects.filter(pk=workflow_id).only(*_WORKFLOW_FIELDS).first()
        if workflow is None or not workflow.is_active:
            return _error(404, "workflow_not_found",
                          f"no active workflow {workflow_id} takes webhooks")
        allowed, retry_after = ratelimit.hit(
            f"wf:{workflow.pk}", limit=conf.WEBHOOK_RATE_PER_WORKFLOW, window=window)
        if not allowed:
            return _error(429, "rate_limited", "too many webhook requests for this workflow; "
                          f"retry in {retry_after}s", Retry_After=str(retry_after))

        body = self._read_body(request, conf.WEBHOOK_MAX_BODY)
        if isinstance(body, HttpResponse):
            return body
        key = ""
        if workflow.webhook_auth != Workflow.WebhookAuth.NONE:
            secrets = valid_secrets(
                workflow.webhook_secret, workflow.webhook_previous_secret,
                workflow.webhook_secret_rotated_at, conf.WEBHOOK_SECRET_GRACE,
                timezone.now())
            try:
                if not secrets:
                    raise AuthFailure("no_secret", "this workflow has no webhook secret yet; "
                                      "its owner can create one with rotate-secret")
                if workflow.webhook_auth == Workflow.WebhookAuth.HMAC:
                    key = check_signature(request.headers, body, secrets)
                else:
                    check_token(request.headers, secrets)
            except AuthFailure as failure:
                return _error(401, failure.code, failure.message)

        if body:
            if not _is_json(request.content_type or ""):
                return _error(415, "unsupported_media_type",
                              f"send the body as application/json (got "
                              f"{request.content_type or 'no content type'!r})")
            try:
                payload = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                return _error(400, "invalid_json", f"the body is not valid JSON: {exc}")
        else:
            payload = {}  # an empty body: an empty object, so `input.x` reads as missing

        key = key or request.headers.get("webhook-id", "") or \
            request.headers.get("Idempotency-Key", "")
        if len(key) > 200:
            return _error(400, "invalid_parameter",
                          "webhook-id / Idempotency-Key: at most 200 characters")
        wait = request.GET.get("wait", "").lower()
        if wait and wait not in _TRUE | _FALSE:
            return _error(400, "invalid_parameter", "wait: expected true or false")

        sync = wait in _TRUE or (not wait and workflow.webhook_mode == Workflow.WebhookMode.SYNC)
        timeout = conf.WEBHOOK_SYNC_TIMEOUT
        if sync and not key:  # a direct path when the executor has one (runs.dispatch)
            outcome = run_start_synchronously(workflow=workflow, input=payload,
                                              trigger=Run.Trigger.WEBHOOK, timeout=timeout)
            if outcome is not None:
                run, status = outcome
                if status in Run.FINISHED:
                    return self._finished(request, run, {})
                url = request.build_absolute_uri(reverse("run-detail", kwargs={"pk": run.pk}))
                return _json({"run": run.pk, "status": status, "url": url}, 202, Location=url)

        # Committed when run_start returns (autocommit), so no 2xx can lose the run.
        run = run_start(workflow=workflow, input=payload, trigger=Run.Trigger.WEBHOOK,
                        idempotency_key=key)
        replayed = {"Idempotent_Replayed": "true"} if not getattr(run, "created", True) else {}
        run_status = run.status
        if sync:
            current = wait_for_answer(run.pk, conf.WEBHOOK_SYNC_TIMEOUT)
            if current is not None:
                if current.response is not None or current.status in Run.FINISHED:
                    return self._finished(request, current, replayed)
                run_status = current.status
        url = request.build_absolute_uri(reverse("run-detail", kwargs={"pk": run.pk}))
        return _json({"run": run.pk, "status": run_status, "url": url}, 202,
                     Location=url, **replayed)

    @staticmethod
    def _read_body(request: HttpRequest, max_body: int) -> bytes | HttpResponse:
        too_large = _error(413, "body_too_large",
                           f"the body is larger than the limit of {max_body} bytes")
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _error(400, "invalid_parameter", "Content-Length is not a number")
        if length > max_body:
            return too_large
        try:
            body = request.body
        except RequestDataTooBig:
            return too_large
        return too_large if len(body) > max_body else body

    @staticmethod
    def _finished(request: HttpRequest, run: Run, headers: dict[str, str]) -> HttpResponse:
        if run.response is not None:
            return _respond_node_answer(run.pk, run.response)
        if run.status == Run.Status.SUCCEEDED:
            return _json({"run": run.pk, "status": run.status, "result": run.result}, 200,
                         X_Run_Id=str(run.pk), **headers)
        url = request.build_absolute_uri(reverse("run-detail", kwargs={"pk": run.pk}))
        failed = run.status == Run.Status.FAILED
        body = error_body("run_failed" if failed else "run_cancelled",
                          run.error or f"the run {run.status}", run=run.pk, status=run.status,
                          error=run.error, error_node_id=run.error_node_id, url=url)
        return _json(body, 500 if failed else 409, X_Run_Id=str(run.pk), **headers)
