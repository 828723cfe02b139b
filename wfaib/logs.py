"""Structured logs: every record carries the request, run and node it belongs to.

    WFAIB_LOG_FORMAT=json       one JSON object a line (the default unless DEBUG=1)
    WFAIB_LOG_FORMAT=console    readable lines for development (the default when DEBUG=1)

    {"time": "...", "level": "ERROR", "logger": "wfaib.engine", "message": "...",
     "request_id": "3f2a...", "run_id": 12, "workflow_id": 3, "node_id": "http1",
     "node_type": "http", "trace_id": "4bf9..."}

The ids come from context variables: `RequestIdMiddleware` sets the request id (the caller's
`X-Request-ID` when it is a plain token, else a new one, echoed in the answer), and
`LogContextObserver` (an engine observer, runs/engine/observe.py) the run and node ids while a
run executes; a node's own thread sees them too. Messages are masked (wfaib.masking) by the
handler's filter before they are formatted.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import random
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from runs.engine.observe import Observer

if TYPE_CHECKING:  # this module is loaded with the logging configuration, before the models
    from runs.models import Run

FIELDS = ("request_id", "run_id", "workflow_id", "node_id", "node_type", "trace_id")

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("wfaib_request_id",
                                                                         default=None)
_run: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("wfaib_log_run",
                                                                             default=None)
_node: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("wfaib_log_node",
                                                                              default=None)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def context() -> dict[str, Any]:
    """The ids of what is happening now (those that are known)."""
    found: dict[str, Any] = {}
    if (request_id := _request_id.get()) is not None:
        found["request_id"] = request_id
    found.update(_run.get() or {})
    found.update(_node.get() or {})
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        found["trace_id"] = format(span.trace_id, "032x")
    return found


class ContextFilter(logging.Filter):
    """Puts the context's ids on each record (attributes named as in FIELDS)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in context().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(_JsonFormatter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        super().__init__("%(levelname)s %(name)s %(message)s", *args, **kwargs)


class ConsoleFormatter(logging.Formatter):
    """`12:00:01 ERROR wfaib.engine [run=12 node=http1] message`"""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(ids)s %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        ids = [f"{key.removesuffix('_id')}={getattr(record, key)}"
               for key in ("request_id", "run_id", "node_id") if hasattr(record, key)]
        record.ids = f" [{' '.join(ids)}]" if ids else ""
        return super().format(record)


class LogContextObserver(Observer):
    """The run's and node's ids in the log context while they execute."""

    @contextlib.contextmanager
    def execution(self, run: Run) -> Iterator[None]:
        token = _run.set({"run_id": run.pk, "workflow_id": run.workflow_id})
        try:
            yield
        finally:
            _run.reset(token)

    def node(self, run: Run, node_id: str,  # type: ignore[override]
             node_type: str) -> _NodeContext:
        return _NodeContext(run, node_id, node_type)


class _NodeContext:
    """The node's ids in the log context for one attempt (a plain class: it runs per node)."""

    __slots__ = ("ids", "run", "token")

    def __init__(self, run: Run, node_id: str, node_type: str):
        self.run, self.ids = run, {"node_id": node_id, "node_type": node_type}
        self.token: contextvars.Token[Any] | None = None

    def __enter__(self) -> None:
        if _run.get() is None:  # a node thread of its own (parallel loop items)
            _run.set({"run_id": self.run.pk, "workflow_id": self.run.workflow_id})
        self.token = _node.set(self.ids)

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if self.token is not None:
            _node.reset(self.token)


class RequestIdMiddleware:
    """A request id for each request's log lines, echoed as `X-Request-ID`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        sent = request.headers.get("X-Request-ID", "")
        # A log correlation id, not a secret: 128 bits from the process's PRNG (Python reseeds
        # it in a forked child), without uuid4's read from the OS on every request.
        request_id = sent if _REQUEST_ID.match(sent) else f"{random.getrandbits(128):032x}"
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response
