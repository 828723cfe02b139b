"""The Celery app for the distributed executor (WFAIB_EXECUTOR=celery).

    celery -A wfaib worker --concurrency 4      # or: manage.py run_worker

Configured from Django settings with the CELERY_ prefix (broker: CELERY_BROKER_URL, Redis or
RabbitMQ by URL); tasks are found in each app's tasks.py (runs/tasks.py).
"""

import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from celery import Celery
from celery.signals import (
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
)
from prometheus_client import multiprocess

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wfaib.settings")


class DjangoCelerySettings(Mapping[str, Any]):
    """Django's CELERY_ settings as a plain dict, read when Celery first reads its configuration
    (Django's settings are loaded by then). Given Django's settings object itself, Celery looks
    each of its settings up there, under several names, on every task it sends: about a tenth
    of a publish's CPU (bench/RESULTS.md). A later change goes through `app.conf.update`."""

    def __init__(self) -> None:
        self._values: dict[str, Any] | None = None

    def _read(self) -> dict[str, Any]:
        if self._values is None:
            from django.conf import settings

            self._values = {name: getattr(settings, name) for name in dir(settings)
                            if name.startswith("CELERY_")}
        return self._values

    def __getitem__(self, name: str) -> Any:
        return self._read()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())




app = Celery("wfaib")
app.config_from_object(DjangoCelerySettings(), namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@worker_process_init.connect
def _freeze_startup(**_: object) -> None:
    """The worker (before its pool forks: the children inherit it) and each pool process once
    ready: what it loaded is never scanned by a collection again (wfaib/gc_tuning.py)."""
    from wfaib.gc_tuning import freeze_startup

    freeze_startup()


@worker_process_init.connect
def _write_in_the_task_thread(**_: object) -> None:
    """A prefork pool process executes one task at a time: the group writer would only add a
    thread hand-off per run (runs/engine/group_writer.py write_in_caller)."""
    from runs.engine import group_writer

    group_writer.write_in_caller()


@worker_init.connect
def _solo_writes_in_the_task_thread(sender: object = None, **_: object) -> None:
    """A solo pool (`--pool solo`: no pool processes, the worker executes one task at a time in
    its own thread) writes as a prefork pool process does. Other pools run tasks side by side
    (threads) or in child processes (prefork: their parent executes none) and keep the writer."""
    from celery.concurrency import get_implementation
    from celery.concurrency.solo import TaskPool as SoloPool

    from runs.engine import group_writer

    pool = getattr(sender, "pool_cls", None)
    if pool is not None and get_implementation(pool) is SoloPool:
        group_writer.write_in_caller()


# The exit code of a worker that ended to be replaced (WFAIB_WORKER_MAX_TASKS): run_worker's
# supervisor starts it anew at once, without the pause it keeps for a worker that failed.
RECYCLE_EXIT = 75


class _Recycling:
    """Counts the tasks of a worker that executes them in its own process (solo, threads) and,
    at WFAIB_WORKER_MAX_TASKS, asks it for a warm shutdown: the task just finished is already
    acknowledged, a message fetched ahead goes back to the broker, and the process ends with
    RECYCLE_EXIT. Prefork replaces its pool processes itself (Celery's --max-tasks-per-child,
    which run_worker passes)."""

    def __init__(self) -> None:
        self.after = 0
        self.done = 0
        self._lock = threading.Lock()

    def task_done(self) -> None:
        if self.after <= 0:
            return
        with self._lock:
            self.done += 1
            if self.done < self.after:
                return
        from celery.worker import state

        if state.should_stop is None:
            state.should_stop = RECYCLE_EXIT


recycling = _Recycling()


@worker_init.connect
def _recycle_after_max_tasks(sender: object = None, **_: object) -> None:
    from celery.concurrency import get_implementation
    from celery.concurrency.solo import TaskPool as SoloPool
    from celery.concurrency.thread import TaskPool as ThreadsPool

    from wfaib.conf import wfaib_settings

    pool = getattr(sender, "pool_cls", None)
    if pool is not None and get_implementation(pool) in (SoloPool, ThreadsPool):
        recycling.after = int(wfaib_settings.WORKER_MAX_TASKS)


@task_postrun.connect
def _count_for_recycling(**_: object) -> None:
    recycling.task_done()


@task_prerun.connect
@task_postrun.connect
def _database_connections_as_per_request(sender: object = None, **_: object) -> None:
    """Around each task a worker runs, what Django does around each request: close a
    connection past CONN_MAX_AGE or one with errors that no longer answers, and check the
    others' health on their next use. Celery's own fixup would close them all
    (CELERY_DB_REUSE_MAX in wfaib/settings.py keeps it from doing so). Not for a task run
    eagerly in the caller's thread, whose connection is the caller's (as Celery's fixup)."""
    from django.db import close_old_connections

    if getattr(getattr(sender, "request", None), "is_eager", False):
        return

    close_old_connections()


@worker_process_shutdown.connect
def _metrics_process_gone(pid: int | None = None, **_: object) -> None:
    """A pool process ended: its live gauges go (prometheus_client multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid or os.getpid())
