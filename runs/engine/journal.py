"""The journal: every write of one run's execution goes through it.

    journal = DatabaseJournal(run)       # the real one: RunLogs and the Run row
    # and in memory_journals.py: MemoryJournal (nothing stored), DeferredJournal (in memory,
    # then the run and its logs in one commit), QueuedDeferredJournal (the same, queued run)

The engine (executor.py) decides *what* happened; the journal records it: `checkpoints()` (the
logs a resumed run continues from), `add` (a log written with the next flush), `start` (a
`started` row before a side effect), `checkpoint` (a finished node's log, now), `flush`,
`check` (cancelled? superseded?), `finish`, `park` (waiting for a retry), `suspend` (waiting in
a node), `settle_wait`, `respond`, `fail` and `record_usage` (the cost ledger).

Fencing: a Run's `executions` counts its claims. Every write that ends or parks a run is
conditional on the claim this execution holds, so an execution the watchdog took for dead never
overwrites the run another one now executes (it gets RunSuperseded / SUPERSEDED).

A short database outage (a restart, a dropped connection) must not repeat a finished side
effect: each database journal write runs again on a fresh connection, with backoff, before the
error is given up (`DB_RETRIES`). Writes are either conditional updates or inserts of rows not
yet stored, so trying again is safe.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from nodes.context import ModelUsage
from workflows.models import Workflow

from .. import tenancy
from ..models import ModelCall, Run, RunLog
from ..prepared import PreparedRead
from .answered import answered
from .log_rows import insert_logs
from .state import RunCancelled, RunSuperseded, jsonable
from .wait_record import WaitRecord

logger = logging.getLogger("wfaib.engine")

CANCEL_CHECK_INTERVAL = 0.5  # seconds between cancellation / fencing checks
LOG_BUFFER = 500  # buffered logs written in one go
DB_RETRIES = 8  # attempts after the first, on a fresh connection each
DB_BACKOFF = (0.05, 2.0)  # first delay, cap (doubling in between)

# What execute() returns when another execution holds the run now.
SUPERSEDED = "superseded"


class Journal:
    """The interface (and the bookkeeping every implementation shares: the log buffer)."""

    def __init__(self, run: Run):
        self.run = run
        self.pending: list[RunLog] = []
        self.model_calls: list[ModelCall] = []  # what record_usage wrote (or kept)

    # -- logs --------------------------------------------------------------------------------
    def checkpoints(self) -> list[RunLog]:
        """The top-level logs of earlier executions, oldest first."""
        raise NotImplementedError

    def add(self, log: RunLog) -> None:
        """A log written with the next flush (pure nodes, skips, loop bodies)."""
        self.pending.append(log)
        if len(self.pending) >= LOG_BUFFER:
            self.flush()

    def start(self, log: RunLog) -> None:
        """Store a `started` row before a node with side effects runs (crash safety)."""
        raise NotImplementedError

    def checkpoint(self, log: RunLog) -> None:
        """Store a finished log now (the `started` row updated, or a new row)."""
        raise NotImplementedError

    def flush(self) -> None:
        raise NotImplementedError

    def discard(self) -> None:
        self.pending = []

    # -- the run -----------------------------------------------------------------------------
    def check(self, force: bool = False) -> None:
        """Raise RunSuperseded or RunCancelled when this execution must stop."""

    def finish(self, status: str, *, result: Any = None, error: str = "",
               node_id: str = "") -> str:
        """End the run; returns `status`, or SUPERSEDED. A run asked to cancel while it was
        about to succeed raises RunCancelled instead (the caller ends it cancelled)."""
        raise NotImplementedError

    def park(self, resume_at: dt.datetime) -> str:
        """Set the run waiting until `resume_at` (a retry's delay); WAITING or SUPERSEDED."""
        raise NotImplementedError

    def suspend(self, log: RunLog, resume_at: dt.datetime | None) -> RunLog | None:
        """Set the run waiting on node `log`. Returns the log as resumed meanwhile (the run
        goes on), or None once the run is parked. Raises RunCancelled when cancellation was
        requested meanwhile."""
        raise NotImplementedError

    def settle_wait(self, log: RunLog, **changes: Any) -> None:
        """A waiting node's log as the wait ended (succeeded or failed)."""
        for key, value in changes.items():
            setattr(log, key, value)

    def respond(self, response: dict[str, Any]) -> bool:
        """Store the webhook's answer unless one is stored; whether this one was."""
        raise NotImplementedError

    def fail(self, error: str) -> None:
        """The engine broke: end the run failed with `error`, whatever state it is in."""
        raise NotImplementedError

    def record_usage(self, *, node_id: str, scope: str, attempt: int,
                     entries: Sequence[ModelUsage]) -> None:
        """The model calls of one node attempt: ledger rows and the run's totals. Written
        whatever became of the run (never fenced): the calls were made and paid for."""
        calls = [ModelCall(run=self.run, workflow_id=self.run.workflow_id,
                           project_id=self.run.workflow.project_id, node_id=node_id,
                           scope=scope, attempt=attempt, provider=e["provider"][:32],
                           model=e["model"][:200], prompt_tokens=e["prompt_tokens"],
                           completion_tokens=e["completion_tokens"],
                           cached_tokens=e["cached_tokens"],
                           cost=Decimal(str(e["cost"])) if e["cost"] is not None else None)
                 for e in entries]
        self._store_usage(calls)
        self.model_calls.extend(calls)
        run = self.run
        run.prompt_tokens = (run.prompt_tokens or 0) + sum(c.prompt_tokens for c in calls)
        run.completion_tokens = (run.completion_tokens or 0) + sum(c.completion_tokens
                                                                   for c in calls)
        run.cost = Decimal(run.cost or 0) + sum((c.cost or Decimal(0) for c in calls),
                                                Decimal(0))

    def _store_usage(self, calls: list[ModelCall]) -> None:
        """Nothing stored (memory journals keep `model_calls`)."""


# -- the database --------------------------------------------------------------------------

def _retrying[T](what: str, run_id: Any, fn: Callable[[], T]) -> T:
    """fn(), tried again on a fresh connection after a lost one (outside transactions only:
    inside one, the caller's whole transaction is what must be tried again)."""
    delay = DB_BACKOFF[0]
    for attempt in range(DB_RETRIES + 1):
        try:
            return fn()
        except (OperationalError, InterfaceError) as exc:
            if connection.in_atomic_block or attempt == DB_RETRIES:
                raise
            logger.warning("run %s: %s failed (%s); retrying on a new connection in %.2fs",
                           run_id, what, str(exc).strip().splitlines()[0] if str(exc) else
                           type(exc).__name__, delay)
            connection.close()
            time.sleep(delay)
            delay = min(delay * 2, DB_BACKOFF[1])
    raise AssertionError("unreachable")  # pragma: no cover


class DatabaseJournal(Journal):
    """RunLogs and the Run row, fenced by the claim count, written again after a lost
    connection."""

    def __init__(self, run: Run):
        super().__init__(run)
        self.last_check = time.monotonic()

    def _ours(self) -> Any:
        return Run.objects.filter(pk=self.run.pk, executions=self.run.executions,
                                  status=Run.Status.RUNNING)

    def checkpoints(self) -> list[RunLog]:
        return _retrying("loading checkpoints", self.run.pk,
                         lambda: list(self.run.logs.filter(scope="").order_by("id")))

    def start(self, log: RunLog) -> None:
        self.flush()
        log.status = RunLog.Status.STARTED
        _retrying("recording a node's start", self.run.pk, log.save)

    def checkpoint(self, log: RunLog) -> None:
        if log.pk:
            _retrying("saving a node's log", self.run.pk, lambda: log.save(update_fields=[
                "status", "output", "error", "ports", "duration_ms", "finished_at", "usage"]))
            return
        self.pending.append(log)
        self.flush()

    def flush(self) -> None:
        if self.pending:
            _retrying("saving node logs", self.run.pk, self._write_pending)
            self.pending = []

    def _write_pending(self) -> None:
        """Insert the buffered logs; the caller empties the buffer once this is committed."""
        if self.pending:
            insert_logs(self.pending)

    def check(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_check < CANCEL_CHECK_INTERVAL:
            return
        self.last_check = now
        # The heartbeat itself is written by runs.heartbeat's thread (execute_run's `beating`).
        row = _retrying("checking for cancellation", self.run.pk, lambda: Run.objects.filter(
            pk=self.run.pk).values_list("cancel_requested", "executions", "status").first())
        if row is None or row[1] != self.run.executions or row[2] != Run.Status.RUNNING:
            raise RunSuperseded  # executions is the fencing token: a re-claim bumped it
        if row[0]:
            raise RunCancelled

    def finish(self, status: str, *, result: Any = None, error: str = "",
               node_id: str = "") -> str:
        changes = {"status": status, "result": jsonable(result), "error": error,
                   "error_node_id": node_id, "finished_at": timezone.now(),
                   "heartbeat_at": None, "resume_at": None}
        # A cancellation requested while the last node ran wins over success.
        guard = Q(cancel_requested=False) if status == Run.Status.SUCCEEDED else Q()

        def write() -> bool:
            with transaction.atomic():
                if not self._ours().filter(guard).update(**changes):
                    return False
                self._write_pending()
                return True

        if not _retrying("finishing the run", self.run.pk, write):
            self.check(force=True)  # raises RunCancelled or RunSuperseded
            return SUPERSEDED
        self.pending = []
        for key, value in changes.items():  # callers holding this Run see how it ended
            setattr(self.run, key, value)
        return status

    def park(self, resume_at: dt.datetime) -> str:
        def write() -> bool:
            with transaction.atomic():
                if not self._ours().filter(cancel_requested=False).update(
                        status=Run.Status.WAITING, resume_at=resume_at, heartbeat_at=None):
                    return False
                self._write_pending()
                return True

        if not _retrying("parking the run", self.run.pk, write):
            self.check(force=True)
            return SUPERSEDED
        self.pending = []
        self.run.status, self.run.resume_at = Run.Status.WAITING, resume_at
        return Run.Status.WAITING

    def suspend(self, log: RunLog, resume_at: dt.datetime | None) -> RunLog | None:
        def write() -> RunLog | str | None:
            with transaction.atomic():
                self._write_pending()
                # The same row lock the resume service takes: either it sees `waiting` and
                # queues the run, or we see its "resumed" mark here.
                row = (Run.objects.select_for_update().filter(pk=self.run.pk)
                       .values_list("cancel_requested", "executions", "status").first())
                if row is None or row[1] != self.run.executions or \
                        row[2] != Run.Status.RUNNING:
                    return "superseded"
                if row[0]:
                    return "cancelled"
                fresh = RunLog.objects.filter(pk=log.pk).first()
                if fresh is not None and WaitRecord.from_json(fresh.output).resumed:
                    return fresh
                Run.objects.filter(pk=self.run.pk).update(
                    status=Run.Status.WAITING, resume_at=resume_at, heartbeat_at=None)
                return None

        outcome = _retrying("suspending the run", self.run.pk, write)
        self.pending = []
        if outcome == "superseded":
            raise RunSuperseded
        if outcome == "cancelled":
            raise RunCancelled
        return outcome  # type: ignore[return-value]

    def settle_wait(self, log: RunLog, **changes: Any) -> None:
        super().settle_wait(log, **changes)
        _retrying("saving a wait's end", self.run.pk,
                  lambda: RunLog.objects.filter(pk=log.pk).update(**changes))

    def respond(self, response: dict[str, Any]) -> bool:
        stored = jsonable(response)
        done = bool(_retrying("storing the webhook answer", self.run.pk, lambda: (
            Run.objects.filter(pk=self.run.pk, response__isnull=True)
            .update(response=stored))))
        if done:  # a request of this process waiting for it: told once the row is committed
            run_id = self.run.pk
            transaction.on_commit(lambda: answered(run_id, stored))
        return done

    def _store_usage(self, calls: list[ModelCall]) -> None:
        prompt = sum(c.prompt_tokens for c in calls)
        completion = sum(c.completion_tokens for c in calls)
        cost = sum((c.cost or Decimal(0) for c in calls), Decimal(0))

        def write() -> None:
            with transaction.atomic():
                ModelCall.objects.bulk_create(calls)
                Run.objects.filter(pk=self.run.pk).update(
                    prompt_tokens=F("prompt_tokens") + prompt,
                    completion_tokens=F("completion_tokens") + completion,
                    cost=F("cost") + cost)

        _retrying("recording model usage", self.run.pk, write)

    def fail(self, error: str) -> None:
        self.pending = []
        _retrying("failing the run", self.run.pk, lambda: Run.objects.filter(
            pk=self.run.pk).update(status=Run.Status.FAILED, error=error,
                                   finished_at=timezone.now(), heartbeat_at=None))


# -- claims --------------------------------------------------------------------------------

def claim(run_id: int) -> Run | None:
    """Take a queued run for execution (queued -> running); None when it is not queued (taken,
    finished, cancelled) or its workflow's `max_concurrency` has no free slot for it yet.

    With a limit, claims of one workflow's runs are serialized by a lock on the workflow row
    (PostgreSQL; SQLite's IMMEDIATE transactions serialize all writers), and a run is taken only
    if it is among the oldest queued runs that fit, so queued runs start in order."""
    now = timezone.now()
    changes = {"status": Run.Status.RUNNING, "started_at": Coalesce(F("started_at"), now),
               "heartbeat_at": now, "executions": F("executions") + 1}
    with transaction.atomic():
        if not tenancy.has_room(run_id):  # its tenant has WFAIB_TENANT_MAX_RUNNING running
            return None  # stays queued; runs.dispatch hands it out when one of those ends
        # Fast path, one statement: no limit on this workflow.
        claimed = Run.objects.filter(
            pk=run_id, status=Run.Status.QUEUED, workflow__max_concurrency__isnull=True
        ).update(**changes)
        if not claimed and not _claim_limited(run_id, changes):
            return None
    return _CLAIMED_RUN.first(pk=run_id)  # None: deleted since the claim


# The run just claimed, with its version and workflow: SQL compiled once (runs/prepared.py).
_CLAIMED_RUN = PreparedRead(lambda pk: Run.objects.select_related("version", "workflow")
                            .filter(pk=pk))


def _claim_limited(run_id: int, changes: dict[str, Any]) -> bool:
    row = (Run.objects.filter(pk=run_id, status=Run.Status.QUEUED)
           .values("workflow_id", "workflow__max_concurrency", "created_at").first())
    if row is None or row["workflow__max_concurrency"] is None:
        return False
    workflow_id, limit = row["workflow_id"], row["workflow__max_concurrency"]
    list(Workflow.objects.select_for_update().filter(pk=workflow_id).values_list("pk"))
    runs = Run.objects.filter(workflow_id=workflow_id)
    running = runs.filter(status=Run.Status.RUNNING).count()
    ahead = runs.filter(status=Run.Status.QUEUED).filter(
        Q(created_at__lt=row["created_at"]) | Q(created_at=row["created_at"], pk__lt=run_id)
    ).count()
    if running + ahead >= limit:
        return False  # stays queued; runs.dispatch hands it out when a slot frees
    return bool(Run.objects.filter(pk=run_id, status=Run.Status.QUEUED).update(**changes))
