"""Nothing accepted is ever lost: the watchdog, due waits, and queued runs left behind.

    run_recover_stale()        # running runs whose heartbeat stopped: re-queue (or fail)
    run_resume_due()           # waiting runs whose resume_at came: queue again
    run_redispatch_queued()    # queued runs no executor took for a while: hand out again
    run_recover_on_startup()   # a process starting: hand out every queued run

All are safe to call from several processes at once: each state change is a conditional UPDATE
(only the caller whose UPDATE matched dispatches), and dispatching a run twice is harmless
because execution starts with an atomic claim. The scheduler loop (runs/scheduler.py) calls them
every tick. A re-queued run resumes after its last completed node: completed nodes are
checkpoints (RunLogs), and a side-effecting node that was cut off mid-way (a `started` log) is
the only one run again.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from wfaib.conf import wfaib_settings

from . import dispatch
from .heartbeat import heartbeat
from .models import Run, RunLog
from .services import run_start_error_workflow

logger = logging.getLogger("wfaib.recovery")

BATCH = 500  # runs handled per call; the next tick takes the rest



def run_recover_stale(*, now: dt.datetime | None = None) -> list[int]:
    """Re-queue and re-dispatch `running` runs whose heartbeat is older than HEARTBEAT_TIMEOUT;
    fail those already recovered MAX_RECOVERIES times (with the reason), and finish those whose
    cancellation was requested. Returns the ids re-queued."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=wfaib_settings.HEARTBEAT_TIMEOUT)
    max_recoveries = int(wfaib_settings.MAX_RECOVERIES)
    stale_q = Q(status=Run.Status.RUNNING) & (
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    # A run this very process executes is alive even if its heartbeat lags (say, the machine
    # slept): never hand it out twice.
    mine = heartbeat.active()
    stale = list(Run.objects.filter(stale_q).exclude(pk__in=mine)
                 .values("id", "recoveries", "cancel_requested", "heartbeat_at")[:BATCH])
    requeued: list[int] = []
    ended: list[int] = []
    failed: list[int] = []
    for row in stale:
        with transaction.atomic():
            outcome = _recover_one(row, stale_q, now, max_recoveries)
        if outcome == "requeued":
            requeued.append(row["id"])
        elif outcome in ("ended", "failed"):
            ended.append(row["id"])
            if outcome == "failed":
                failed.append(row["id"])
    dispatch.dispatch_runs(requeued)
    for run_id in ended:  # their slots under max_concurrency are free now
        dispatch.release_slots(run_id)
    for run in Run.objects.filter(pk__in=failed):  # as for any failed run
        try:
            run_start_error_workflow(run=run)
        except Exception:
            logger.exception("run %s: starting its error workflow failed", run.pk)
    return requeued


def _recover_one(row: dict, stale_q: Q, now: dt.datetime, max_recoveries: int) -> str:
    """Re-queue, fail or cancel one stale run, in the caller's transaction. Returns
    "requeued", "failed", "ended" (cancelled) or "" (someone else changed it first)."""
    still_stale = Run.objects.filter(stale_q, pk=row["id"])
    last = row["heartbeat_at"].isoformat() if row["heartbeat_at"] else "never"
    changed = requeued = failed = False
    if row["cancel_requested"]:
        changed = bool(still_stale.update(status=Run.Status.CANCELLED, heartbeat_at=None,
                                          error="cancelled by request", finished_at=now))
    elif row["recoveries"] >= max_recoveries:
        changed = bool(still_stale.update(
            status=Run.Status.FAILED, finished_at=now, heartbeat_at=None,
            error=(f"the process executing this run stopped (last heartbeat {last}); it was "
                   f"recovered {row['recoveries']} times, the limit is {max_recoveries}"),
        ))
        if changed:
            failed = True
            logger.error("run %s: executor lost again; failed after %s recoveries",
                         row["id"], row["recoveries"])
    elif still_stale.update(status=Run.Status.QUEUED, heartbeat_at=now,
                            recoveries=row["recoveries"] + 1):
        logger.warning("run %s: no heartbeat since %s; re-queued", row["id"], last)
        requeued = True
    if changed or requeued:
        # Nodes cut off mid-way show as failed attempts (the next execution runs them again).
        RunLog.objects.filter(run_id=row["id"], status=RunLog.Status.STARTED).update(
            status=RunLog.Status.FAILED, finished_at=now,
            error="interrupted: the process executing this node stopped",
        )
    return "requeued" if requeued else "failed" if failed else "ended" if changed else ""


def run_resume_due(*, now: dt.datetime | None = None) -> list[int]:
    """Queue and dispatch `waiting` runs whose `resume_at` has come."""
    now = now or timezone.now()
    due = list(Run.objects.filter(status=Run.Status.WAITING, resume_at__lte=now)
               .order_by("resume_at").values_list("id", flat=True)[:BATCH])
    resumed = [
        run_id for run_id in due
        if Run.objects.filter(pk=run_id, status=Run.Status.WAITING, resume_at__lte=now)
        .update(status=Run.Status.QUEUED, heartbeat_at=now)
    ]
    dispatch.dispatch_runs(resumed)
    return resumed


def _mark_and_dispatch(queryset, now: dt.datetime) -> list[int]:
    ids = list(queryset.order_by("created_at", "id").values_list("id", flat=True)[:BATCH])
    # heartbeat_at of a queued run = when it was last handed out.
    Run.objects.filter(pk__in=ids, status=Run.Status.QUEUED).update(heartbeat_at=now)
    dispatch.dispatch_runs(ids)
    return ids


def run_redispatch_queued(*, now: dt.datetime | None = None) -> list[int]:
    """Hand out again queued runs not taken within REDISPATCH_AFTER seconds (a lost broker
    message, a process that died with runs in its pool, a slot freed by a run whose executor
    died)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=wfaib_settings.REDISPATCH_AFTER)
    old = Run.objects.filter(status=Run.Status.QUEUED).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    )
    return _mark_and_dispatch(old, now)


def run_recover_on_startup(*, now: dt.datetime | None = None) -> list[int]:
    """A process that executes runs is starting: hand out the queued runs left behind (those in
    the pool of a process that stopped, or never handed out)."""
    now = now or timezone.now()
    ids: list[int] = []
    left = Run.objects.filter(status=Run.Status.QUEUED).filter(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now))
    while batch := _mark_and_dispatch(left, now):
        ids.extend(batch)
    return ids
