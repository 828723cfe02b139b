"""Answers under stress: load shedding for webhooks, 503 while the database is down, and JSON
(never an HTML page) for every API failure.

    MIDDLEWARE = [..., "wfaib.resilience.ResilienceMiddleware", ...]   # early, before sessions
    handler500 = "wfaib.resilience.server_error"                       # wfaib/urls.py

- **Load shedding** (webhook paths): at most WFAIB_WEBHOOK_MAX_INFLIGHT requests of this
  process are being served at once; up to WFAIB_WEBHOOK_MAX_WAITING more wait (at most
  WFAIB_WEBHOOK_QUEUE_WAIT seconds) for a free place. Anything beyond is answered at once,
  before any work was accepted: `503 {"code": "overloaded"}` with `Retry-After`. A caller that
  got a 503 knows no run was started and can send again.
- **Database down** (`/api/...`): an OperationalError or InterfaceError from the database answers
  `503 {"code": "database_unavailable"}` with `Retry-After`, not a 500.
- **Last resort**: any other unhandled error under `/api/` answers `500 {"code":
  "server_error"}` as JSON (handler500); other pages keep Django's page.
"""

from __future__ import annotations

import logging
import math
import sys
import threading
import time
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import server_error as server_error_page

from wfaib.conf import wfaib_settings

logger = logging.getLogger("wfaib.resilience")

API_PREFIX = "/api/"
WEBHOOK_PREFIX = ("/api/webhook/", "/hook/")  # the public webhook doors
DB_RETRY_AFTER = 5  # seconds a client should wait while the database is unavailable


def _error(status: int, code: str, message: str, retry_after: int | None = None) -> JsonResponse:
    response = JsonResponse({"code": code, "message": message}, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def database_unavailable() -> JsonResponse:
    return _error(503, "database_unavailable", "the database is unavailable; try again shortly",
                  DB_RETRY_AFTER)


class Gate:
    """A bounded number of holders, and a bounded queue of callers waiting (for a bounded
    time) to become one. `enter()` is False when the caller is turned away."""

    def __init__(self, limit: int, waiting: int, wait: float) -> None:
        self.limit, self.max_waiting, self.wait = max(1, limit), max(0, waiting), wait
        self.active = 0
        self.waiting = 0
        self._cond = threading.Condition()

    def enter(self) -> bool:
        with self._cond:
            if self.active < self.limit:
                self.active += 1
                return True
            if self.waiting >= self.max_waiting or self.wait <= 0:
                return False
            self.waiting += 1
            try:
                deadline = time.monotonic() + self.wait
                while self.active >= self.limit:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._cond.wait(remaining)
                self.active += 1
                return True
            finally:
                self.waiting -= 1

    def leave(self) -> None:
        with self._cond:
            self.active -= 1
            self._cond.notify()


_gate: Gate | None = None
_gate_lock = threading.Lock()


def webhook_gate() -> Gate:
    """This process's webhook gate, built from the settings (rebuilt when they change)."""
    global _gate
    shape = (int(wfaib_settings.WEBHOOK_MAX_INFLIGHT), int(wfaib_settings.WEBHOOK_MAX_WAITING),
             float(wfaib_settings.WEBHOOK_QUEUE_WAIT))
    with _gate_lock:
        if _gate is None or (_gate.limit, _gate.max_waiting, _gate.wait) != shape:
            _gate = Gate(*shape)
        return _gate


class ResilienceMiddleware:
    """Sheds webhook load before any work is accepted; turns database outages under /api/ into
    503 answers. Placed early so a shed request costs no session or user lookup."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(WEBHOOK_PREFIX):
            return self.get_response(request)
        gate = webhook_gate()
        if not gate.enter():
            retry = max(1, math.ceil(gate.wait))
            return _error(503, "overloaded", f"the server is busy; retry in {retry}s (no run "
                          "was started)", retry)
        try:
            return self.get_response(request)
        finally:
            gate.leave()

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path.startswith(API_PREFIX) and isinstance(
                exception, (OperationalError, InterfaceError)):
            logger.warning("database unavailable serving %s: %s", request.path,
                           str(exception).strip().splitlines()[0] if str(exception) else
                           type(exception).__name__)
            return database_unavailable()
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: JSON under /api/ (503 when the database is the cause), Django's page
    elsewhere. Called inside the `except` that caught the error, so it can look at it."""
    if not request.path.startswith(API_PREFIX):
        return server_error_page(request)
    exc = sys.exc_info()[1]
    if isinstance(exc, (OperationalError, InterfaceError)):
        return database_unavailable()
    return _error(500, "server_error", "internal server error")
