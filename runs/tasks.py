"""Celery tasks. A task carries only the run id; the run itself lives in the database.

`acks_late` + `reject_on_worker_lost`: the broker keeps the message until the run's execution
returns, so a worker killed mid-run gets it re-delivered; re-delivery of a run that another
executor already took is a no-op (the claim is atomic). The watchdog (runs/scheduler.py) covers
the cases the broker cannot see, such as a whole machine gone. runs.dispatch sends the task by
its name, so dispatch never imports this module.
"""

from __future__ import annotations

from celery import shared_task

from . import dispatch

PUBLISH_WAIT = 30.0  # seconds for the publisher thread to hand on this task's runs


@shared_task(name=dispatch.TASK_NAME, acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def execute_run_task(run_id: int) -> str | None:
    try:
        return dispatch.execute(run_id)
    finally:
        # What the run handed out (runs freed from a concurrency limit, sub-workflow runs) is
        # with the broker before this task is acknowledged, as when it was published in line.
        dispatch.executor().drain(PUBLISH_WAIT)
