"""Prometheus metrics: what the engine, the webhook door and the scheduler count, and
`GET /metrics` that shows them (prometheus_client's text format).

    record_llm_usage(provider="openai", model="gpt-4o-mini", input_tokens=12,
                     output_tokens=30, cost_usd=0.0001)       # one model call (the observer's)
    webhook_answered(status)  rate_limited(scope)  schedule_fired(due_at, now)

Several processes: with PROMETHEUS_MULTIPROC_DIR set (before the process starts; an empty
directory shared by every granian worker and Celery worker of one machine, emptied at each
deployment) each process writes its values there and `/metrics` adds them up
(prometheus_client's multiprocess mode). Without it, the serving process's own values.

Runs queued, running and waiting are read from the database at each scrape, so they are right
whichever process moved them.

`/metrics` is closed (404) unless WFAIB_METRICS_TOKEN (sent as `Authorization: Bearer ...`) or
WFAIB_METRICS_ALLOW (client addresses or CIDRs) is set, and then answers 403 to anyone else.
Workers and the scheduler on machines of their own serve their values on WFAIB_METRICS_PORT.
The engine reports through one observer (runs/engine/observe.py): `MetricsObserver`, which
also counts the model calls the cost ledger records (tokens by kind, estimated cost), so no
node counts its own.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import ipaddress
import os
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from runs.engine.observe import Observer
from runs.models import Run
from wfaib.client_address import client_address
from wfaib.conf import wfaib_settings

if TYPE_CHECKING:
    from nodes.context import ModelUsage

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
                    600, 1800, 3600, 4 * 3600, 24 * 3600)

RUNS_STARTED = Counter("wfaib_runs_started", "Runs that began their first execution",
                       ["workflow_id", "trigger"])
RUNS_FINISHED = Counter("wfaib_runs_finished", "Runs that ended, by final status",
                        ["workflow_id", "status"])
RUN_DURATION = Histogram("wfaib_run_duration_seconds",
                         "From a run's start to its end (waits included)", ["status"],
                         buckets=DURATION_BUCKETS)
NODE_DURATION = Histogram("wfaib_node_duration_seconds", "One node attempt",
                          ["node_type", "status"], buckets=DURATION_BUCKETS)
EXECUTIONS_BUSY = Gauge("wfaib_executions_in_progress",
                        "Executor threads or Celery workers executing a run now", ["executor"],
                        multiprocess_mode="livesum")
WEBHOOK_ANSWERS = Counter("wfaib_webhook_responses", "Webhook and resume answers by status code",
                          ["door", "code"])
RATE_LIMITED = Counter("wfaib_rate_limit_refusals", "Requests refused by a rate limit (429)",
                       ["scope"])
SCHEDULE_LAG = Histogram("wfaib_scheduler_lag_seconds",
                         "How late a schedule trigger fired after its due time",
                         buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600))
SCHEDULER_TICK = Gauge("wfaib_scheduler_last_tick_timestamp_seconds",
                       "When a scheduler loop last ticked", multiprocess_mode="max")
LLM_TOKENS = Counter("wfaib_llm_tokens", "LLM tokens used", ["provider", "model", "kind"])
LLM_COST = Counter("wfaib_llm_cost_usd", "Estimated LLM cost in US dollars",
                   ["provider", "model"])
LLM_REQUESTS = Counter("wfaib_llm_requests", "LLM requests", ["provider", "model"])


# -- what other code calls ------------------------------------------------------------------

def record_llm_usage(*, provider: str, model: str, input_tokens: int = 0,
                     output_tokens: int = 0, cached_tokens: int = 0,
                     cost_usd: float | None = None) -> None:
    """One LLM request's usage: the engine's observer (`MetricsObserver.model_calls`) calls
    this for each model call the cost ledger records. `input_tokens` include the cached
    ones, which are also counted as kind "cached"."""
    LLM_REQUESTS.labels(provider, model).inc()
    if input_tokens:
        LLM_TOKENS.labels(provider, model, "input").inc(max(0, int(input_tokens)))
    if output_tokens:
        LLM_TOKENS.labels(provider, model, "output").inc(max(0, int(output_tokens)))
    if cached_tokens:
        LLM_TOKENS.labels(provider, model, "cached").inc(max(0, int(cached_tokens)))
    if cost_usd:
        LLM_COST.labels(provider, model).inc(max(0.0, float(cost_usd)))


def webhook_answered(door: str, status: int) -> None:
    _labelled(WEBHOOK_ANSWERS, door, str(status)).inc()
    if status == 429:
        rate_limited(door)


def rate_limited(scope: str) -> None:
    _labelled(RATE_LIMITED, scope).inc()


def schedule_fired(due_at: dt.datetime, now: dt.datetime) -> None:
    SCHEDULE_LAG.observe(max(0.0, (now - due_at).total_seconds()))


def scheduler_ticked() -> None:
    SCHEDULER_TICK.set(time.time())


_CHILDREN: dict[tuple[Any, ...], Any] = {}


def _labelled(metric: Any, *values: str) -> Any:
    """`metric.labels(*values)`, looked up once: `labels()` takes a lock and builds its key on
    every call, which each request and each node attempt would pay (a webhook run asks five
    times). The child objects are the metric's own, kept as long as it keeps them (nothing
    here removes one); a forked process's children notice the new pid themselves."""
    key = (metric, *values)
    child = _CHILDREN.get(key)
    if child is None:
        child = _CHILDREN[key] = metric.labels(*values)
    return child


