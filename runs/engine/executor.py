"""Advance one run: claim it, resume from its checkpoints, run ready nodes, record, finish.

    execute_run(run_id)   # returns the run's status afterwards

The run is claimed atomically (queued -> running), so two executors never run it at once.
Finished nodes are checkpoints (RunLogs): on a later execution (after a crash, a wait or a
retry) nodes that already succeeded are not run again. Logs of pure nodes are written together
with the run's final update (one transaction for a fast run); a node with side effects gets a
`started` row before it runs and its result right after, so a crash never repeats finished work.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any

import orjson
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from pydantic import ValidationError as PydanticValidationError

from nodes.base import NodeError, NodeType, Outputs, Wait
from nodes.registry import registry

from ..models import Run, RunLog
from .context import NodeContext
from .expressions import ExpressionError, render_value
from .graph import DEFAULT_PORT, Graph

logger = logging.getLogger("wfaib.engine")

CANCEL_CHECK_INTERVAL = 0.5  # seconds between cancellation / heartbeat checks

# Called with each RunLog as a node finishes (the CLI prints them as they happen).
Listener = Callable[[RunLog], None]


class RunCancelled(Exception):
    pass


@dataclass
class NodeState:
    status: str  # succeeded | skipped | failed | waiting
    outputs: dict[str, Any] = field(default_factory=dict)  # port -> value

    @property
    def value(self) -> Any:
        if not self.outputs:
            return None
        return next(iter(self.outputs.values()))


def jsonable(value: Any) -> Any:
    """A JSON-safe copy of `value` (sets become lists, unknown objects strings)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    try:
        return orjson.loads(orjson.dumps(value, default=_json_default,
                                         option=orjson.OPT_NON_STR_KEYS))
    except (TypeError, orjson.JSONEncodeError):
        return str(value)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    return str(obj)


def _ms(seconds: float) -> int:
    return max(0, int(seconds * 1000))


def engine_setting(name: str, default: Any) -> Any:
    return getattr(settings, "WFAIB", {}).get(name, default)


