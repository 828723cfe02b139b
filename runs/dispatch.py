"""Hand runs to the configured executor. The only module that knows how runs execute.

    WFAIB_EXECUTOR=inline   InlineExecutor: a bounded thread pool in this process (embedded)
    WFAIB_EXECUTOR=celery   CeleryExecutor: a Celery task carrying only the run id (runs/tasks.py;
                            the executor: runs/celery_executor.py, loaded when chosen)

    dispatch_run(run.pk)    # after the Run (queued) is committed
    executor().health()     # what /api/health adds for this executor

An executor is chosen once from settings (one instance per name and process) and offers
`submit` (queue a run), `run_synchronously` (a caller waits for the end), `health`, `drain`
(wait for the work this process handed out) and its default `scheduler_mode`.

Handing a run out twice is harmless: `execute_run` claims a run atomically (queued -> running),
so the second hand-out finds nothing to do. That is what makes recovery simple: the watchdog,
start-up recovery and the scheduler (runs/scheduler.py) just dispatch again.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, ClassVar

import orjson
from django.db import close_old_connections
from django.utils.module_loading import import_string

from wfaib.conf import wfaib_settings
from workflows.models import Workflow, WorkflowVersion

from . import tenancy
from .engine import answered
from .engine.executor import can_defer, execute_deferred, execute_queued, execute_run
from .engine.log_rows import new_run
from .models import Run
from .prepared import PreparedRead

logger = logging.getLogger("wfaib.dispatch")

TASK_NAME = "runs.execute_runs"  # runs/tasks.py: one task, several runs

SyncOutcome = tuple[Run, str] | None


def execute(run_id: int) -> str | None:
    """Execute a run here and now (what every executor calls), then hand out the queued runs of
    its workflow that its end let in under `max_concurrency`. A queued run of pure nodes is
    executed in memory and stored with one commit (`execute_queued`); any other is claimed
    first and written as it goes (`execute_run`). None when the run is not queued."""
    run = _QUEUED_RUN.first(pk=run_id)  # with its workflow and version
    if run is None:
        return None  # taken, finished, cancelled or gone: what a claim would find
    if not _executes_in_memory(run):
        return execute_run(run_id, on_stop=_release_if_limited)
    try:
        return execute_queued(run)
    finally:
        _release_if_limited(run)


# The queued run with its workflow and version, by SQL compiled once per thread: Django
# compiled this join anew for every task (runs/prepared.py).
_QUEUED_RUN = PreparedRead(lambda pk: Run.objects.select_related("workflow", "version").filter(
    pk=pk, status=Run.Status.QUEUED))


_FRESH_TRIGGERS = frozenset(Run.Trigger) - {Run.Trigger.TEST, Run.Trigger.RETRY}


def _executes_in_memory(run: Run) -> bool:
    """A queued run that may execute before it is claimed: never executed (no checkpoints; test
    and retry runs start with copied logs), not asked to cancel, under no concurrency limit
    (the claim is what counts those), and of pure nodes the synchronous webhook would defer."""
    return (run.executions == 0 and run.trigger in _FRESH_TRIGGERS
            and not run.cancel_requested and run.workflow.max_concurrency is None
            and not tenancy.max_running() and sync_shape(run.version) == "deferred")


def _release_if_limited(run: Run) -> None:
    try:
        dispatch_runs(tenancy.release(run))  # its tenant's queued runs, under WFAIB's cap
        if run.workflow.max_concurrency is None:  # as claimed; no query when unlimited
            return
        release_slots(run.pk)
    except Exception:  # the scheduler's re-dispatch of queued runs catches up later
        logger.exception("run %s: handing on its concurrency slot failed", run.pk)


class Executor:
    """Contract attributes: `name` (the WFAIB_EXECUTOR value) and `scheduler_mode` (where the
    scheduler loop runs by default: "embedded" in web processes, or "off")."""

    name: ClassVar[str] = ""
    scheduler_mode: ClassVar[str] = "off"

    def submit(self, run_id: int) -> Future | None:
        raise NotImplementedError

    def run_synchronously(self, *, workflow: Workflow, version: WorkflowVersion,
                          input: Any, trigger: str, timeout: float,
                          start: Callable[[], Run]) -> SyncOutcome:
        """Execute a run for a caller that waits for its end, the fastest way this executor
        allows; (run, status) once it finished or waits, or status `running` past `timeout`.
        None when there is no direct path: the caller queues the run and polls."""
        return None

    def health(self) -> dict[str, str]:
        """Checks of what this executor depends on, beside the database: {name: up|down}."""
        return {}

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until the runs this process handed out are done; False past `timeout`."""
        return True


