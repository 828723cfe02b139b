"""Celery tasks. A task carries only run ids; the runs themselves live in the database.

`acks_late` + `reject_on_worker_lost`: the broker keeps the message until its runs' execution
returns, so a worker killed mid-task gets it re-delivered; re-delivery of a run that finished or
that another executor already took is a no-op (the claim is atomic). The watchdog
(runs/scheduler.py) covers the cases the broker cannot see, such as a whole machine gone.
runs.dispatch sends the task by its name, so dispatch never imports this module.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

from celery import shared_task

from wfaib.celery import app  # noqa: F401 (@shared_task binds to WFAIB's app, loaded first)

from . import dispatch
from .task_publisher import named

logger = logging.getLogger("wfaib.dispatch")

PUBLISH_WAIT = 30.0  # seconds for the publisher thread to hand on this task's runs
HAND_BACK_AFTER = 0.5  # seconds: a task still busy then hands back the runs it has not begun


@shared_task(name=dispatch.TASK_NAME, acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def execute_runs_task(run_ids: list[int]) -> list[str | None]:
    """The runs one after the other (a process hands out the runs it accepted together as one
    task: WFAIB_CELERY_TASK_RUNS); the outcome of each, None for a run not begun here. A task
    still busy after HAND_BACK_AFTER seconds (a slow run) hands the runs it has not begun back
    to the broker, for idle workers to take, instead of holding them behind the slow one. One
    run's executor error is logged and the next one runs; its run stays as the error left it,
    for the watchdog to find."""
    waiting, lock = deque(run_ids), threading.Lock()
    outcomes: dict[int, str | None] = {}

    def hand_back() -> None:
        with lock:
            rest = list(waiting)
            waiting.clear()
        if rest:
            logger.info("runs %s handed back: their task is busy with a slow run", named(rest))
            dispatch.dispatch_runs(rest)

    timer = threading.Timer(HAND_BACK_AFTER, hand_back) if len(run_ids) > 1 else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        while True:
            with lock:
                if not waiting:
                    break
                run_id = waiting.popleft()
            try:
                outcomes[run_id] = dispatch.execute(run_id)
            except Exception:
                logger.exception("run %s: executor error in its Celery task", run_id)
                outcomes[run_id] = None
    finally:
        if timer is not None:
            timer.cancel()
            timer.join()  # a hand-back under way is done (its runs put) before the drain
        # What the runs handed out (runs freed from a concurrency limit, sub-workflow runs) is
        # with the broker before this task is acknowledged, as when it was published in line.
        dispatch.executor().drain(PUBLISH_WAIT)
    return [outcomes.get(run_id) for run_id in run_ids]


@shared_task(name="runs.execute_run", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def execute_run_task(run_id: int) -> str | None:
    """One run: the task of releases before runs were handed out in groups, kept so that the
    messages they left in the broker still execute after an upgrade."""
    return execute_runs_task([run_id])[0]