class _NodeTimer:
    """One node attempt's duration, observed as succeeded or failed when it ends."""

    __slots__ = ("node_type", "t0")

    def __init__(self, node_type: str):
        self.node_type = node_type
        self.t0 = 0.0

    def __enter__(self) -> None:
        self.t0 = time.perf_counter()

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        status = "failed" if kind is not None else "succeeded"
        _labelled(NODE_DURATION, self.node_type, status).observe(time.perf_counter() - self.t0)


class _Execution:
    """One execution of a run: counted as started (its first), and busy while it lasts (a plain
    class: a generator-based context manager costs more than the counting, once per run)."""

    __slots__ = ("busy", "run")

    def __init__(self, run: Run):
        self.run = run
        self.busy = _labelled(EXECUTIONS_BUSY, str(wfaib_settings.EXECUTOR))

    def __enter__(self) -> None:
        if self.run.executions <= 1:
            _labelled(RUNS_STARTED, str(self.run.workflow_id), self.run.trigger).inc()
        self.busy.inc()

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        self.busy.dec()


class MetricsObserver(Observer):
    """The engine's runs and nodes, counted (installed by runs/apps.py)."""

    def execution(self, run: Run) -> _Execution:  # type: ignore[override]
        return _Execution(run)

    def node(self, run: Run, node_id: str,  # type: ignore[override]
             node_type: str) -> _NodeTimer:
        return _NodeTimer(node_type)

    def model_calls(self, run: Run, node_id: str, entries: Sequence[ModelUsage]) -> None:
        for entry in entries:
            record_llm_usage(provider=entry["provider"], model=entry["model"],
                             input_tokens=entry["prompt_tokens"],
                             output_tokens=entry["completion_tokens"],
                             cached_tokens=entry["cached_tokens"], cost_usd=entry["cost"])

    def run_ended(self, run: Run, status: str) -> None:
        _labelled(RUNS_FINISHED, str(run.workflow_id), status).inc()
        if run.started_at is not None:
            seconds = (timezone.now() - run.started_at).total_seconds()
            _labelled(RUN_DURATION, status).observe(max(0.0, seconds))


# -- the scrape -----------------------------------------------------------------------------

class RunGauges(Collector):
    """Runs queued, running and waiting now (from the database, at each scrape)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts = dict(Run.objects.filter(status__in=(Run.Status.QUEUED, Run.Status.RUNNING,
                                                     Run.Status.WAITING))
                      .values_list("status").annotate(n=Count("id")).values_list("status", "n"))
        family = GaugeMetricFamily("wfaib_runs", "Runs by status now (unfinished ones)",
                                   labels=["status"])
        for status in (Run.Status.QUEUED, Run.Status.RUNNING, Run.Status.WAITING):
            family.add_metric([str(status)], counts.get(status, 0))
        yield family


class _Registry(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Any]:
        yield from self.registry.collect()


def exposition(multiproc_dir: str | None = None, *, database: bool = True) -> bytes:
    """The text a scrape gets: every process's values (multiprocess mode, from
    `multiproc_dir` or PROMETHEUS_MULTIPROC_DIR) or this process's, and the run gauges."""
    registry = CollectorRegistry()
    path = multiproc_dir or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        multiprocess.MultiProcessCollector(registry, path=path)
    else:
        registry.register(_Registry(REGISTRY))
    if database:
        registry.register(RunGauges())
    return generate_latest(registry)


def serve(port: int, addr: str = "0.0.0.0") -> None:
    """Worker and scheduler processes (WFAIB_METRICS_PORT): serve this machine's values on
    `port` (every path; no token: keep the port inside the cluster). The run gauges come from
    the web's /metrics."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    registry = CollectorRegistry() if path else REGISTRY
    if path:
        multiprocess.MultiProcessCollector(registry, path=path)
    start_http_server(port, addr=addr, registry=registry)


def _permitted(request: HttpRequest) -> bool | None:
    """None: the endpoint is off; else whether this request may read it."""
    token = str(wfaib_settings.METRICS_TOKEN or "")
    allow = list(wfaib_settings.METRICS_ALLOW or [])
    if not token and not allow:
        return None
    if token:
        sent = request.headers.get("Authorization", "")
        if sent.startswith("Bearer ") and hmac.compare_digest(sent[7:].encode(), token.encode()):
            return True
    address = client_address(request)
    if address and allow:
        ip = ipaddress.ip_address(address)
        for entry in allow:
            with contextlib.suppress(ValueError):
                if ip in ipaddress.ip_network(str(entry).strip(), strict=False):
                    return True
    return False


def metrics_view(request: HttpRequest) -> HttpResponse:
    """`GET /metrics` (see the module docstring for who may read it)."""
    permitted = _permitted(request)
    if permitted is None:
        return JsonResponse({"code": "not_found", "message": "not found"}, status=404)
    if not permitted:
        return JsonResponse({"code": "forbidden", "message": "metrics need WFAIB_METRICS_TOKEN "
                             "as a bearer token or an address in WFAIB_METRICS_ALLOW"},
                            status=403)
    if request.method not in ("GET", "HEAD"):
        return JsonResponse({"code": "method_not_allowed", "message": "use GET"}, status=405,
                            headers={"Allow": "GET"})
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