class RunExecution:
    """One pass over a run. Create with a claimed Run; call `execute()`."""

    def __init__(self, run: Run, listener: Listener | None = None):
        self.run = run
        self.listener = listener
        self.definition = run.version.definition
        self.graph = Graph.from_definition(self.definition)
        self.states: dict[str, NodeState] = {}
        self.attempts: dict[str, int] = {}
        self.pending_logs: list[RunLog] = []
        self.expression_timeout = float(engine_setting("EXPRESSION_TIMEOUT", 2.0))
        self.last_check = time.monotonic()
        self.last_value: Any = None
        self.run_names = {
            "id": run.pk,
            "workflow_id": run.workflow_id,
            "workflow": run.workflow.name,
            "version": run.version.number,
            "trigger": run.trigger,
            "started_at": (run.started_at or timezone.now()).isoformat(),
        }

    # -- checkpoints -----------------------------------------------------------------------
    def load_checkpoints(self) -> None:
        for log in self.run.logs.filter(scope="").order_by("id"):
            self.attempts[log.node_id] = max(self.attempts.get(log.node_id, 0), log.attempt)
            if log.status == RunLog.Status.SUCCEEDED:
                outputs = log.output if log.ports is not None else {DEFAULT_PORT: log.output}
                self.states[log.node_id] = NodeState("succeeded", outputs)
            elif log.status == RunLog.Status.SKIPPED:
                self.states[log.node_id] = NodeState("skipped")
            elif log.status == RunLog.Status.WAITING:
                self.states[log.node_id] = NodeState("waiting", {"_wait": log})
            else:  # started (crashed mid-node) or failed: run it again
                self.states.pop(log.node_id, None)

    # -- the main loop ---------------------------------------------------------------------
    def execute(self) -> str:
        self.load_checkpoints()
        try:
            for node_id in self.graph.order:
                state = self.states.get(node_id)
                if state and state.status == "waiting":
                    if not self._finish_wait(node_id, state):
                        return self._suspend(node_id)
                    continue
                if state is not None:
                    if state.status == "succeeded":
                        self.last_value = state.value
                    continue
                self._step(node_id)
                if self.states[node_id].status == "waiting":
                    return self._suspend(node_id)
        except RunCancelled:
            return self._finish(Run.Status.CANCELLED, error="cancelled by request")
        except NodeError as exc:
            return self._finish(Run.Status.FAILED, error=exc.message, node_id=exc.node_id or "")
        return self._finish(Run.Status.SUCCEEDED, result=self.last_value)

    def _live_inputs(self, node_id: str) -> dict[str, Any]:
        live: dict[str, Any] = {}
        for edge in self.graph.incoming[node_id]:
            state = self.states.get(edge.source)
            if state and state.status == "succeeded" and edge.port in state.outputs:
                live[edge.source] = state.outputs[edge.port]
        return live

    def _names(self, input_value: Any) -> dict[str, Any]:
        return {
            "input": input_value,
            "trigger": self.run.input,
            "nodes": {nid: s.value for nid, s in self.states.items() if s.status == "succeeded"},
            "run": self.run_names,
            "now": timezone.now().isoformat(),
        }

    def _step(self, node_id: str) -> None:
        node = self.graph.nodes[node_id]
        cls = registry.get(node["type"])
        incoming = self.graph.incoming[node_id]
        if cls.is_trigger:
            input_value = self.run.input
        elif not incoming:
            self._record_skip(node_id, node["type"])
            return
        else:
            live = self._live_inputs(node_id)
            if not live:
                self._record_skip(node_id, node["type"])
                return
            input_value = next(iter(live.values())) if len(live) == 1 else live
        if not cls.pure:
            self._check_cancel(force=True)
        else:
            self._check_cancel()
        self._run_node(node_id, node, cls, input_value)

    def _run_node(self, node_id: str, node: dict, cls: type[NodeType], input_value: Any) -> None:
        attempt = self.attempts.get(node_id, 0) + 1
        self.attempts[node_id] = attempt
        names = self._names(input_value)
        started = timezone.now()
        t0 = time.perf_counter()
        log = RunLog(run=self.run, node_id=node_id, node_type=node["type"], attempt=attempt,
                     started_at=started, input=jsonable(input_value))
        if not cls.pure:
            self._flush()
            log.status = RunLog.Status.STARTED
            log.save()
        try:
            config = self._prepare_config(cls, node.get("config") or {}, names)
            ctx = NodeContext(node_id=node_id, node_type=node["type"], names=names,
                              run_id=self.run.pk, attempt=attempt,
                              expression_timeout=self.expression_timeout)
            result = cls().run(ctx, config, input_value)
        except Exception as exc:  # any node failure becomes a failed node with its reason
            message = _failure_message(exc)
            output = getattr(exc, "output", None)
            log.status, log.error, log.output = RunLog.Status.FAILED, message, jsonable(output)
            self._complete_log(log, t0, cls)
            self.states[node_id] = NodeState("failed")
            raise NodeError(f"node {node_id!r} ({node['type']}) failed: {message}",
                            node_id=node_id) from None
        if isinstance(result, Wait):
            log.status = RunLog.Status.WAITING
            log.output = jsonable({"resume_at": result.resume_at.isoformat()
                                   if result.resume_at else None,
                                   "token": result.token, "output": result.output})
            self._complete_log(log, t0, cls, force_write=True)
            self.states[node_id] = NodeState("waiting", {"_wait": log})
            return
        if isinstance(result, Outputs):
            outputs = {port: jsonable(v) for port, v in result.ports.items()}
            log.ports = list(outputs)
            log.output = outputs
        else:
            outputs = {(cls.outputs[0] if cls.outputs else DEFAULT_PORT): jsonable(result)}
            log.output = next(iter(outputs.values()))
            if cls.outputs and cls.outputs[0] != DEFAULT_PORT:
                log.ports, log.output = list(outputs), outputs
        log.status = RunLog.Status.SUCCEEDED
        self._complete_log(log, t0, cls)
        self.states[node_id] = NodeState("succeeded", outputs)
        self.last_value = self.states[node_id].value

    def _prepare_config(self, cls: type[NodeType], raw: dict, names: dict[str, Any]) -> Any:
        raw_fields = cls.raw_fields
        try:
            rendered = {
                key: (value if key in raw_fields else
                      render_value(value, names, timeout=self.expression_timeout))
                for key, value in raw.items()
            }
        except ExpressionError as exc:
            raise NodeError(f"config expression failed: {exc}") from None
        try:
            return cls.Config.model_validate(rendered)
        except PydanticValidationError as exc:
            problems = "; ".join(
                f"config.{'.'.join(str(p) for p in e['loc'])}: "
                f"{e['msg'].removeprefix('Value error, ')}"
                for e in exc.errors(include_url=False)
            )
            raise NodeError(f"invalid config after rendering: {problems}") from None

    def _finish_wait(self, node_id: str, state: NodeState) -> bool:
        """A waiting node: finished if its time came (or it was resumed with a value)."""
        log: RunLog = state.outputs["_wait"]
        data = log.output or {}
        resume_at = data.get("resume_at")
        if resume_at and dt.datetime.fromisoformat(resume_at) > timezone.now():
            return False
        if not resume_at and not data.get("resumed"):
            return False
        value = data.get("output")
        RunLog.objects.filter(pk=log.pk).update(
            status=RunLog.Status.SUCCEEDED, output=value, finished_at=timezone.now()
        )
        self.states[node_id] = NodeState("succeeded", {DEFAULT_PORT: value})
        self.last_value = value
        return True

    # -- recording -------------------------------------------------------------------------
    def _record_skip(self, node_id: str, node_type: str) -> None:
        now = timezone.now()
        self.pending_logs.append(RunLog(run=self.run, node_id=node_id, node_type=node_type,
                                        status=RunLog.Status.SKIPPED, started_at=now,
                                        finished_at=now, duration_ms=0))
        self.states[node_id] = NodeState("skipped")
        if self.listener:
            self.listener(self.pending_logs[-1])

    def _complete_log(self, log: RunLog, t0: float, cls: type[NodeType],
                      force_write: bool = False) -> None:
        log.duration_ms = _ms(time.perf_counter() - t0)
        log.finished_at = timezone.now()
        if self.listener:
            self.listener(log)
        if log.pk:
            log.save(update_fields=["status", "output", "error", "ports", "duration_ms",
                                    "finished_at"])
        elif cls.pure and not force_write:
            self.pending_logs.append(log)
        else:
            self.pending_logs.append(log)
            self._flush()

    def _flush(self) -> None:
        if self.pending_logs:
            RunLog.objects.bulk_create(self.pending_logs)
            self.pending_logs = []

    def _check_cancel(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_check < CANCEL_CHECK_INTERVAL:
            return
        self.last_check = now
        # The heartbeat itself is written by runs.heartbeat's thread (execute_run's `beating`).
        if Run.objects.filter(pk=self.run.pk, cancel_requested=True).exists():
            raise RunCancelled

    def _suspend(self, node_id: str) -> str:
        log: RunLog = self.states[node_id].outputs["_wait"]
        resume_at = (log.output or {}).get("resume_at")
        with transaction.atomic():
            self._flush()
            Run.objects.filter(pk=self.run.pk).update(
                status=Run.Status.WAITING,
                resume_at=dt.datetime.fromisoformat(resume_at) if resume_at else None,
                heartbeat_at=None,
            )
        return Run.Status.WAITING

    def _finish(self, status: str, *, result: Any = None, error: str = "",
                node_id: str = "") -> str:
        with transaction.atomic():
            self._flush()
            Run.objects.filter(pk=self.run.pk).update(
                status=status, result=jsonable(result), error=error, error_node_id=node_id,
                finished_at=timezone.now(), heartbeat_at=None, resume_at=None,
            )
        return status


def _failure_message(exc: BaseException) -> str:
    if isinstance(exc, NodeError):
        return exc.message
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def claim(run_id: int) -> Run | None:
    """Take a queued run for execution (queued -> running); None when it is not queued (taken,
    finished, cancelled) or its workflow's `max_concurrency` has no free slot for it yet.

    With a limit, claims of one workflow's runs are serialized by a lock on the workflow row
    (PostgreSQL; SQLite's IMMEDIATE transactions serialize all writers), and a run is taken only
    if it is among the oldest queued runs that fit, so queued runs start in order."""
    from django.db.models import Q

    from workflows.models import Workflow

    now = timezone.now()
    changes = {"status": Run.Status.RUNNING, "started_at": Coalesce(F("started_at"), now),
               "heartbeat_at": now, "executions": F("executions") + 1}
    with transaction.atomic():
        # Fast path, one statement: no limit on this workflow.
        claimed = Run.objects.filter(
            pk=run_id, status=Run.Status.QUEUED, workflow__max_concurrency__isnull=True
        ).update(**changes)
        if not claimed:
            row = (Run.objects.filter(pk=run_id, status=Run.Status.QUEUED)
                   .values("workflow_id", "workflow__max_concurrency", "created_at").first())
            if row is None or row["workflow__max_concurrency"] is None:
                return None
            workflow_id, limit = row["workflow_id"], row["workflow__max_concurrency"]
            list(Workflow.objects.select_for_update().filter(pk=workflow_id).values_list("pk"))
            runs = Run.objects.filter(workflow_id=workflow_id)
            running = runs.filter(status=Run.Status.RUNNING).count()
            ahead = runs.filter(status=Run.Status.QUEUED).filter(
                Q(created_at__lt=row["created_at"]) | Q(created_at=row["created_at"], pk__lt=run_id)
            ).count()
            if running + ahead >= limit:
                return None  # stays queued; runs.dispatch hands it out when a slot frees
            claimed = Run.objects.filter(pk=run_id, status=Run.Status.QUEUED).update(**changes)
            if not claimed:
                return None
    return Run.objects.select_related("version", "workflow").get(pk=run_id)


def execute_run(run_id: int, listener: Listener | None = None) -> str | None:
    """Claim and advance a run. Returns its status afterwards, or None if it was not queued."""
    from ..heartbeat import beating

    run = claim(run_id)
    if run is None:
        return None
    if run.cancel_requested:
        return RunExecution(run)._finish(Run.Status.CANCELLED, error="cancelled by request")
    try:
        with beating(run.pk):  # keeps heartbeat_at fresh, even while one node runs for long
            return RunExecution(run, listener).execute()
    except Exception as exc:  # an engine bug must not leave the run hanging in `running`
        logger.exception("run %s: engine error", run_id)
        Run.objects.filter(pk=run_id).update(
            status=Run.Status.FAILED, error=f"internal error: {type(exc).__name__}: {exc}",
            finished_at=timezone.now(), heartbeat_at=None,
        )
        return Run.Status.FAILED
