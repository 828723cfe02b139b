"""`POST /api/webhook/{workflowId}`: the public gateway that starts a run.

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
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from django.db import DatabaseError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from nodes.types.respond import safe_headers
from wfaib.client_address import client_address
from wfaib.conf import wfaib_settings
from wfaib.exceptions import ErrorSerializer, error_body
from wfaib.masking import mask_text
from wfaib.webhook_origin import run_url
from workflows.models import Workflow

from ..models import Run
from ..services import run_start, run_start_synchronously
from . import ratelimit
from .body import BodyRefused, is_json_type, parse_json, read_body
from .signatures import TOKEN_HEADER, AuthFailure, check_signature, check_token, valid_secrets

logger = logging.getLogger("wfaib.webhooks")

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


def harden(response: HttpResponse) -> HttpResponse:
    """What every webhook and resume answer carries, whatever a `respond` node set: no script
    runs, no plugin loads, and the page gets an origin of its own (CSP `sandbox`), and the
    browser does not guess another content type (`nosniff`)."""
    response["Content-Security-Policy"] = "sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Frame-Options"] = "DENY"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _respond_node_answer(run_id: int, response: Any) -> HttpResponse:
    """The HTTP answer a `respond` node stored: {"status", "headers", "body"}, with only the
    headers a node may set (nodes.types.respond.safe_headers)."""
    response = response if isinstance(response, dict) else {"body": response}
    status = response.get("status", 200)
    status = status if isinstance(status, int) and 200 <= status <= 599 else 200
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
    for key, value in safe_headers(response.get("headers")).items():
        answer[key] = value
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
            return harden(_error(405, "method_not_allowed", f"{request.method} is not allowed "
                                 "here; send a POST", Allow="POST"))
        return harden(self.post(request, **kwargs))

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
        conf = wfaib_settings
        window = conf.WEBHOOK_RATE_WINDOW
        allowed, retry_after = ratelimit.hit(
            f"ip:{client_address(request) or 'unknown'}",
            limit=conf.WEBHOOK_RATE_PER_CLIENT, window=window)
        if not allowed:
            return _error(429, "rate_limited", "too many webhook requests from this address; "
                          f"retry in {retry_after}s", Retry_After=str(retry_after))
        # Read before the workflow is looked up, so a body too large (or chunked where it
        # cannot be read) answers the same for every id, existing or not.
        try:
            body = read_body(request, conf.WEBHOOK_MAX_BODY)
        except BodyRefused as refused:
            return _error(refused.status, refused.code, refused.message)

        workflow = Workflow.objects.filter(pk=workflow_id).only(*_WORKFLOW_FIELDS).first()
        refusal = self._refusal(request, workflow_id, workflow, body)
        if isinstance(refusal, HttpResponse):
            return refusal
        assert workflow is not None
        key = refusal
        allowed, retry_after = ratelimit.hit(
            f"wf:{workflow.pk}", limit=conf.WEBHOOK_RATE_PER_WORKFLOW, window=window)
        if not allowed:
            return _error(429, "rate_limited", "too many webhook requests for this workflow; "
                          f"retry in {retry_after}s", Retry_After=str(retry_after))

        # Only JSON, even with an empty body: a browser's cross-site form POST (urlencoded,
        # multipart or text/plain) never starts a run.
        if request.content_type and not is_json_type(request):
            return _error(415, "unsupported_media_type",
                          f"send the body as application/json (got {request.content_type!r})")
        try:
            payload = parse_json(body, request) if body else {}
        except BodyRefused as refused:
            return _error(refused.status, refused.code, refused.message)

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
                url = run_url(request, run.pk)
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
        url = run_url(request, run.pk)
        return _json({"run": run.pk, "status": run_status, "url": url}, 202,
                     Location=url, **replayed)

    @staticmethod
    def _refusal(request: HttpRequest, workflow_id: int, workflow: Workflow | None,
                 body: bytes) -> HttpResponse | str:
        """The idempotency key a signature carried ("" without one), or the refusal. An
        unknown id, an inactive workflow and a request that fails the workflow's token or
        signature check answer alike, so ids cannot be probed for what exists or how it is
        protected; the precise reason is logged for the operator."""
        reason, key = "", ""
        if workflow is None:
            reason = "no such workflow"
        elif not workflow.is_active:
            reason = "the workflow is inactive"
        elif workflow.webhook_auth != Workflow.WebhookAuth.NONE:
            secrets = valid_secrets(
                workflow.webhook_secret, workflow.webhook_previous_secret,
                workflow.webhook_secret_rotated_at,
                wfaib_settings.WEBHOOK_SECRET_GRACE, timezone.now())
            try:
                if not secrets:
                    raise AuthFailure("no_secret", "the workflow has no webhook secret yet")
                if workflow.webhook_auth == Workflow.WebhookAuth.HMAC:
                    key = check_signature(request.headers, body, secrets)
                else:
                    check_token(request.headers, secrets)
            except AuthFailure as failure:
                reason = f"{failure.code}: {failure.message}"
        if not reason:
            return key
        logger.info("webhook for workflow %s refused (404): %s", workflow_id, reason)
        return _error(404, "workflow_not_found",
                      f"no active workflow {workflow_id} takes this webhook (an unknown or "
                      "inactive workflow, or a missing or wrong token or signature)")

    @staticmethod
    def _finished(request: HttpRequest, run: Run, headers: dict[str, str]) -> HttpResponse:
        if run.response is not None:
            return _respond_node_answer(run.pk, run.response)
        if run.status == Run.Status.SUCCEEDED:
            return _json({"run": run.pk, "status": run.status, "result": run.result}, 200,
                         X_Run_Id=str(run.pk), **headers)
        url = run_url(request, run.pk)
        failed = run.status == Run.Status.FAILED
        error = mask_text(run.error)
        body = error_body("run_failed" if failed else "run_cancelled",
                          error or f"the run {run.status}", run=run.pk, status=run.status,
                          error=error, error_node_id=run.error_node_id, url=url)
        return _json(body, 500 if failed else 409, X_Run_Id=str(run.pk), **headers)
