"""Run retention: delete finished runs (with their logs) past a maximum age and/or beyond a
maximum count per workflow, in short batches, then give SQLite's free pages back.

    run_prune()                    # what the policy says, now; returns a PruneResult
    run_prune(dry_run=True)        # only count what would go
    run_prune_if_due(now=...)      # the scheduler loop: every WFAIB_RUN_PRUNE_INTERVAL seconds

The policy of a workflow: `Workflow.retention_days` / `retention_max_runs` when set (0 = no
limit), else WFAIB_RUN_RETENTION_DAYS / WFAIB_RUN_RETENTION_MAX_RUNS. Only finished runs
(succeeded, failed, cancelled) are ever deleted; queued, running and waiting runs stay whatever
their age. The count cap keeps a workflow's newest finished runs (by created_at, then id).

Both rules pick a suffix of the same order (oldest first), so what goes is the longer of the
two suffixes. Deletion takes WFAIB_RUN_PRUNE_BATCH runs per transaction (their RunLogs and
RunFiles go by the cascade in the same transaction; the files' stored bytes once it commits,
by the RunFile post_delete receiver of runs/files.py), so a writer never waits long behind
the pruner. On SQLite
`PRAGMA incremental_vacuum` then returns the freed pages to the file system (the database is
switched to auto_vacuum=INCREMENTAL by migration runs 0005), so the file stops growing.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from wfaib.conf import wfaib_settings
from workflows.models import Workflow

from .models import Run

logger = logging.getLogger("wfaib.retention")

# A scheduler tick deletes at most this many batches, then lets the other steps run; the
# next tick goes on where it stopped.
MAX_BATCHES_PER_TICK = 20


@dataclass(frozen=True)
class Policy:
    days: int  # 0: no age limit
    max_runs: int  # 0: no count cap

    @classmethod
    def of(cls, workflow: dict) -> Policy:
        days = workflow["retention_days"]
        max_runs = workflow["retention_max_runs"]
        return cls(
            days=int(wfaib_settings.RUN_RETENTION_DAYS if days is None else days),
            max_runs=int(wfaib_settings.RUN_RETENTION_MAX_RUNS if max_runs is None else max_runs),
        )

    @property
    def keeps_all(self) -> bool:
        return self.days <= 0 and self.max_runs <= 0


@dataclass
class PruneResult:
    deleted: int = 0  # runs deleted (or that would be, in a dry run)
    logs: int = 0  # their run logs
    by_workflow: dict[int, int] = field(default_factory=dict)
    complete: bool = True  # False: stopped at max_batches; more is due


def _finished(workflow_id: int) -> QuerySet[Run]:
    return Run.objects.filter(workflow_id=workflow_id, status__in=Run.FINISHED)


def _oldest_first(qs: QuerySet[Run]) -> QuerySet[Run]:
    return qs.order_by("created_at", "id")


def excess(workflow_id: int, policy: Policy, now: dt.datetime) -> int:
    """How many of the workflow's finished runs the policy deletes (the oldest ones)."""
    finished = _finished(workflow_id)
    by_age = 0
    if policy.days > 0:
        by_age = finished.filter(created_at__lt=now - dt.timedelta(days=policy.days)).count()
    by_count = 0
    if policy.max_runs > 0:
        by_count = max(0, finished.count() - policy.max_runs)
    return max(by_age, by_count)


def _next_batch(workflow_id: int, policy: Policy, now: dt.datetime, size: int) -> list[int]:
    """Ids of the next runs to delete: first those past the age, then those beyond the cap
    (recomputed each batch, so runs that finish meanwhile are judged as they are then)."""
    finished = _oldest_first(_finished(workflow_id))
    if policy.days > 0:
        cutoff = now - dt.timedelta(days=policy.days)
        ids = list(finished.filter(created_at__lt=cutoff).values_list("id", flat=True)[:size])
        if ids:
            return ids
    if policy.max_runs > 0:
        newest_first = finished.reverse()
        return list(newest_first.values_list("id", flat=True)
                    [policy.max_runs:policy.max_runs + size])
    return []


def _delete(ids: list[int]) -> tuple[int, int]:
    """Delete these runs and their logs in one short transaction."""
    with transaction.atomic():
        _total, per_model = Run.objects.filter(pk__in=ids).delete()
    return per_model.get("runs.Run", 0), per_model.get("runs.RunLog", 0)


def run_prune(*, dry_run: bool = False, now: dt.datetime | None = None,
              workflow_id: int | None = None, max_batches: int | None = None) -> PruneResult:
    """Apply every workflow's retention policy (or one workflow's). See the module docstring."""
    now = now or timezone.now()
    size = max(1, int(wfaib_settings.RUN_PRUNE_BATCH))
    result = PruneResult()
    workflows = Workflow.objects.values("id", "retention_days", "retention_max_runs")
    if workflow_id is not None:
        workflows = workflows.filter(pk=workflow_id)
    batches = 0
    for row in workflows.order_by("id"):
        policy = Policy.of(row)
        if policy.keeps_all:
            continue
        if dry_run:
            count = excess(row["id"], policy, now)
            if count:
                result.by_workflow[row["id"]] = count
                result.deleted += count
            continue
        while ids := _next_batch(row["id"], policy, now, size):
            if max_batches is not None and batches >= max_batches:
                result.complete = False
                return result
            runs, logs = _delete(ids)
            batches += 1
            result.deleted += runs
            result.logs += logs
            result.by_workflow[row["id"]] = result.by_workflow.get(row["id"], 0) + runs
    if result.deleted and not dry_run:
        reclaim_space()
    return result


def reclaim_space() -> None:
    """SQLite: give free pages back to the file system (auto_vacuum=INCREMENTAL), and
    checkpoint the WAL so the main file shrinks now. Nothing to do on PostgreSQL, whose
    autovacuum makes the space reusable."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return  # (in a caller's transaction: its commit would hold the pages anyway)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA incremental_vacuum")
        cursor.fetchall()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.fetchall()


_next_due: dt.datetime | None = None
_due_lock = threading.Lock()


def run_prune_if_due(*, now: dt.datetime | None = None) -> PruneResult | None:
    """For the scheduler loop: prune every WFAIB_RUN_PRUNE_INTERVAL seconds, at most
    MAX_BATCHES_PER_TICK batches per tick (an unfinished pass goes on at the next tick).
    Several schedulers pruning at once delete the same rows at most once."""
    global _next_due
    interval = float(wfaib_settings.RUN_PRUNE_INTERVAL)
    now = now or timezone.now()
    if interval <= 0:
        return None
    with _due_lock:
        if _next_due is not None and now < _next_due:
            return None
        _next_due = now + dt.timedelta(seconds=interval)
    try:
        result = run_prune(now=now, max_batches=MAX_BATCHES_PER_TICK)
    except Exception:
        with _due_lock:
            _next_due = None  # try again at the next tick (say, the database was down)
        raise
    if not result.complete:
        with _due_lock:
            _next_due = now  # go on at the next tick
        if result.deleted:
            reclaim_space()
    if result.deleted:
        logger.info("pruned %d runs (%d logs)", result.deleted, result.logs)
    return result


def reset_schedule() -> None:
    """Tests: make the next run_prune_if_due prune."""
    global _next_due
    with _due_lock:
        _next_due = None