class InlineExecutor(Executor):
    """Runs execute on a bounded thread pool in this process (WFAIB_INLINE_WORKERS)."""

    name = "inline"
    scheduler_mode = "embedded"

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._futures: set[Future] = set()

    def pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(
                        max_workers=wfaib_settings.INLINE_WORKERS,
                        thread_name_prefix="wfaib-run")
        return self._pool

    def _track(self, future: Future) -> Future:
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._untrack)
        return future

    def _untrack(self, future: Future) -> None:
        with self._lock:
            self._futures.discard(future)

    def submit(self, run_id: int) -> Future:
        return self._track(self.pool().submit(_in_thread, execute, run_id))

    def submit_claimed(self, run: Run) -> Future:
        """Execute a run created already claimed (run_start(claimed=True)) on the pool."""
        return self._track(self.pool().submit(
            _in_thread, lambda _pk: execute_run(run.pk, claimed=run, on_stop=_release_if_limited),
            run.pk))

    def run_synchronously(self, *, workflow: Workflow, version: WorkflowVersion,
                          input: Any, trigger: str, timeout: float,
                          start: Callable[[], Run]) -> SyncOutcome:
        """Pure nodes only: executed in this thread before it is stored, then the run and its
        logs are written in one transaction (nothing happened outside the process before that
        commit, so a crash before it loses nothing that was answered). Otherwise: created
        already claimed (`start`) and executed on the pool; its Future is awaited, and with a
        `respond` node also its answer (runs.engine.answered: signalled by the engine once the
        answer's row is committed; `run.response` is set then, while the run may go on)."""
        shape = sync_shape(version)
        if shape in ("claimed", "polled") and tenancy.max_running():
            return None  # a run created already running would pass its tenant's cap
        if shape == "deferred":
            run = new_run(workflow=workflow, version=version, trigger=trigger, input=input)
            return run, execute_deferred(run)
        run = start()
        waiter = answered.expect(run.pk) if shape == "polled" else None
        try:
            future = self.submit_claimed(run)
            return run, self._await(run, future, waiter, timeout)
        finally:
            if waiter is not None:
                answered.forget(run.pk)

    @staticmethod
    def _await(run: Run, future: Future, waiter: Future | None, timeout: float) -> str:
        """The run's status once it stopped, or once its respond node answered (`response`
        set on `run`); `running` past `timeout`."""
        if waiter is not None:
            wait((future, waiter), timeout=timeout, return_when=FIRST_COMPLETED)
            if waiter.done():
                run.response = waiter.result()
                if not future.done():
                    return Run.Status.RUNNING  # answered; the run goes on
            timeout = 0  # it ended, or the time is up: read its outcome without waiting
        try:
            return future.result(timeout=timeout) or Run.Status.RUNNING
        except FutureTimeout:
            return Run.Status.RUNNING
        except Exception:  # the engine records its own failures; read what it left
            run.refresh_from_db()
            return run.status

    def drain(self, timeout: float | None = None) -> bool:
        """Wait for the pool's runs, and for the runs they hand out meanwhile (an error
        workflow started when a run failed)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                pending = set(self._futures)
            if not pending:
                return True
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            _done, not_done = wait(pending, timeout=left)
            if not_done and deadline is not None and time.monotonic() >= deadline:
                return False


# The executors by WFAIB_EXECUTOR's value, each loaded when first chosen (as Django loads its
# backends): a process that runs its workflows inline never imports Celery, kombu and what they
# bring (~5 MB and ~120 modules in each web worker, bench/RESULTS.md).
EXECUTORS: dict[str, str] = {"inline": "runs.dispatch.InlineExecutor",
                             "celery": "runs.celery_executor.CeleryExecutor"}
_instances: dict[str, Executor] = {}
_instances_lock = threading.Lock()


def executor() -> Executor:
    """The executor WFAIB_EXECUTOR names, created once per process (and per name, so a test
    that changes the setting gets the other one)."""
    name = wfaib_settings.EXECUTOR
    found = _instances.get(name)
    if found is None:
        if name not in EXECUTORS:
            raise ValueError(f"WFAIB_EXECUTOR={name!r}: choose one of {', '.join(EXECUTORS)}")
        with _instances_lock:
            found = _instances.setdefault(name, import_string(EXECUTORS[name])())
    return found


def _in_thread(fn: Callable[[int], str | None], run_id: int) -> str | None:
    close_old_connections()
    try:
        return fn(run_id)
    except Exception:
        logger.exception("run %s: executor error", run_id)
        raise
    finally:
        close_old_connections()


# Version -> shape (versions are immutable). Keyed by more than the id: ids come back after a
# rolled-back transaction (SQLite's sequence is rolled back with it), and a reused id must
# never inherit another version's shape.
_SHAPES: OrderedDict[tuple[Any, ...], str] = OrderedDict()
_SHAPES_MAX = 1024


def sync_shape(version: WorkflowVersion) -> str:
    """How a synchronous run of `version` executes inline: "deferred" (pure nodes, stored at
    the end), "claimed" (stored first, awaited) or "polled" (stored first, a respond node
    answers early: awaited on its signal; other executors poll the row)."""
    key = (version.pk, version.workflow_id, version.number, version.created_at)
    shape = _SHAPES.get(key) if version.pk else None
    if shape is None:
        definition = version.definition
        responds = any(n.get("type") == "respond" for n in definition.get("nodes", ()))
        defers = (_defers_answering(definition) if responds else can_defer(definition)) \
            and tenancy.may_defer(definition)
        shape = "deferred" if defers else "polled" if responds else "claimed"
        if version.pk:
            _SHAPES[key] = shape
            if len(_SHAPES) > _SHAPES_MAX:
                _SHAPES.popitem(last=False)
    return shape


_RUN_NAME = re.compile(r"\brun\b")


def _defers_answering(definition: dict[str, Any]) -> bool:
    """A workflow with `respond` nodes may run deferred (in memory, stored in one transaction,
    then answered with the response) when nothing runs after a respond node, so its answer
    would come no earlier on the signalled path, and every other node may be deferred."""
    nodes = definition.get("nodes", ())
    responds = [n for n in nodes if n.get("type") == "respond"]
    ids = {n.get("id") for n in responds}
    if any(edge.get("from") in ids for edge in definition.get("edges", ())):
        return False  # the run goes on after answering: it must be stored before
    rest = {**definition, "nodes": [n for n in nodes if n.get("type") != "respond"]}
    mentions_run = _RUN_NAME.search(orjson.dumps([n.get("config") for n in responds]).decode())
    return not mentions_run and can_defer(rest)


def dispatch_run(run_id: int) -> Future | None:
    """Queue a run for execution. Inline returns the Future of its execution."""
    return executor().submit(run_id)


def dispatch_runs(run_ids: Iterable[int]) -> None:
    for run_id in run_ids:
        dispatch_run(run_id)


def release_slots(run_id: int) -> list[int]:
    """After `run_id` stopped running: dispatch the oldest queued runs of its workflow that now
    fit under the workflow's `max_concurrency` (nothing when it has no limit)."""
    row = (Run.objects.filter(pk=run_id)
           .values("workflow_id", "workflow__max_concurrency").first())
    if row is None or row["workflow__max_concurrency"] is None:
        return []
    runs = Run.objects.filter(workflow_id=row["workflow_id"])
    free = row["workflow__max_concurrency"] - runs.filter(status=Run.Status.RUNNING).count()
    if free <= 0:
        return []
    ids = list(runs.filter(status=Run.Status.QUEUED).order_by("created_at", "id")
               .values_list("id", flat=True)[:free])
    dispatch_runs(ids)
    return ids


def wait_for_run(run_id: int, timeout: float) -> bool:
    """Block until the run is finished or waiting, up to `timeout` seconds. True if it is.

    Works for every executor (it polls the database with a growing interval)."""
    settled = (*Run.FINISHED, Run.Status.WAITING)
    deadline = time.monotonic() + timeout
    interval = 0.002
    while True:
        if Run.objects.filter(pk=run_id, status__in=settled).exists():
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(interval, remaining))
        interval = min(interval * 2, 0.1)

