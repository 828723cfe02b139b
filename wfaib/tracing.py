"""OpenTelemetry traces: a span per webhook (and resume) request, per run execution and per
node attempt; the HTTP node's outbound requests carry the W3C `traceparent`.

    configure_from_env()        # start-up (runs/apps.py): on iff an OTLP endpoint is set
    enable(provider)            # tests: an SDK TracerProvider with an in-memory exporter
    with request_span(request, "webhook") as span: ...     # the public doors
    carrier = current_carrier() # stored on a new Run (Run.trace_context)

Off unless OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (the OTLP
exporter over HTTP reads the usual OTEL_* variables: headers, timeout, OTEL_SERVICE_NAME).
Off, every function here returns at once.

One trace per run, across processes: a run stores the trace context it was created in (the
webhook request's span) or, when there was none (a schedule), the context of its first
execution's span. Every execution of the run, on whichever worker, starts its `wfaib.run` span
under that stored context, so a run that waited and was resumed elsewhere stays in one trace.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from runs.engine.observe import Observer
from runs.models import Run

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

PROPAGATOR = TraceContextTextMapPropagator()
_tracer: trace.Tracer | None = None
_provider: TracerProvider | None = None


def enable(provider: TracerProvider) -> None:
    global _tracer, _provider
    _provider = provider
    _tracer = provider.get_tracer("wfaib")


def disable() -> None:
    global _tracer, _provider
    _tracer, _provider = None, None


def enabled() -> bool:
    return _tracer is not None


def configure_from_env() -> bool:
    """Trace to the OTLP endpoint in the environment, if there is one."""
    if _tracer is not None:
        return True
    if not (os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
            or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")):
        return False
    # The SDK and the exporter (protobuf) only in processes that trace: ~15 MB each otherwise.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = os.environ.get("OTEL_SERVICE_NAME") or "wfaib"
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    enable(provider)
    return True


def current_carrier() -> dict[str, str] | None:
    """The current trace context as W3C headers ({"traceparent": ...}), or None."""
    if _tracer is None:
        return None
    carrier: dict[str, str] = {}
    PROPAGATOR.inject(carrier)
    return carrier or None


@contextlib.contextmanager
def request_span(request: HttpRequest, door: str) -> Iterator[Any]:
    """A server span for one request to a public door, continuing the caller's trace when it
    sent a `traceparent`. The caller sets `http.response.status_code` on what it yields."""
    if _tracer is None:
        yield None
        return
    parent = PROPAGATOR.extract({k.lower(): v for k, v in request.headers.items()})
    route = getattr(getattr(request, "resolver_match", None), "route", None) or door
    with _tracer.start_as_current_span(
            f"{request.method} {route}", context=parent, kind=SpanKind.SERVER,
            attributes={"http.request.method": request.method or "",
                        "url.path": request.path, "wfaib.door": door}) as span:
        yield span


def answered(span: Any, status: int) -> None:
    if span is None:
        return
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR))


def _run_attributes(run: Run) -> dict[str, Any]:
    return {"wfaib.run.id": run.pk or 0, "wfaib.workflow.id": run.workflow_id or 0,
            "wfaib.run.trigger": run.trigger or "", "wfaib.run.execution": run.executions}


class TracingObserver(Observer):
    """Spans for the engine's executions and node attempts (installed by runs/apps.py)."""

    @contextlib.contextmanager
    def execution(self, run: Run) -> Iterator[None]:
        if _tracer is None:
            yield
            return
        parent = PROPAGATOR.extract(run.trace_context) if run.trace_context else None
        with _tracer.start_as_current_span("wfaib.run", context=parent,
                                           attributes=_run_attributes(run)) as span:
            if not run.trace_context:
                self._store(run)
            # node attempts in other threads (parallel loop items) find their parent here
            run._trace_parent = otel_context.get_current()  # type: ignore[attr-defined]
            yield
            span.set_attribute("wfaib.run.status", str(run.status))

    @staticmethod
    def _store(run: Run) -> None:
        carrier = current_carrier()
        run.trace_context = carrier
        if run.pk is not None and carrier:  # a deferred run is stored with it at its end
            Run.objects.filter(pk=run.pk, trace_context__isnull=True).update(
                trace_context=carrier)

    def node(self, run: Run, node_id: str,  # type: ignore[override]
             node_type: str) -> contextlib.AbstractContextManager[Any]:
        if _tracer is None:  # every node attempt asks: no generator when tracing is off
            return contextlib.nullcontext()
        return self._node_span(run, node_id, node_type)

    @contextlib.contextmanager
    def _node_span(self, run: Run, node_id: str, node_type: str) -> Iterator[None]:
        assert _tracer is not None
        parent = None
        if not trace.get_current_span().get_span_context().is_valid:
            parent = getattr(run, "_trace_parent", None)
        attributes = {**_run_attributes(run), "wfaib.node.id": node_id,
                      "wfaib.node.type": node_type}
        with _tracer.start_as_current_span(f"wfaib.node {node_type}", context=parent,
                                           attributes=attributes):
            yield

    def outbound_headers(self, headers: MutableMapping[str, str]) -> None:
        if _tracer is not None:
            PROPAGATOR.inject(headers)
