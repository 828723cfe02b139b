"""Advance one run: claim it, resume from its checkpoints, run ready nodes, record, finish.

    execute_run(run_id)   # returns the run's status afterwards

The run is claimed atomically (queued -> running), so two executors never run it at once.
Finished nodes are checkpoints (RunLogs): on a later execution (after a crash, a wait or a
retry) nodes that already succeeded are not run again. Logs of pure nodes are written together
with the run's final update (one transaction for a fast run); a node with side effects gets a
`started` row before it runs and its result right after, so a crash never repeats finished work.

Flow control lives here too:
- Per-node settings (nodes.base.NodeSettings): retries with backoff (one RunLog per attempt),
  a timeout (the node runs in a worker thread that is abandoned when it runs over, see
  policies.py), and on_error: stop, continue (the error becomes the output) or route (the error
  is emitted on the node's `error` port). A failed log with `ports` set is a failure the run
  continued past; it counts as a checkpoint like a success.
- Loops: a node returning `Iterate` runs its body (the nodes reachable from its body port) once
  per item in a `Frame` of its own (scope "loop1[3]", nested "loop1[3]/inner[0]"), with `item`
  and `index` in expressions. Body logs are buffered and written by the main thread, so
  iterations may run in worker threads (bounded parallelism) without touching the database.
  A loop is a checkpoint only as a whole: a crash inside it re-runs the loop.
- Waits (`Wait`) suspend the run at the top level; wait-for-webhook and sub-workflow waits end
  when their log's output is marked "resumed" (runs.services writes it), delays when resume_at
  has passed.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from pydantic import ValidationError as PydanticValidationError

from nodes.base import ERROR_PORT, Iterate, NodeError, NodeSettings, NodeType, Outputs, Wait
from nodes.registry import registry

from .. import tenancy
from ..db_retry import is_locked, retry_on_lock
from ..models import Run, RunLog
from .context import NodeContext
from .expressions import ExpressionError, ReadOnlyDict, evaluate, render_value
from .graph import DEFAULT_PORT, Graph
from .policies import call_with_timeout, retry_delay
from .resume_tokens import resume_token, resume_url

logger = logging.getLogger("wfaib.engine")

CANCEL_CHECK_INTERVAL = 0.5  # seconds between cancellation / heartbeat checks
LOG_BUFFER = 500  # buffered loop-body logs written in one go

# Called with each RunLog as a node finishes (the CLI prints them as they happen).
Listener = Callable[[RunLog], None]


class RunCancelled(Exception):
    pass


class ParkForRetry(Exception):  # noqa: N818
    """A node's retry is due in `delay` seconds: park the run (waiting) instead of holding
    this thread; when it resumes, the failed node runs again with its next attempt number."""

    def __init__(self, delay: float):
        super().__init__(delay)
        self.delay = delay


class RunSuperseded(Exception):  # noqa: N818
    """Another execution claimed this run (the watchdog took this one for dead): stop writing."""


SUPERSEDED = "superseded"  # what execute() returns then; the run's row is the other's now


class BodyFailure(NodeError):
    """A node inside a loop body failed (and its on_error was `stop`): the loop fails with it."""


@dataclass
class NodeState:
    status: str  # succeeded | skipped | failed | waiting
    outputs: dict[str, Any] = field(default_factory=dict)  # port -> value

    @property
    def value(self) -> Any:
        if not self.outputs:
            return None
        return next(iter(self.outputs.values()))


class StateTable(dict):
    """Node states by id that also keeps `values`: the outputs of the succeeded nodes, which
    expressions read as `nodes`. Kept up to date on every change, so building the expression
    names costs nothing per node (rebuilding it made long runs quadratic)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.values = NodeValues(
            (nid, state.value) for nid, state in self.items() if state.status == "succeeded"
        )

    def __setitem__(self, node_id: str, state: NodeState) -> None:
        super().__setitem__(node_id, state)
        if state.status == "succeeded":
            self.values[node_id] = state.value
        else:
            self.values.pop(node_id, None)

    def pop(self, node_id: str, *default: Any) -> Any:
        self.values.pop(node_id, None)
        return super().pop(node_id, *default)


class NodeValues(ReadOnlyDict):
    """The `nodes` name of expressions: read without a copy per evaluation, never mutated."""


