"""Hand runs to the configured executor. The only module that knows which executor runs them.

    WFAIB_EXECUTOR=inline   a bounded thread pool in this process (embedded default)
    WFAIB_EXECUTOR=celery   a Celery task carrying only the run id (runs/tasks.py)

    dispatch_run(run.pk)    # after the Run (queued) is committed

Handing a run out twice is harmless: `execute_run` claims a run atomically (queued -> running),
so the second hand-out finds nothing to do. That is what makes recovery simple: the watchdog,
start-up recovery and the scheduler (runs/scheduler.py) just dispatch again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.db import close_old_connections

from . import tenancy

logger = logging.getLogger("wfaib.dispatch")

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def executor_name() -> str:
    return settings.WFAIB.get("EXECUTOR", "inline")


def _inline_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(
                    max_workers=settings.WFAIB.get("INLINE_WORKERS", 8),
                    thread_name_prefix="wfaib-run",
                )
    return _pool


def execute(run_id: int) -> str | None:
    """Execute a run here and now (what every executor calls), then hand out the queued runs of
    its workflow that its end let in under `max_concurrency`."""
    from .engine.executor import execute_run

    return execute_run(run_id, on_stop=_release_if_limited)


def _release_if_limited(run) -> None:
    try:
        dispatch_runs(tenancy.release(run))  # its tenant's queued runs, under WFAIB's cap
        if run.workflow.max_concurrency is None:  # as claimed; no query when unlimited
            return
        release_slots(run.pk)
    except Exception:  # the scheduler's re-dispatch of queued runs catches up later
        logger.exception("run %s: handing on its concurrency slot failed", run.pk)


def _execute_in_thread(run_id: int) -> str | None:
    close_old_connections()
    try:
        return execute(run_id)
    except Exception:
        logger.exception("run %s: executor error", run_id)
        raise
    finally:
        close_old_connections()


def dispatch_run(run_id: int) -> Future | None:
    """Queue a run for execution. Inline returns the Future of its execution.

    A broker that cannot be reached is logged, not raised: the run is committed as `queued`
    and the scheduler hands it out again (WFAIB["REDISPATCH_AFTER"]), so it is never lost."""
    if executor_name() == "celery":
        from .tasks import execute_run_task

        try:
            execute_run_task.delay(run_id)
        except Exception:
            logger.exception("run %s: could not reach the Celery broker; it stays queued", run_id)
        return None
    return _inline_pool().submit(_execute_in_thread, run_id)


def run_synchronously(*, workflow, input, trigger: str,  # noqa: A002
                      timeout: float) -> tuple[object, str] | None:
    """Start a run for a caller that waits for its end (the synchronous webhook) the fastest
    way this executor allows; return (run, status) once it finished or waits, or with status
    `running` past `timeout` (it goes on). None when there is no direct path (another executor,
    a concurrency limit to queue behind, a `respond` node whose early answer needs polling):
    the caller then queues the run with run_start and polls.

    inline, pure nodes only: executed in this thread before it is stored, then the run and its
        logs are written in one transaction (nothing happened outside the process before that
        commit, so a crash before it loses nothing that was answered).
    inline, otherwise: created already claimed and executed on the pool; waited on its Future.
    """
    from workflows.services import current_version

    from .engine.executor import can_defer, execute_deferred
    from .models import Run
    from .services import run_start

    if executor_name() != "inline" or workflow.max_concurrency is not None:
        return None
    version = current_version(workflow)
    shape = getattr(version, "_sync_shape", None)  # versions are immutable and cached
    if shape is None:
        nodes = version.definition.get("nodes", ())
        shape = version._sync_shape = (
            "polled" if any(n.get("type") == "respond" for n in nodes)
            else "deferred" if can_defer(version.definition)
            and tenancy.may_defer(version.definition) else "claimed")
    if shape == "polled" or (shape == "claimed" and tenancy.max_running()):
        return None  # a run created already running would pass its tenant's cap
    if shape == "deferred":
        run = Run(workflow=workflow, version=version, trigger=trigger, input=input)
        return run, execute_deferred(run)
    run = run_start(workflow=workflow, input=input, trigger=trigger, execute=False,
                    claimed=True)
    future = submit_claimed(run)
    try:
        status = future.result(timeout=timeout) or Run.Status.RUNNING
    except FutureTimeout:
        status = Run.Status.RUNNING
    except Exception:  # the engine records its own failures; read what it left
        run.refresh_from_db()
        status = run.status
    return run, status


def submit_claimed(run) -> Future:
    """Execute a run created already claimed (runs.services.run_start(claimed=True)) on the
    inline pool; the caller may wait on the Future (the synchronous webhook does)."""
    from .engine.executor import execute_run

    def work() -> str | None:
        close_old_connections()
        try:
            return execute_run(run.pk, claimed=run, on_stop=_release_if_limited)
        finally:
            close_old_connections()

    return _inline_pool().submit(work)


def dispatch_runs(run_ids: Iterable[int]) -> None:
    for run_id in run_ids:
        dispatch_run(run_id)


def release_slots(run_id: int) -> list[int]:
    """After `run_id` stopped running: dispatch the oldest queued runs of its workflow that now
    fit under the workflow's `max_concurrency` (nothing when it has no limit)."""
    from .models import Run

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
    import time

    from .models import Run

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
