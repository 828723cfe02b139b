"""The webhook gateway as steps, cheapest first; each refuses by raising `WebhookRejected`
(caught once, in runs.webhooks.http.PublicPostView):

    limit_client     429 rate_limited          per client address (Retry-After)
    read_request_body  413 / 411 / 400          before the lookup, so it answers alike for
                                                every id, existing or not (a multipart body
                                                within WFAIB_WEBHOOK_MAX_UPLOAD)
    find             404 workflow_not_found     unknown or inactive workflow (by id or custom
                                                path)
    authenticate     404 workflow_not_found     a missing or wrong token or signature: the
                                                same answer, so ids cannot be probed
    limit_workflow   429 rate_limited          per workflow
    allow_method     405 method_not_allowed     not one of the webhook node's `methods`
    parse            415 / 413 / 400            the kinds the webhook node `accept`s
                                                (runs/webhooks/payload.py, body.py, kinds.py)
    deduplicate      400 invalid_parameter      the webhook-id / Idempotency-Key
    wants_sync       400 invalid_parameter      ?wait=true|false
    start_and_answer                            the run (with its uploaded files), committed
                                                before any 2xx, answered (answers.py)

    response = receive(request, workflow_id)            # or a custom path's slug
    response = receive(request, ref, test=True)         # /hook/test/<ref>: capture only
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from wfaib.client_address import client_address
from wfaib.conf import wfaib_settings
from workflows.models import Workflow

from ..models import Run
from ..services import (
    NewFile,
    RunStart,
    run_start_idempotent,
    run_start_synchronously,
    run_start_with_files,
)
from . import listening, ratelimit
from .answers import answer_accepted, answer_finished, wait_for_answer
from .http import json_response, read_request_body
from .kinds import body_kind
from .lookup import lookup
from .options import DEFAULT, WebhookOptions, webhook_options
from .payload import Parsed, build_input, headers_of, parse_request, query_of, unstored_refs
from .rejected import WebhookRejected
from .signatures import AuthFailure, check_signature, check_token, valid_secrets

logger = logging.getLogger("wfaib.webhooks")

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}
MAX_KEY = 200


def _limit(key: str, limit: int, what: str) -> None:
    allowed, retry_after = ratelimit.hit(key, limit=limit,
                                         window=wfaib_settings.WEBHOOK_RATE_WINDOW)
    if not allowed:
        raise WebhookRejected(429, "rate_limited", f"too many webhook requests {what}; "
                              f"retry in {retry_after}s", {"Retry-After": str(retry_after)})


def limit_client(request: HttpRequest) -> None:
    _limit(f"ip:{client_address(request) or 'unknown'}",
           wfaib_settings.WEBHOOK_RATE_PER_CLIENT, "from this address")


def limit_workflow(workflow: Workflow) -> None:
    _limit(f"wf:{workflow.pk}", wfaib_settings.WEBHOOK_RATE_PER_WORKFLOW, "for this workflow")


def not_found(workflow_id: int | str, reason: str) -> WebhookRejected:
    """The one answer for an unknown or inactive workflow and a failed token or signature
    check, so ids cannot be probed for what exists or how it is protected; the precise
    reason is logged for the operator."""
    logger.info("webhook for workflow %s refused (404): %s", workflow_id, reason)
    return WebhookRejected(404, "workflow_not_found",
                           f"no active workflow {workflow_id} takes this webhook (an unknown "
                           "or inactive workflow, or a missing or wrong token or signature)")


def find(workflow_id: int | str, *, inactive_too: bool = False) -> Workflow:
    """By id, or (a str) by custom path (`/hook/<path>`; digits there are an id); cached for
    WFAIB_WEBHOOK_LOOKUP_CACHE seconds, dropped on save and delete (runs/webhooks/lookup.py)."""
    workflow = lookup(workflow_id)
    if workflow is None:
        raise not_found(workflow_id, "no such workflow")
    if not workflow.is_active and not inactive_too:
        raise not_found(workflow_id, "the workflow is inactive")
    return workflow


def authenticate(request: HttpRequest, workflow: Workflow, body: bytes) -> str:
    """Check the workflow's token or signature; the signature's message id ("" without one),
    which is also the idempotency key."""
    if workflow.webhook_auth == Workflow.WebhookAuth.NONE:
        return ""
    secrets = valid_secrets(
        workflow.webhook_secret, workflow.webhook_previous_secret,
        workflow.webhook_secret_rotated_at, wfaib_settings.WEBHOOK_SECRET_GRACE, timezone.now())
    try:
        if not secrets:
            raise AuthFailure("no_secret", "the workflow has no webhook secret yet")
        if workflow.webhook_auth == Workflow.WebhookAuth.HMAC:
            return check_signature(request.headers, body, secrets)
        check_token(request.headers, secrets)
    except AuthFailure as failure:
        raise not_found(workflow.pk, f"{failure.code}: {failure.message}") from None
    return ""


def allow_method(request: HttpRequest, options: WebhookOptions) -> None:
    if request.method not in options.methods:
        allowed = ", ".join(sorted(options.methods))
        raise WebhookRejected(405, "method_not_allowed", f"{request.method} is not allowed "
                              f"here; this webhook takes {allowed}", {"Allow": allowed})


def parse(request: HttpRequest, body: bytes, options: WebhookOptions = DEFAULT) -> Parsed:
    """The body by the kinds the webhook node accepts (JSON only by default, even with an
    empty body: a browser's cross-site form POST never starts a run of such a webhook)."""
    return parse_request(request, body, options)


def deduplicate(request: HttpRequest, signed_key: str) -> str:
    """The idempotency key: the signature's message id, else webhook-id, else
    Idempotency-Key ("" for none)."""
    key = signed_key or request.headers.get("webhook-id", "") or \
        request.headers.get("Idempotency-Key", "")
    if len(key) > MAX_KEY:
        raise WebhookRejected(400, "invalid_parameter",
                              f"webhook-id / Idempotency-Key: at most {MAX_KEY} characters")
    return key


def wants_sync(request: HttpRequest, workflow: Workflow) -> bool:
    """?wait=true|false, else the workflow's webhook_mode."""
    wait = request.GET.get("wait", "").lower()
    if wait and wait not in _TRUE | _FALSE:
        raise WebhookRejected(400, "invalid_parameter", "wait: expected true or false")
    return wait in _TRUE or (not wait and workflow.webhook_mode == Workflow.WebhookMode.SYNC)


def capture_test_event(request: HttpRequest, workflow: Workflow, options: WebhookOptions,
                       parsed: Parsed) -> HttpResponse:
    """A call to the test URL: kept for the editor that listens (no run starts)."""
    event = {"method": request.method, "query": query_of(request),
             "headers": headers_of(request),
             "input": build_input(request, options, parsed, unstored_refs(parsed.uploads))}
    if not listening.capture(workflow.pk, event):
        raise WebhookRejected(404, "not_listening", "nobody listens for a test event of this "
                              "workflow; press listen in the editor first (POST "
                              f"/api/workflows/{workflow.pk}/listen)")
    return json_response({"captured": True, "workflow": workflow.pk}, 200)


def _start(request: HttpRequest, workflow: Workflow, options: WebhookOptions, parsed: Parsed,
           key: str) -> RunStart:
    """The run (with its uploaded files) on the queued path."""
    if parsed.uploads:
        files = [NewFile(u.field, u.name, u.content_type, u.data) for u in parsed.uploads]
        return run_start_with_files(
            workflow=workflow, files=files, trigger=Run.Trigger.WEBHOOK, key=key,
            build_input=lambda refs: build_input(request, options, parsed, refs))
    return run_start_idempotent(workflow=workflow, trigger=Run.Trigger.WEBHOOK, key=key,
                                input=build_input(request, options, parsed, {}))


def start_and_answer(request: HttpRequest, workflow: Workflow, options: WebhookOptions,
                     parsed: Parsed, key: str, sync: bool) -> HttpResponse:
    timeout = wfaib_settings.WEBHOOK_SYNC_TIMEOUT
    if sync and not key and not parsed.uploads:  # a direct path when the executor has one
        payload = build_input(request, options, parsed, {})
        outcome = run_start_synchronously(workflow=workflow, input=payload,
                                          trigger=Run.Trigger.WEBHOOK, timeout=timeout)
        if outcome is not None:
            run, status = outcome
            if run.response is not None or status in Run.FINISHED:
                return answer_finished(request, run, {})
            return answer_accepted(request, run.pk, status)
    # Committed when it returns (autocommit), so no 2xx can lose the run.
    started = _start(request, workflow, options, parsed, key)
    run = started.run
    replayed = {} if started.created else {"Idempotent-Replayed": "true"}
    status = run.status
    if sync:
        current = wait_for_answer(run.pk, timeout)
        if current is not None:
            if current.response is not None or current.status in Run.FINISHED:
                return answer_finished(request, current, replayed)
            status = current.status
    return answer_accepted(request, run.pk, status, replayed)


def receive(request: HttpRequest, workflow_id: int | str, *, test: bool = False) -> HttpResponse:
    """One webhook request through every step; raises WebhookRejected. `test`: the test URL
    (the event is captured for a listening editor, no run starts)."""
    limit_client(request)
    body = read_request_body(request, uploads=body_kind(request) == "multipart")
    workflow = find(workflow_id, inactive_too=test)
    signed_key = authenticate(request, workflow, body)
    limit_workflow(workflow)
    options = webhook_options(workflow)
    allow_method(request, options)
    parsed = parse(request, body, options)
    if test:
        return capture_test_event(request, workflow, options, parsed)
    key = deduplicate(request, signed_key)
    sync = wants_sync(request, workflow)
    return start_and_answer(request, workflow, options, parsed, key, sync)