@dataclass
class Frame:
    """Where nodes run: the top level (scope "", owner None) or one loop iteration."""

    scope: str
    owner: str | None  # the loop whose body this frame runs
    states: StateTable
    extra: dict[str, Any] = field(default_factory=dict)  # item, index
    threaded: bool = False  # in a worker thread: no database access, no cancel checks
    logs: list[RunLog] = field(default_factory=list)  # buffered (loop frames only)
    last_value: Any = None
    has_value: bool = False

    def succeeded(self, state: NodeState) -> None:
        self.last_value, self.has_value = state.value, True


_STRICT = (orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
           | orjson.OPT_PASSTHROUGH_SUBCLASS)


def _refuse(obj: Any) -> Any:
    raise TypeError


def jsonable(value: Any) -> Any:
    """`value` itself when it is plain JSON data (no copy: outputs of big data are passed on,
    not duplicated per node), else a JSON-safe copy (sets become lists, other objects
    strings)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    try:
        orjson.dumps(value, default=_refuse, option=_STRICT)
        return value
    except (TypeError, orjson.JSONEncodeError):
        pass
    try:
        return orjson.loads(orjson.dumps(value, default=_json_default,
                                         option=orjson.OPT_NON_STR_KEYS))
    except (TypeError, orjson.JSONEncodeError):
        return str(value)


TRUNCATED = "__wfaib_truncated__"


def log_copy(value: Any, limit: int) -> Any:
    """What a RunLog stores of a value: a JSON-safe copy, or past `limit` bytes of JSON a
    marker with its size and a preview (big data is passed along in memory, not copied into
    every log)."""
    if value is None or isinstance(value, (int, float, bool)):
        return value
    try:
        data = orjson.dumps(value, default=_json_default, option=orjson.OPT_NON_STR_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return str(value)[:limit]
    if len(data) <= limit:
        return value if isinstance(value, str) else orjson.loads(data)
    return {TRUNCATED: True, "bytes": len(data),
            "preview": data[:2000].decode("utf-8", errors="ignore")}


def is_truncated(value: Any) -> bool:
    return isinstance(value, dict) and value.get(TRUNCATED) is True


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    return str(obj)


def _ms(seconds: float) -> int:
    return max(0, int(seconds * 1000))


def engine_setting(name: str, default: Any) -> Any:
    return getattr(settings, "WFAIB", {}).get(name, default)


def first_port(cls: type[NodeType], node: dict[str, Any]) -> str:
    ports = cls.output_ports(node.get("config") or {})
    return ports[0] if ports else DEFAULT_PORT


class RunExecution:
    """One pass over a run. Create with a claimed Run; call `execute()`."""

    def __init__(self, run: Run, listener: Listener | None = None, *, fresh: bool = False,
                 deferred: bool = False):
        self.run = run
        self.listener = listener
        # A run created already claimed by this process has no checkpoints to load.
        self.fresh = fresh or deferred
        # Deferred: an unsaved run of pure nodes, written with its logs in one transaction at
        # its end (see execute_deferred).
        self.deferred = deferred
        self.definition = run.version.definition
        self.graph = Graph.from_definition(self.definition)
        self.types = {nid: registry.get(n["type"]) for nid, n in self.graph.nodes.items()}
        self.bodies = {nid: self.graph.descendants(nid, cls.body_port)
                       for nid, cls in self.types.items() if cls.body_port}
        owners = self.graph.loop_owners(self.bodies)
        self.members: dict[str | None, list[str]] = defaultdict(list)
        for node_id in self.graph.order:
            self.members[owners[node_id]].append(node_id)
        self.states = StateTable()
        self.top = Frame(scope="", owner=None, states=self.states)
        self.attempts: dict[tuple[str, str], int] = {}
        self.attempts_lock = threading.Lock()
        self.node_settings: dict[str, NodeSettings] = {}
        self.pending_logs: list[RunLog] = []
        self.expression_timeout = float(engine_setting("EXPRESSION_TIMEOUT", 2.0))
        self.log_max = int(engine_setting("LOG_MAX_BYTES", 256 * 1024))
        # Retry delays this long or longer park the run instead of sleeping in a worker.
        self.park_after = float(engine_setting("RETRY_PARK_AFTER", 10.0))
        self.max_depth = int(engine_setting("MAX_SUBWORKFLOW_DEPTH", 10))
        self.max_loop_items = int(engine_setting("MAX_LOOP_ITEMS", 100_000))
        self.rng = random.Random()
        self.last_check = time.monotonic()
        self.run_names = {
            "id": run.pk,
            "workflow_id": run.workflow_id,
            "workflow": run.workflow.name,
            "version": run.version.number,
            "trigger": run.trigger,
            "started_at": (run.started_at or timezone.now()).isoformat(),
            # Earlier nodes can hand out a wait-for-webhook node's URL before it runs.
            "resume_urls": {
                nid: resume_url(resume_token(run.pk, nid))
                for nid, cls in self.types.items() if getattr(cls, "external_resume", False)
            },
        }

    @property
    def last_value(self) -> Any:
        return self.top.last_value

    # -- checkpoints -----------------------------------------------------------------------
    def load_checkpoints(self) -> None:
        if self.fresh:
            return
        for log in self.run.logs.filter(scope="").order_by("id"):
            if log.node_id not in self.graph.nodes:  # a retry on a newer version
                continue
            key = ("", log.node_id)
            self.attempts[key] = max(self.attempts.get(key, 0), log.attempt)
            continued = log.status == RunLog.Status.FAILED and log.ports is not None
            if is_truncated(log.output):  # a pure node's big output: compute it again
                self.states.pop(log.node_id, None)
            elif log.status == RunLog.Status.SUCCEEDED or continued:
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
            for node_id in self.members[None]:
                if node_id not in self.states:
                    self._step(self.top, node_id)
                state = self.states[node_id]
                while state.status == "waiting":
                    if self._finish_wait(node_id, state):
                        break
                    if self._suspend(node_id):
                        return Run.Status.WAITING
                    state = self.states[node_id]  # resumed while we were suspending
                state = self.states[node_id]
                if state.status == "succeeded":
                    self.top.succeeded(state)
        except RunSuperseded:
            return self._superseded()
        except ParkForRetry as park:
            return self._park(park.delay)
        except RunCancelled:
            return self._finish(Run.Status.CANCELLED, error="cancelled by request")
        except NodeError as exc:
            return self._finish(Run.Status.FAILED, error=exc.message, node_id=exc.node_id or "")
        return self._finish(Run.Status.SUCCEEDED, result=self.last_value)

    def _can_park(self, frame: Frame) -> bool:
        """Only a stored run's top-level node can wait without a thread (a loop body is re-run
        as a whole; a deferred run is not in the database yet)."""
        return frame.owner is None and not frame.threaded and not self.deferred

    def _park(self, delay: float) -> str:
        resume_at = timezone.now() + dt.timedelta(seconds=delay)
        with transaction.atomic():
            if not Run.objects.filter(pk=self.run.pk, executions=self.run.executions,
                                      status=Run.Status.RUNNING).update(
                    status=Run.Status.WAITING, resume_at=resume_at, heartbeat_at=None):
                return self._superseded()
            self._flush()
        self.run.status, self.run.resume_at = Run.Status.WAITING, resume_at
        return Run.Status.WAITING

    def _superseded(self) -> str:
        logger.warning("run %s: execution %s was superseded by another; it stops here",
                       self.run.pk, self.run.executions)
        self.pending_logs = []
        return SUPERSEDED

    def _live_inputs(self, frame: Frame, node_id: str) -> dict[str, Any]:
        live: dict[str, Any] = {}
        for edge in self.graph.incoming[node_id]:
            state = frame.states.get(edge.source)
            if state and state.status == "succeeded" and edge.port in state.outputs:
                live[edge.source] = state.outputs[edge.port]
        return live

    def _names(self, frame: Frame, input_value: Any) -> dict[str, Any]:
        names = {
            "input": input_value,
            "trigger": self.run.input,
            "nodes": frame.states.values,
            "run": self.run_names,
            "now": timezone.now().isoformat(),
        }
        names.update(frame.extra)
        return names

    def _step(self, frame: Frame, node_id: str) -> None:
        node = self.graph.nodes[node_id]
        cls = self.types[node_id]
        if cls.is_trigger:
            input_value = self.run.input
        else:
            live = self._live_inputs(frame, node_id)
            if not live:  # no input, or every input's branch was not taken
                self._record_skip(frame, node_id, node["type"])
                return
            if cls.multi_input:
                input_value = live
            else:
                input_value = next(iter(live.values())) if len(live) == 1 else live
        if not frame.threaded:
            self._check_cancel(force=not cls.pure)
        self._run_node(frame, node_id, node, cls, input_value)

    def _settings(self, node_id: str) -> NodeSettings:
        found = self.node_settings.get(node_id)
        if found is None:
            try:
                found = NodeSettings.model_validate(self.graph.nodes[node_id].get("settings") or {})
            except PydanticValidationError as exc:
                raise NodeError(f"node {node_id!r}: invalid settings: {exc}",
                                node_id=node_id) from None
            self.node_settings[node_id] = found
        return found

    def _next_attempt(self, scope: str, node_id: str) -> int:
        with self.attempts_lock:
            attempt = self.attempts.get((scope, node_id), 0) + 1
            self.attempts[(scope, node_id)] = attempt
        return attempt

    def _run_node(self, frame: Frame, node_id: str, node: dict, cls: type[NodeType],
                  input_value: Any) -> None:
        """Run a node with its settings: attempts, then on_error. Records one log per attempt."""
        node_settings = self._settings(node_id)
        names = self._names(frame, input_value)
        # Side effects at the top level get a `started` row first (crash safety). Loop bodies
        # are re-run as a whole after a crash, so their logs are only buffered.
        durable = not cls.pure and frame.owner is None
        while True:
            attempt = self._next_attempt(frame.scope, node_id)
            t0 = time.perf_counter()
            log = RunLog(run=self.run, node_id=node_id, node_type=node["type"], attempt=attempt,
                         scope=frame.scope, started_at=timezone.now(),
                         input=log_copy(input_value, self.log_max))
            if durable:
                self._flush()
                log.status = RunLog.Status.STARTED
                log.save()
            try:
                result = self._attempt(frame, node_id, node, cls, node_settings, names,
                                       input_value, attempt)
            except RunCancelled:
                raise
            except Exception as exc:  # any node failure becomes a failed attempt with its reason
                message = _failure_message(exc)
                details = jsonable(getattr(exc, "output", None))
                log.status, log.error = RunLog.Status.FAILED, message
                retry, message = self._should_retry(node_settings, names, message, details,
                                                    attempt)
                if retry:
                    log.output = details
                    self._complete_log(frame, log, t0, cls)
                    delay = retry_delay(node_settings, attempt, self.rng)
                    if delay >= self.park_after and self._can_park(frame):
                        raise ParkForRetry(delay)
                    self._sleep(frame, delay)
                    continue
                self._fail(frame, node_id, node, cls, node_settings, log, t0, exc, message,
                           details)
                return
            if isinstance(result, Wait):
                log.status = RunLog.Status.WAITING
                log.output = jsonable({
                    "resume_at": result.resume_at.isoformat() if result.resume_at else None,
                    "token": result.token, "output": result.output,
                    "timeout_port": result.timeout_port, **result.extra,
                })
                self._complete_log(frame, log, t0, cls, force_write=True)
                frame.states[node_id] = NodeState("waiting", {"_wait": log})
                return
            outputs, plain = result
            port = next(iter(outputs), DEFAULT_PORT)
            if plain and port == DEFAULT_PORT:
                log.output = outputs[port]
            else:
                log.ports, log.output = list(outputs), outputs
            if cls.pure:  # recomputed on resume, so a big output need not be stored whole
                log.output = log_copy(log.output, self.log_max)
            log.status = RunLog.Status.SUCCEEDED
            self._complete_log(frame, log, t0, cls)
            frame.states[node_id] = NodeState("succeeded", outputs)
            return

    def _attempt(self, frame: Frame, node_id: str, node: dict, cls: type[NodeType],
                 node_settings: NodeSettings, names: dict[str, Any], input_value: Any,
                 attempt: int) -> Wait | tuple[dict[str, Any], bool]:
        """One attempt: render the config, call run() (under the timeout), run a loop body.
        Returns a Wait, or (outputs by port, whether the node returned a plain value)."""
        config = self._prepare_config(cls, node.get("config") or {}, names)
        services = (self._services(frame, node_id) if cls.inline_only or cls.suspends
                    else {"tenant": tenancy.tenant_of(self.run.workflow)})
        ctx = NodeContext(node_id=node_id, node_type=node["type"], names=names,
                          run_id=self.run.pk, attempt=attempt,
                          expression_timeout=self.expression_timeout, services=services,
                          scope=frame.scope)
        timeout = node_settings.timeout
        if timeout is None and not cls.pure:
            timeout = cls.timeout
        if cls.inline_only:
            # It reaches into the engine (database, child runs) from this thread; such work
            # cannot be abandoned in another thread.
            timeout = None
        result = call_with_timeout(lambda: cls().run(ctx, config, input_value), timeout,
                                   name=f"wfaib-node-{node_id}")
        if isinstance(result, Iterate):
            return self._run_loop(frame, node_id, result, names), False
        if isinstance(result, Wait):
            if frame.owner is not None:
                raise NodeError("a run can only wait at the top level, not inside a loop body")
            return result
        if isinstance(result, Outputs):
            return {port: jsonable(v) for port, v in result.ports.items()}, False
        return {first_port(cls, node): jsonable(result)}, True

    def _should_retry(self, node_settings: NodeSettings, names: dict[str, Any], message: str,
                      details: Any, attempt: int) -> tuple[bool, str]:
        if attempt >= node_settings.max_attempts:
            return False, message
        if not node_settings.retry_if:
            return True, message
        extra = {"error": message, "details": details, "attempt": attempt}
        try:
            return bool(evaluate(node_settings.retry_if, {**names, **extra},
                                 timeout=self.expression_timeout)), message
        except ExpressionError as exc:
            return False, f"{message} (retry_if failed: {exc})"

    def _fail(self, frame: Frame, node_id: str, node: dict, cls: type[NodeType],
              node_settings: NodeSettings, log: RunLog, t0: float, exc: Exception,
              message: str, details: Any) -> None:
        """The last attempt failed: stop the run, or continue / route with the error."""
        if node_settings.on_error == "stop":
            log.output = details
            self._complete_log(frame, log, t0, cls)
            frame.states[node_id] = NodeState("failed")
            if isinstance(exc, BodyFailure):  # keep the inner node's id and message
                raise BodyFailure(exc.message, node_id=exc.node_id) from None
            error = BodyFailure if frame.owner is not None else NodeError
            where = f" in {frame.scope}" if frame.scope else ""
            raise error(f"node {node_id!r} ({node['type']}) failed{where}: {message}",
                        node_id=node_id) from None
        port = ERROR_PORT if node_settings.on_error == "route" else first_port(cls, node)
        outputs = {port: {"error": message, "node": node_id, "details": details}}
        log.ports, log.output = [port], outputs
        self._complete_log(frame, log, t0, cls)
        frame.states[node_id] = NodeState("succeeded", outputs)

    def _prepare_config(self, cls: type[NodeType], raw: dict, names: dict[str, Any]) -> Any:
        raw_fields = cls.raw_fields
        defaults = _template_defaults(cls)
        if defaults:  # a default such as "{{ input }}" is rendered like a given value
            raw = {**{k: v for k, v in defaults.items() if k not in raw}, **raw}
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

    def _sleep(self, frame: Frame, seconds: float) -> None:
        """Wait before a retry; the main thread keeps checking for cancellation meanwhile."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            time.sleep(min(remaining, CANCEL_CHECK_INTERVAL))
            if not frame.threaded:
                self._check_cancel(force=True)

    # -- engine services for nodes (ctx.services) ------------------------------------------
    def _services(self, frame: Frame, node_id: str) -> dict[str, Any]:
        token = resume_token(self.run.pk, node_id)
        return {
            "respond": self._respond,
            "run_subworkflow": self._run_subworkflow,
            "resume_token": token,
            "resume_url": resume_url(token),
            "depth": self.run.depth,
            "tenant": tenancy.tenant_of(self.run.workflow),  # code workers are shared by it
        }

    def _respond(self, response: dict[str, Any]) -> bool:
        """Store the webhook answer now, so a waiting synchronous caller can answer before the
        run ends. The first respond node of a run wins; returns whether this one was stored."""
        return bool(Run.objects.filter(pk=self.run.pk, response__isnull=True)
                    .update(response=jsonable(response)))

    def _run_subworkflow(self, workflow_id: int, input_value: Any) -> dict[str, Any]:
        """Run another workflow of the same owner inline, in this thread; return its outcome:
        {"run_id", "status", "result", "error", "error_node_id"}."""
        from workflows.models import Workflow

        from ..services import run_start

        workflow = Workflow.objects.filter(pk=workflow_id).first()
        if workflow is None or workflow.owner_id != self.run.workflow.owner_id:
            raise NodeError(f"no workflow {workflow_id} that this workflow's owner owns")
        if self.run.depth + 1 > self.max_depth:
            raise NodeError(f"sub-workflows nest at most {self.max_depth} levels deep "
                            f"(this run is at depth {self.run.depth}); a workflow calling "
                            f"itself without end?")
        child = run_start(workflow=workflow, input=input_value, trigger=Run.Trigger.SUBWORKFLOW,
                          execute=False, parent_run=self.run)
        status = execute_run(child.pk)
        child.refresh_from_db()
        if status is None and child.status == Run.Status.QUEUED:
            raise NodeError(f"sub-workflow run {child.pk} could not start (its workflow's "
                            f"concurrency limit is reached)", output={"run_id": child.pk})
        return {"run_id": child.pk, "status": child.status, "result": child.result,
                "error": child.error, "error_node_id": child.error_node_id,
                "workflow": workflow.name}

    # -- loops -----------------------------------------------------------------------------
    def _run_loop(self, frame: Frame, loop_id: str, plan: Iterate,
                  names: dict[str, Any]) -> dict[str, Any]:
        items = list(plan.items)
        if len(items) > self.max_loop_items:
            raise NodeError(f"{len(items)} items exceed the loop limit of {self.max_loop_items}")
        size = max(1, plan.batch_size)
        batches = items if size == 1 else [items[i:i + size] for i in range(0, len(items), size)]
        parallel = max(1, plan.parallelism)
        if parallel > 1 and any(self.types[n].inline_only for n in self.bodies[loop_id]):
            parallel = 1  # nodes that reach into the database run in the engine's thread
        results: list[Any] = []
        for start in range(0, len(batches), parallel):
            chunk = list(enumerate(batches[start:start + parallel], start))
            if len(chunk) == 1:
                outcomes = [self._iteration(frame, loop_id, *chunk[0], threaded=frame.threaded)]
            else:
                with ThreadPoolExecutor(max_workers=len(chunk),
                                        thread_name_prefix=f"wfaib-loop-{loop_id}") as pool:
                    outcomes = list(pool.map(
                        lambda pair: self._iteration(frame, loop_id, *pair, threaded=True), chunk))
            for index, item, iteration, error in outcomes:  # recorded in order, by this thread
                self._adopt_logs(frame, iteration.logs)
                if error is not None:
                    raise error
                result = iteration.last_value if iteration.has_value else None
                results.append(result)
                if plan.break_if and self._breaks(plan.break_if, names, item, index, result):
                    return {"done": results}
            if not frame.threaded:
                self._check_cancel()
        return {"done": results}

    def _iteration(self, frame: Frame, loop_id: str, index: int, item: Any, *,
                   threaded: bool) -> tuple[int, Any, Frame, BaseException | None]:
        scope = f"{frame.scope}/{loop_id}[{index}]" if frame.scope else f"{loop_id}[{index}]"
        states = StateTable(frame.states)
        states[loop_id] = NodeState("succeeded", {self.types[loop_id].body_port: item})
        iteration = Frame(scope=scope, owner=loop_id, states=states,
                          extra={**frame.extra, "item": item, "index": index}, threaded=threaded)
        try:
            for node_id in self.members[loop_id]:
                self._step(iteration, node_id)
                if iteration.states[node_id].status == "succeeded":
                    iteration.succeeded(iteration.states[node_id])
        except NodeError as exc:
            return index, item, iteration, BodyFailure(exc.message, node_id=exc.node_id)
        except RunCancelled as exc:
            return index, item, iteration, exc
        return index, item, iteration, None

    def _breaks(self, expression: str, names: dict[str, Any], item: Any, index: int,
                result: Any) -> bool:
        try:
            return bool(evaluate(expression, {**names, "item": item, "index": index,
                                              "result": result},
                                 timeout=self.expression_timeout))
        except ExpressionError as exc:
            raise NodeError(f"break_if failed: {exc}") from None

    def _adopt_logs(self, frame: Frame, logs: list[RunLog]) -> None:
        if frame.owner is not None:  # an outer loop's iteration: it adopts them later
            frame.logs.extend(logs)
            return
        for log in logs:
            if self.listener:
                self.listener(log)
        self.pending_logs.extend(logs)
        if len(self.pending_logs) >= LOG_BUFFER:
            self._flush()

    # -- waits -----------------------------------------------------------------------------
    def _finish_wait(self, node_id: str, state: NodeState) -> bool:
        """A waiting node: finished if its time came (or it was resumed with a value)."""
        log: RunLog = state.outputs["_wait"]
        data = log.output or {}
        resume_at = data.get("resume_at")
        resumed = bool(data.get("resumed"))
        if not resumed and (not resume_at or
                            dt.datetime.fromisoformat(resume_at) > timezone.now()):
            return False
        if resumed and data.get("error"):  # e.g. the sub-workflow waited on failed
            RunLog.objects.filter(pk=log.pk).update(
                status=RunLog.Status.FAILED, error=data["error"], finished_at=timezone.now())
            self.states[node_id] = NodeState("failed")
            raise NodeError(f"node {node_id!r} ({log.node_type}) failed: {data['error']}",
                            node_id=node_id)
        cls, node = self.types[node_id], self.graph.nodes[node_id]
        port = data.get("timeout_port") if not resumed and data.get("timeout_port") else \
            first_port(cls, node)
        value = data.get("output")
        ports, output = (None, value) if port == DEFAULT_PORT else ([port], {port: value})
        RunLog.objects.filter(pk=log.pk).update(
            status=RunLog.Status.SUCCEEDED, output=output, ports=ports,
            finished_at=timezone.now(),
        )
        self.states[node_id] = NodeState("succeeded", {port: value})
        return True

    def _suspend(self, node_id: str) -> bool:
        """Park the run as `waiting`. False when the wait was resumed meanwhile (the resume
        service saw the run still running and left it to us): the caller then continues."""
        log: RunLog = self.states[node_id].outputs["_wait"]
        with transaction.atomic():
            self._flush()
            # The same row lock the resume service takes: either it sees `waiting` and queues
            # the run, or we see its "resumed" mark here.
            list(Run.objects.select_for_update().filter(pk=self.run.pk).values_list("pk"))
            fresh = RunLog.objects.filter(pk=log.pk).first()
            if fresh is not None and (fresh.output or {}).get("resumed"):
                self.states[node_id] = NodeState("waiting", {"_wait": fresh})
                return False
            resume_at = (log.output or {}).get("resume_at")
            Run.objects.filter(pk=self.run.pk).update(
                status=Run.Status.WAITING,
                resume_at=dt.datetime.fromisoformat(resume_at) if resume_at else None,
                heartbeat_at=None,
            )
        return True

    # -- recording -------------------------------------------------------------------------
    def _record_skip(self, frame: Frame, node_id: str, node_type: str) -> None:
        now = timezone.now()
        log = RunLog(run=self.run, node_id=node_id, node_type=node_type, scope=frame.scope,
                     status=RunLog.Status.SKIPPED, started_at=now, finished_at=now,
                     duration_ms=0)
        frame.states[node_id] = NodeState("skipped")
        if frame.owner is not None:
            frame.logs.append(log)
            return
        self.pending_logs.append(log)
        if self.listener:
            self.listener(log)

    def _complete_log(self, frame: Frame, log: RunLog, t0: float, cls: type[NodeType],
                      force_write: bool = False) -> None:
        log.duration_ms = _ms(time.perf_counter() - t0)
        log.finished_at = timezone.now()
        if frame.owner is not None:  # loop bodies: buffered, adopted by the loop in order
            frame.logs.append(log)
            return
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
        if self.pending_logs and not self.deferred:
            RunLog.objects.bulk_create(self.pending_logs)
            self.pending_logs = []

    def _check_cancel(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_check < CANCEL_CHECK_INTERVAL:
            return
        self.last_check = now
        if self.deferred:  # not in the database yet: nobody can have cancelled it
            return
        # The heartbeat itself is written by runs.heartbeat's thread (execute_run's `beating`).
        row = Run.objects.filter(pk=self.run.pk).values_list("cancel_requested", "executions",
                                                             "status").first()
        if row is None or row[1] != self.run.executions or row[2] != Run.Status.RUNNING:
            raise RunSuperseded  # executions is the fencing token: a re-claim bumped it
        if row[0]:
            raise RunCancelled

    def _finish(self, status: str, *, result: Any = None, error: str = "",
                node_id: str = "") -> str:
        if self.deferred:
            return self._finish_deferred(status, result=result, error=error, node_id=node_id)
        changes = {"status": status, "result": jsonable(result), "error": error,
                   "error_node_id": node_id, "finished_at": timezone.now(),
                   "heartbeat_at": None, "resume_at": None}
        if not retry_on_lock(self._end, changes):
            return self._superseded()
        for key, value in changes.items():  # callers holding this Run see how it ended
            setattr(self.run, key, value)
        self._after_finish(status)
        return status

    def _end(self, changes: dict[str, Any]) -> bool:
        with transaction.atomic():
            # Only the execution that holds the run (same claim count) may end it.
            if not Run.objects.filter(pk=self.run.pk, executions=self.run.executions,
                                      status=Run.Status.RUNNING).update(**changes):
                return False
            self._flush()
        return True

    def _finish_deferred(self, status: str, *, result: Any, error: str, node_id: str) -> str:
        """Write the run as it ended and all its logs: one transaction, one commit."""
        run = self.run
        run.status, run.result, run.error, run.error_node_id = (
            status, jsonable(result), error, node_id)
        run.finished_at, run.heartbeat_at = timezone.now(), None
        retry_on_lock(self._store_deferred)
        self.deferred = False
        self._after_finish(status)
        return status

    def _store_deferred(self) -> None:
        with transaction.atomic():
            self.run.save(force_insert=True)
            for log in self.pending_logs:
                log.run = self.run
            RunLog.objects.bulk_create(self.pending_logs)
        self.pending_logs = []

    def _after_finish(self, status: str) -> None:
        """Start the workflow's error workflow; resume a parent run waiting on this one. A
        problem here is logged, never allowed to change the finished run."""
        from .. import services

        try:
            if status == Run.Status.FAILED:
                services.run_start_error_workflow(run=self.run)
            if self.run.parent_run_id:
                services.run_resume_parent(child=self.run)
        except Exception:
            logger.exception("run %s: after-finish hooks failed", self.run.pk)


_TEMPLATE_DEFAULTS: dict[type, dict[str, str]] = {}


def _template_defaults(cls: type[NodeType]) -> dict[str, str]:
    """Config fields whose default is a template (e.g. items="{{ input }}")."""
    found = _TEMPLATE_DEFAULTS.get(cls)
    if found is None:
        found = _TEMPLATE_DEFAULTS[cls] = {
            name: f.default for name, f in cls.Config.model_fields.items()
            if isinstance(f.default, str) and "{{" in f.default and name not in cls.raw_fields
        }
    return found


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
        if not tenancy.has_room(run_id):  # its tenant has WFAIB_TENANT_MAX_RUNNING running
            return None  # stays queued; runs.dispatch hands it out when one of those ends
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


def can_defer(definition: dict[str, Any]) -> bool:
    """Whether a run of `definition` may be executed before it is stored (execute_deferred):
    every node is pure and never waits, and no config mentions `run` (whose id does not exist
    before the run is written)."""
    for node in definition.get("nodes", ()):
        cls = registry.get(node.get("type")) if node.get("type") in registry else None
        if cls is None or not cls.pure or cls.suspends or cls.inline_only:
            return False
    return not _RUN_NAME.search(orjson.dumps([n.get("config") for n in definition["nodes"]])
                                .decode())


_RUN_NAME = re.compile(r"\brun\b")


def execute_deferred(run: Run) -> str:
    """Execute an unsaved run of pure nodes (can_defer) in this thread, then store it and its
    logs in one transaction. Nothing outside the process happened before that commit, so a
    crash before it loses nothing that was accepted: the caller answers only afterwards."""
    now = timezone.now()
    run.status, run.started_at, run.executions = Run.Status.RUNNING, now, 1
    execution = RunExecution(run, deferred=True)
    try:
        return execution.execute()
    except Exception as exc:  # an engine bug: store the run failed, never drop it
        logger.exception("run of workflow %s: engine error", run.workflow_id)
        execution.pending_logs = []
        return execution._finish_deferred(
            Run.Status.FAILED, result=None, error=f"internal error: {type(exc).__name__}: {exc}",
            node_id="")


def execute_run(run_id: int, listener: Listener | None = None, *,
                on_stop: Callable[[Run], None] | None = None,
                claimed: Run | None = None) -> str | None:
    """Claim and advance a run. Returns its status afterwards, or None if it was not queued.

    `on_stop(run)` (the run as claimed) is called once a claimed run stopped running (finished
    or waiting); runs.dispatch uses it to hand freed concurrency slots on."""
    from ..heartbeat import beating

    # `claimed`: a Run this process created already running (runs.services.run_start with
    # claimed=True), with its workflow and version loaded: no claim, no re-read.
    run = claimed if claimed is not None else retry_on_lock(claim, run_id)
    if run is None:
        return None
    try:
        if run.cancel_requested:
            return RunExecution(run)._finish(Run.Status.CANCELLED, error="cancelled by request")
        with beating(run.pk):  # keeps heartbeat_at fresh, even while one node runs for long
            return RunExecution(run, listener, fresh=claimed is not None).execute()
    except Exception as exc:  # an engine bug must not leave the run hanging in `running`
        if is_locked(exc):  # not the run's fault: its heartbeat stops, and the watchdog
            logger.warning("run %s: the database stayed locked; the watchdog resumes the run "
                           "from its last checkpoint", run_id)
            return Run.Status.RUNNING
        logger.exception("run %s: engine error", run_id)
        Run.objects.filter(pk=run_id).update(
            status=Run.Status.FAILED, error=f"internal error: {type(exc).__name__}: {exc}",
            finished_at=timezone.now(), heartbeat_at=None,
        )
        return Run.Status.FAILED
    finally:
        if on_stop is not None:
            on_stop(run)
