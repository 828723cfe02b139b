"""A Celery worker keeps its database connection from one task to the next, as a web process
keeps it from one request to the next (CONN_MAX_AGE), instead of reconnecting for every run:
Celery's Django fixup closes every connection around each task unless CELERY_DB_REUSE_MAX is
set (wfaib/settings.py), and Django's own rule is applied around each task instead
(wfaib/celery.py). These drive Celery's real fixup with the project's settings."""

import time
import traceback
import weakref

import pytest
from celery.fixups.django import DjangoWorkerFixup
from celery.signals import task_postrun, task_prerun
from django.db import connection

from runs.tasks import execute_run_task as task
from wfaib.celery import app


def _run_tasks(fixup: DjangoWorkerFixup, task, count: int) -> None:
    """What a worker does around `count` tasks: the fixup's handlers and the signals."""
    for _ in range(count):
        fixup.on_task_prerun(task)
        task_prerun.send(sender=task, task_id="t", task=task, args=(), kwargs={})
        with connection.cursor() as cursor:  # the task's work
            cursor.execute("SELECT 1")
        fixup.on_task_postrun(task)
        task_postrun.send(sender=task, task_id="t", task=task, args=(), kwargs={},
                          retval=None, state="SUCCESS")


def uninstall_worker_fixups() -> None:
    """Disconnect every Celery worker fixup a worker_init sent in this process installed
    (tests/runs/test_group_commit.py sends one, and each Celery app in the process has a
    Django fixup that answers it, another app's without this project's CELERY_DB_REUSE_MAX):
    they would close the connection around the tasks these tests drive (a CI run on
    PostgreSQL saw one do it, when both tests ran in one process)."""
    from celery.signals import beat_embedded_init, worker_process_init

    for signal in (task_prerun, task_postrun, beat_embedded_init, worker_process_init):
        for _key, held in list(signal.receivers):
            receiver = held() if isinstance(held, weakref.ReferenceType) else held
            if isinstance(getattr(receiver, "__self__", None), DjangoWorkerFixup):
                signal.disconnect(receiver)


@pytest.fixture
def worker_fixup(monkeypatch):
    uninstall_worker_fixups()
    fixup = DjangoWorkerFixup(app)
    assert fixup.db_reuse_max >= 1_000_000  # the setting reaches Celery
    # Connections kept for a minute, as deployed (the SQLite test settings close each one).
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    connection.close()
    return fixup


@pytest.mark.django_db(transaction=True)  # a worker holds no transaction around its tasks
def test_a_worker_keeps_its_connection_across_tasks(worker_fixup, monkeypatch):
    connection.ensure_connection()
    raw = connection.connection
    # Who closed it, if anything did (this failed once in a CI run on PostgreSQL and never
    # again): the stack of every close() and the connection's state at that moment.
    closes: list[str] = []
    close = connection.close

    def recorded_close() -> None:
        closes.append(f"errors_occurred={connection.errors_occurred} "
                      f"autocommit={connection.autocommit} close_at={connection.close_at} "
                      f"now={time.monotonic()} raw.closed={getattr(raw, 'closed', '?')}\n"
                      + "".join(traceback.format_stack(limit=12)))
        close()

    monkeypatch.setattr(connection, "close", recorded_close)
    _run_tasks(worker_fixup, task, 20)
    assert connection.connection is raw, "\n".join(closes) or "replaced without a close()"


@pytest.mark.django_db(transaction=True)
def test_a_connection_past_its_age_is_replaced_between_tasks(worker_fixup):
    connection.ensure_connection()
    raw = connection.connection
    connection.close_at = time.monotonic() - 1  # CONN_MAX_AGE has passed
    _run_tasks(worker_fixup, task, 1)
    assert connection.connection is not raw


@pytest.mark.django_db(transaction=True)
def test_a_broken_connection_is_replaced_before_the_next_task(worker_fixup):
    if connection.vendor != "postgresql":
        pytest.skip("Django checks the health of PostgreSQL connections, not SQLite's")
    connection.ensure_connection()
    raw = connection.connection
    raw.close()  # the server went away: the next statement fails
    connection.errors_occurred = True
    _run_tasks(worker_fixup, task, 1)  # the task's query runs on a new connection
    assert connection.connection is not raw
