"""The Celery executor (WFAIB_EXECUTOR=celery): a Celery task carrying only run ids, published by
this process's publisher thread (runs/task_publisher.py). `runs.dispatch.executor()` loads this
module when the setting chooses it, so a process that runs its workflows inline never imports
Celery and kombu. The task itself is runs/tasks.py.
"""

from __future__ import annotations

import logging
from functools import partial

from django.conf import settings
from kombu import Connection

from wfaib.celery import app as celery_app
from wfaib.conf import wfaib_settings

from .dispatch import TASK_NAME, Executor
from .task_producer import KeptProducer, declare_for, task_queue
from .task_publisher import TaskPublisher, named

logger = logging.getLogger("wfaib.dispatch")

BROKER_TIMEOUT = 2.0  # seconds: a health check must answer quickly even when the broker hangs


class CeleryExecutor(Executor):
    """A Celery task per run, carrying only its id, on the configured broker, published by
    this process's publisher thread (runs/task_publisher.py): the caller, a request that has
    committed its run, does not wait for the broker."""

    name = "celery"
    scheduler_mode = "off"

    def __init__(self) -> None:
        self._publisher = TaskPublisher(
            partial(self._publish, kept=KeptProducer(celery_app)),  # its thread keeps one
            interval=lambda: wfaib_settings.CELERY_PUBLISH_INTERVAL,
            enough=lambda: wfaib_settings.CELERY_TASK_RUNS)

    def submit(self, run_id: int) -> None:
        self._publisher.put(run_id)

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until the tasks of the runs handed out here are published (the runs
        themselves execute in the workers)."""
        return self._publisher.flush(timeout)

    @staticmethod
    def _publish(run_ids: list[int], kept: KeptProducer | None = None) -> None:
        """The ids taken together go out as tasks of up to WFAIB_CELERY_TASK_RUNS runs each
        (Celery's cost is per message, on both sides), through one producer in one batch
        (kombu's `Producer.batch`: one Redis pipeline), each task's args shown as written here
        instead of through Celery's saferepr. The producer is the publisher thread's own
        (`kept`), else one from Celery's pool; the task queue is declared once per connection
        (runs/task_producer.py). A broker that cannot be reached is logged, not raised: the
        runs are committed as `queued` and the scheduler hands them out again
        (WFAIB["REDISPATCH_AFTER"])."""
        try:
            with (kept.use() if kept else celery_app.producer_or_acquire()) as producer, \
                    producer.batch():
                declare = declare_for(producer, task_queue(celery_app, TASK_NAME))
                for ids in task_chunks(run_ids, wfaib_settings.CELERY_TASK_RUNS):
                    celery_app.send_task(TASK_NAME, args=[ids], producer=producer,
                                         argsrepr=f"[{named(ids)}]", kwargsrepr="{}",
                                         declare=declare)
        except Exception:
            logger.exception("runs %s: could not reach the Celery broker; they stay queued",
                             named(run_ids))

    def health(self) -> dict[str, str]:
        return {"broker": "up" if _broker_up() else "down"}


def task_chunks(run_ids: list[int], most: int) -> list[list[int]]:
    """`run_ids` in as few tasks as `most` per task allows, as even as can be (9 ids at 8 per
    task: 5 and 4, not 8 and 1), so that the workers taking them get equal shares."""
    most = max(1, most)
    tasks = -(-len(run_ids) // most)
    if tasks == 0:
        return []
    size, extra = divmod(len(run_ids), tasks)
    chunks, start = [], 0
    for i in range(tasks):
        end = start + size + (1 if i < extra else 0)
        chunks.append(run_ids[start:end])
        start = end
    return chunks


def _broker_up() -> bool:
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT,
                        transport_options={"socket_timeout": BROKER_TIMEOUT,
                                           "socket_connect_timeout": BROKER_TIMEOUT}) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0,
                                   timeout=BROKER_TIMEOUT)
        return True
    except Exception:
        return False
