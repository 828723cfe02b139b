"""The driver: advance one run over explicit state, writing through a journal.

    execute_run(run_id)                  # claim, execute, return the status afterwards
    execute_deferred(run)                # an unsaved run of pure nodes, stored at its end
    RunExecution(run, journal=MemoryJournal(run)).execute()   # no database (bench, tests)

The parts:
    state.py     node states, frames, the signals that stop a pass, JSON helpers
    journal.py   every write (claim, checkpoint, flush, finish, park, cancel); the database
                 journal retries on a fresh connection
    memory_journals.py  in memory: for tests and bench, and the deferred runs of pure nodes
    attempts.py  one node: settings, attempts and retries, timeout, cancellation, on_error
    loops.py     loop bodies per item, in frames of their own, optionally in parallel
    waits.py     the wait record, suspending, and ending a wait
    hooks.py     what the engine tells its caller (a child run to start, a run finished)

The run is claimed atomically (queued -> running), so two executors never run it at once.
Finished nodes are checkpoints (RunLogs): on a later execution (after a crash, a wait or a
retry) nodes that already succeeded are not run again. Logs of pure nodes are written together
with the run's final update (one transaction for a fast run); a node with side effects gets a
`started` row before it runs and its result right after, so a crash never repeats finished work.
A failed log with `ports` set is a failure the run continued past (on_error continue/route); it
counts as a checkpoint like a success.
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
from functools import cached_property, partial
from typing import Any

import orjson
from django.utils import timezone

from nodes.base import NodeError, NodeSettings, NodeType
from nodes.context import SubworkflowOutcome, WorkflowInfo
from nodes.registry import registry
from wfaib.conf import wfaib_settings
from workflows.graph import DEFAULT_PORT, Graph
from workflows.models import Workflow
from workflows.variables import variables_of

from ..db_retry import is_locked, retry_on_lock
from ..heartbeat import beating
from ..models import Run, RunLog
from . import waits
from .attempts import run_node
from .clock import now as clock_now
from .context import RunServices
from .credentials import CredentialResolver
from .files import RunFileAccess
from .hooks import EngineHooks, installed
from .journal import SUPERSEDED, DatabaseJournal, Journal, claim
from .log_rows import new_log
from .memory_journals import DeferredJournal, QueuedDeferredJournal
from .observe import observer
from .resume_tokens import resume_token, resume_url
from .state import (
    TRUNCATED,
    Frame,
    NodeState,
    ParkForRetry,
    RunCancelled,
    RunSuperseded,
    StateTable,
    is_truncated,
    jsonable,
)
from .usage import RunUsage

__all__ = ["SUPERSEDED", "TRUNCATED", "Listener", "RunExecution", "can_defer", "claim",
           "execute_deferred", "execute_queued", "execute_run", "jsonable"]

logger = logging.getLogger("wfaib.engine")

# Called with each RunLog as a node finishes (the CLI prints them as they happen).
Listener = Callable[[RunLog], None]


def _ms(seconds: float) -> int:
    return max(0, int(seconds * 1000))


class RunExecution:
    """One pass over a run. Create with a claimed Run (or an unsaved one and a memory
    journal); call `execute()`."""

    def __init__(self, run: Run, listener: Listener | None = None, *, fresh: bool = False,
                 journal: Journal | None = None, hooks: EngineHooks | None = None):
        self.run = run
        self.listener = listener
        self.journal = journal if journal is not None else DatabaseJournal(run)
        self.hooks = hooks if hooks is not None else installed()
        self.fresh = fresh  # created already claimed by this process: no checkpoints to load
        self.definition = run.version.definition
        self.credentials = CredentialResolver(run.workflow.project_id)
        self.files = RunFileAccess(lambda: run.pk, run.workflow.project_id)
        self.graph = Graph.from_definition(self.definition)
        self.types = {nid: registry.get(n["type"]) for nid, n in self.graph.nodes.items()}
        self.bodies = {nid: self.graph.descendants(nid, cls.body_port)
                       for nid, cls in self.types.items() if cls.body_port}
        owners = self.graph.loop_owners(self.bodies)
        self.members: dict[str | None, list[str]] = defaultdict(list)
        for node_id in self.graph.order:
            self.members[owners[node_id]].append(node_id)
        self.states = StateTable()
        # A test run of one step (runs/test_runs.py) runs only these top-level nodes.
        plan = run.test if isinstance(run.test, dict) else {}
        self.only: set[str] | None = (set(plan["only"]) if plan.get("only") is not None
                                      else None)
        self.top = Frame(scope="", owner=None, states=self.states)
        self.attempts: dict[tuple[str, str], int] = {}
        self.attempts_lock = threading.Lock()
        self.node_settings: dict[str, NodeSettings] = {}
        self.expression_timeout = float(wfaib_settings.EXPRESSION_TIMEOUT)
        self.log_max = int(wfaib_settings.LOG_MAX_BYTES)
        # Retry delays this long or longer park the run instead of sleeping in a worker.
        self.park_after = float(wfaib_settings.RETRY_PARK_AFTER)
        self.max_depth = int(wfaib_settings.MAX_SUBWORKFLOW_DEPTH)
        self.max_loop_items = int(wfaib_settings.MAX_LOOP_ITEMS)
        self.usage = RunUsage(self)  # model calls: meters, the cost ledger, budgets
        self._vars: dict[str, str] | None = None
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
                for nid, cls in self.types.items() if cls.external_resume
            },
        }

    @property
    def project_vars(self) -> dict[str, str]:
        """`vars`: the project's variables, read once per execution, and only by runs whose
        definition mentions `vars` (the hot path of other workflows makes no query)."""
        if self._vars is None:
            mentions = b"vars" in orjson.dumps(self.definition.get("nodes", []))
            self._vars = variables_of(self.run.workflow.project_id) if mentions else {}
        return self._vars

    @property
    def last_value(self) -> Any:
        return self.top.last_value

    # -- checkpoints -----------------------------------------------------------------------
    def load_checkpoints(self) -> None:
        if self.fresh:
            return
        for log in self.journal.checkpoints():
            if log.node_id not in self.graph.nodes:  # a retry on a newer version
                continue
            key = ("", log.node_id)
            self.attempts[key] = max(self.attempts.get(key, 0), log.attempt)
            continued = log.status == RunLog.Status.FAILED and log.ports is not None
            if is_truncated(log.output):  # a pure node's big output: compute it again
                self.states.pop(log.node_id, None)
            elif log.status == RunLog.Status.SUCCEEDED or continued:
                outputs = (log.output if log.ports is not None
                           else {DEFAULT_PORT: log.output})
                self.states[log.node_id] = NodeState("succeeded", outputs or {})
            elif log.status == RunLog.Status.SKIPPED:
                self.states[log.node_id] = NodeState("skipped")
            elif log.status == RunLog.Status.WAITING:
                self.states[log.node_id] = NodeState("waiting", {"_wait": log})
            else:  # started (crashed mid-node) or failed: run it again
                self.states.pop(log.node_id, None)

    # -- the main loop ---------------------------------------------------------------------
    def execute(self) -> str:
        try:
            self.load_checkpoints()
            if self._advance():
                return Run.Status.WAITING
            return self.end(Run.Status.SUCCEEDED, result=self.last_value)
        except RunSuperseded:
            return self._superseded()
        except ParkForRetry as park:
            return self._park(park.delay)
        except RunCancelled:
            return self.end(Run.Status.CANCELLED, error="cancelled by request")
        except NodeError as exc:
            return self.end(Run.Status.FAILED, error=exc.message, node_id=exc.node_id or "")

    def _advance(self) -> bool:
        """Run the top-level nodes in order; True when the run suspended in a wait."""
        for node_id in self.members[None]:
            if node_id not in self.states:
                if self.only is not None and node_id not in self.only:
                    continue  # a step test run: not this node
                self.step(self.top, node_id)
            while self.states[node_id].status == "waiting":
                if waits.finish_wait(self, node_id):
                    break
                if waits.suspend(self, node_id):
                    return True
            state = self.states[node_id]
            if state.status == "succeeded":
                self.top.succeeded(state)
        return False

    def end(self, status: str, *, result: Any = None, error: str = "",
            node_id: str = "") -> str:
        """Finish the run through the journal, then tell the caller (hooks.after_finish)."""
        try:
            self.usage.flush()
            try:
                ended = self.journal.finish(status, result=result, error=error,
                                            node_id=node_id)
            except RunCancelled:  # asked to cancel while the last node ran: not a success
                ended = self.journal.finish(Run.Status.CANCELLED, error="cancelled by request")
        except RunSuperseded:
            return self._superseded()
        if ended == SUPERSEDED:
            return self._superseded()
        observer.run_ended(self.run, ended)
        self._after_finish(ended)
        return ended

    def _after_finish(self, status: str) -> None:
        """A problem in the caller's hook is logged, never allowed to change the run."""
        if self.hooks.after_finish is None:
            return
        try:
            self.hooks.after_finish(self.run, status)
        except Exception:
            logger.exception("run %s: after-finish hooks failed", self.run.pk)

    @cached_property
    def rng(self) -> random.Random:
        """The retry jitter's source, made at the first retry: seeding one reads 2.5 kB from
        the OS (~11 us, more than the rest of a run's set-up), which most runs never need."""
        return random.Random()

    def can_park(self, frame: Frame) -> bool:
        """Only a stored run's top-level node can wait without a thread (a loop body is re-run
        as a whole; a deferred run is not in the database yet)."""
        return frame.owner is None and not frame.threaded and \
            not isinstance(self.journal, DeferredJournal)

    def _park(self, delay: float) -> str:
        try:
            parked = self.journal.park(timezone.now() + dt.timedelta(seconds=delay))
        except RunCancelled:
            return self.end(Run.Status.CANCELLED, error="cancelled by request")
        except RunSuperseded:
            return self._superseded()
        return self._superseded() if parked == SUPERSEDED else parked

    def _superseded(self) -> str:
        logger.warning("run %s: execution %s was superseded by another; it stops here",
                       self.run.pk, self.run.executions)
        self.journal.discard()
        return SUPERSEDED

    def _live_inputs(self, frame: Frame, node_id: str) -> dict[str, Any]:
        live: dict[str, Any] = {}
        for edge in self.graph.incoming[node_id]:
            state = frame.states.get(edge.source)
            if state and state.status == "succeeded" and edge.port in state.outputs:
                live[edge.source] = state.outputs[edge.port]
        return live

    def names(self, frame: Frame, input_value: Any) -> dict[str, Any]:
        names = {
            "input": input_value,
            "trigger": self.run.input,
            "nodes": frame.states.outputs,
            "run": self.run_names,
            "now": clock_now().isoformat(),
            "vars": self.project_vars,
        }
        names.update(frame.extra)
        return names

    def step(self, frame: Frame, node_id: str) -> None:
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
            self.journal.check(force=not cls.pure)
        run_node(self, frame, node_id, node, cls, input_value)

    # -- recording -------------------------------------------------------------------------
    def _record_skip(self, frame: Frame, node_id: str, node_type: str) -> None:
        now = clock_now()
        log = new_log(self.run, node_id=node_id, node_type=node_type, scope=frame.scope,
                      status=RunLog.Status.SKIPPED, started_at=now, finished_at=now,
                      duration_ms=0)
        frame.states[node_id] = NodeState("skipped")
        if frame.owner is not None:
            frame.logs.append(log)
            return
        self.journal.add(log)
        if self.listener:
            self.listener(log)

    def record(self, frame: Frame, log: RunLog, t0: float, cls: type[NodeType], *,
               now: bool = False) -> None:
        """A node's attempt ended: its log is buffered (pure nodes, loop bodies) or stored
        now (side effects, waits)."""
        log.duration_ms = _ms(time.perf_counter() - t0)
        log.finished_at = clock_now()
        scrub = self.credentials.scrub  # known secrets never reach a stored log
        log.input, log.output, log.error = scrub(log.input), scrub(log.output), scrub(log.error)
        if frame.owner is not None:  # loop bodies: buffered, adopted by the loop in order
            frame.logs.append(log)
            return
        if self.listener:
            self.listener(log)
        if cls.pure and not now and not log.pk:
            self.journal.add(log)
        else:
            self.journal.checkpoint(log)

    def adopt_logs(self, frame: Frame, logs: list[RunLog]) -> None:
        if frame.owner is not None:  # an outer loop's iteration: it adopts them later
            frame.logs.extend(logs)
            return
        for log in logs:
            if self.listener:
                self.listener(log)
            self.journal.add(log)

    # -- engine services for nodes (ctx.respond, ctx.run_subworkflow, ...) -------------------
    def services_for(self, frame: Frame, node_id: str,
                     cls: type[NodeType]) -> RunServices | None:
        if not (cls.inline_only or cls.suspends):
            return None
        return RunServices(respond=self.journal.respond, run_subworkflow=self._run_subworkflow,
                           resume_token=partial(resume_token, self.run.pk, node_id),
                           depth=self.run.depth, describe_workflow=self._describe_workflow)

    def _describe_workflow(self, workflow_id: int) -> WorkflowInfo:
        """Another workflow of this run's project as a tool: name, description, and the
        `input_schema` its trigger declares."""
        workflow = Workflow.objects.filter(pk=workflow_id).first()
        if workflow is None or workflow.project_id != self.run.workflow.project_id:
            raise NodeError(f"no workflow {workflow_id} in this workflow's project")
        schema = None
        for node in (workflow.definition or {}).get("nodes", ()):
            cls = registry.get(node.get("type")) if node.get("type") in registry else None
            if cls is not None and cls.is_trigger:
                schema = (node.get("config") or {}).get("input_schema") or schema
        return WorkflowInfo(id=workflow.pk, name=workflow.name,
                            description=workflow.description, input_schema=schema)

    def _run_subworkflow(self, workflow_id: int, input_value: Any) -> SubworkflowOutcome:
        """Run another workflow of the same project inline, in this thread; return its outcome:
        {"run_id", "status", "result", "error", "error_node_id"}."""
        workflow = Workflow.objects.filter(pk=workflow_id).first()
        if workflow is None or workflow.project_id != self.run.workflow.project_id:
            raise NodeError(f"no workflow {workflow_id} in this workflow's project")
        if self.run.depth + 1 > self.max_depth:
            raise NodeError(f"sub-workflows nest at most {self.max_depth} levels deep "
                            f"(this run is at depth {self.run.depth}); a workflow calling "
                            f"itself without end?")
        if self.hooks.start_child is None:
            raise NodeError("sub-workflows cannot start here (no engine hooks installed)")
        child = self.hooks.start_child(workflow=workflow, input=input_value, parent=self.run)
        status = execute_run(child.pk, hooks=self.hooks)
        child.refresh_from_db()
        if status is None and child.status == Run.Status.QUEUED:
            raise NodeError(f"sub-workflow run {child.pk} could not start (its workflow's "
                            f"concurrency limit is reached)", output={"run_id": child.pk})
        return SubworkflowOutcome(run_id=child.pk, status=child.status, result=child.result,
                                  error=child.error, error_node_id=child.error_node_id,
                                  workflow=workflow.name)


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


