"""The webhook's answers once its run is started (the `answer` step of runs/webhooks/gateway.py).

    answer_finished(request, run, headers)   # a respond node's answer, 200, 500 or 409
    answer_accepted(request, run_id, status) # 202 {"run", "status", "url"} + Location
    wait_for_answer(run_id, timeout)         # polls the run's row for something to answer
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import orjson
from django.db import DatabaseError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse

from nodes.types.respond import safe_headers
from wfaib.exceptions import error_body
from wfaib.masking import mask_text
from wfaib.webhook_origin import run_url

from ..models import Run
from .http import json_response

logger = logging.getLogger("wfaib.webhooks")


def respond_node_answer(run_id: int, response: Any) -> HttpResponse:
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


def answer_finished(request: HttpRequest, run: Run,
                    headers: Mapping[str, str]) -> HttpResponse:
    """A run with an answer: the respond node's, else its result (200), its error (500), or
    its cancellation (409)."""
    if run.response is not None:
        return respond_node_answer(run.pk, run.response)
    headers = {"X-Run-Id": str(run.pk), **headers}
    if run.status == Run.Status.SUCCEEDED:
        return json_response({"run": run.pk, "status": run.status, "result": run.result}, 200,
                             headers)
    failed = run.status == Run.Status.FAILED
    error = mask_text(run.error)
    body = error_body("run_failed" if failed else "run_cancelled",
                      error or f"the run {run.status}", run=run.pk, status=run.status,
                      error=error, error_node_id=run.error_node_id, url=run_url(request, run.pk))
    return json_response(body, 500 if failed else 409, headers)


def answer_accepted(request: HttpRequest, run_id: int, status: str,
                    headers: Mapping[str, str] | None = None) -> HttpResponse:
    url = run_url(request, run_id)
    return json_response({"run": run_id, "status": status, "url": url}, 202,
                         {"Location": url, **(headers or {})})


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
