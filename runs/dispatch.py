"""Hand runs to the configured executor. The only module that knows which executor runs them.

    WFAIB_EXECUTOR=inline   a bounded thread pool in this process (embedded default)
    WFAIB_EXECUTOR=celery   a Celery task carrying only the run id
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections

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


def _execute_in_thread(run_id: int) -> str | None:
    from .engine.executor import execute_run

    close_old_connections()
    try:
        return execute_run(run_id)
    except Exception:
        logger.exception("run %s: executor error", run_id)
        raise
    finally:
        close_old_connections()


def dispatch_run(run_id: int) -> Future | None:
    """Queue a run for execution. Inline returns the Future of its execution."""
    if executor_name() == "celery":
        from .tasks import execute_run_task

        execute_run_task.delay(run_id)
        return None
    return _inline_pool().submit(_execute_in_thread, run_id)


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