def execute_deferred(run: Run, *, hooks: EngineHooks | None = None) -> str:
    """Execute an unsaved run of pure nodes (can_defer) in this thread, then store it and its
    logs in one transaction. Nothing outside the process happened before that commit, so a
    crash before it loses nothing that was accepted: the caller answers only afterwards."""
    now = timezone.now()
    run.started_at = now  # created_at: when the Run object was made, just before
    run.status, run.executions = Run.Status.RUNNING, 1
    return _execute_in_memory(run, DeferredJournal(run), hooks)


def execute_queued(run: Run, *, hooks: EngineHooks | None = None) -> str:
    """Execute a stored, queued run of pure nodes (can_defer, no checkpoints: never executed,
    not a test or retry run) in this thread while its row stays `queued`, then claim and finish
    it in one transaction (QueuedDeferredJournal). SUPERSEDED when its row changed meanwhile
    (taken by another executor, cancelled): then nothing of this execution is stored."""
    queued_executions = run.executions
    run.started_at = run.started_at or timezone.now()
    run.status, run.executions = Run.Status.RUNNING, queued_executions + 1
    journal = QueuedDeferredJournal(run, queued_executions=queued_executions)
    return _execute_in_memory(run, journal, hooks)


def _execute_in_memory(run: Run, journal: DeferredJournal, hooks: EngineHooks | None) -> str:
    try:
        with observer.execution(run):
            return RunExecution(run, journal=journal, hooks=hooks, fresh=True).execute()
    except Exception as exc:  # an engine bug: store the run failed, never drop it
        logger.exception("run of workflow %s: engine error", run.workflow_id)
        journal.fail(f"internal error: {type(exc).__name__}: {exc}")
        return Run.Status.FAILED if journal.stored else SUPERSEDED


