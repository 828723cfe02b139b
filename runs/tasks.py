"""Celery tasks. A task carries only run ids; the runs themselves live in the database.

`acks_late` + `reject_on_worker_lost`: the broker keeps the message until its runs' execution
returns, so a worker killed mid-task gets it re-delivered; re-delivery of a run that finished or
that another executor already took is a no-op (the claim is atomic). The watchdog
(runs/scheduler.py) covers the cases the broker cannot see, such as a whole machine gone.
runs.dispatch sends the task by its name, so dispatch never imports this module.
"""

from __future__ import annotations

import logging

from celery import shared_task

from . import dispatch

logger = logging.getLogger("wfaib.dispatch")

PUBLISH_WAIT = 30.0  # seconds for the publisher thread to hand on this task's runs


@shared_task(name=dispatch.TASK_NAME, acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def execute_runs_task(run_ids: list[int]) -> list[str | None]:
    """The runs one after the other (a process hands out the runs it accepted together as one
    task: WFAIB_CELERY_TASK_RUNS). One run's executor error is logged and the next one runs;
    its run stays as the error left it, for the watchdog to find."""
    outcomes: list[str | None] = []
    try:
        for run_id in run_ids:
            try:
                outcomes.append(dispatch.execute(run_id))
            except Exception:
                logger.exception("run %s: executor error in its Celery task", run_id)
                outcomes.append(None)
    finally:
        # What the runs handed out (runs freed from a concurrency limit, sub-workflow runs) is
        # with the broker before this task is acknowledged, as when it was published in line.
        dispatch.executor().drain(PUBLISH_WAIT)
    return outcomes


@shared_task(name="runs.execute_run", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def execute_run_task(run_id: int) -> str | None:
    """One run: the task of releases before runs were handed out in groups, kept so that the
    messages they left in the broker still execute after an upgrade."""
    return execute_runs_task([run_id])[0]