def execute_run(run_id: int, listener: Listener | None = None, *,
                on_stop: Callable[[Run], None] | None = None,
                claimed: Run | None = None, hooks: EngineHooks | None = None) -> str | None:
    """Claim and advance a run. Returns its status afterwards, or None if it was not queued.

    `on_stop(run)` (the run as claimed) is called once a claimed run stopped running (finished
    or waiting); runs.dispatch uses it to hand freed concurrency slots on. `hooks` default to
    the installed ones (runs.services.ENGINE_HOOKS)."""
    # `claimed`: a Run this process created already running (runs.services.run_start with
    # claimed=True), with its workflow and version loaded: no claim, no re-read.
    run = claimed if claimed is not None else retry_on_lock(claim, run_id)
    if run is None:
        return None
    try:
        execution = RunExecution(run, listener, hooks=hooks, fresh=claimed is not None)
        with observer.execution(run):  # metrics, the run's trace span, log context
            if run.cancel_requested:
                return execution.end(Run.Status.CANCELLED, error="cancelled by request")
            with beating(run.pk):  # keeps heartbeat_at fresh, even while one node runs long
                return execution.execute()
    except Exception as exc:  # an engine bug must not leave the run hanging in `running`
        if is_locked(exc):  # not the run's fault: its heartbeat stops, and the watchdog
            logger.warning("run %s: the database stayed locked; the watchdog resumes the run "
                           "from its last checkpoint", run_id)
            return Run.Status.RUNNING
        logger.exception("run %s: engine error", run_id)
        DatabaseJournal(run).fail(f"internal error: {type(exc).__name__}: {exc}")
        observer.run_ended(run, Run.Status.FAILED)
        return Run.Status.FAILED
    finally:
        if on_stop is not None:
            on_stop(run)
