"""Journals that keep a run's execution in memory (runs.engine.journal has the interface and
the database journal).

    journal = MemoryJournal(run)         # nothing stored; the benchmark and unit tests
    journal = DeferredJournal(run)       # in memory, then the run and its logs in one commit
    journal = QueuedDeferredJournal(run, queued_executions=0)   # the same for a queued run
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from ..models import Run, RunLog
from ..prepared import PreparedUpdate
from . import group_writer
from .answered import answered
from .journal import SUPERSEDED, Journal
from .log_rows import NewRun, insert_children
from .state import RunCancelled, jsonable

# -- memory --------------------------------------------------------------------------------

class MemoryJournal(Journal):
    """Nothing stored: logs are kept in `written`, the run object is updated in place.

    `saved`: checkpoints to resume from; `cancel`: called at every check, True cancels."""

    def __init__(self, run: Run, *, saved: list[RunLog] | None = None,
                 cancel: Callable[[], bool] | None = None):
        super().__init__(run)
        self.saved = list(saved or [])
        self.cancel = cancel
        self.written: list[RunLog] = []
        self._started: set[int] = set()

    def checkpoints(self) -> list[RunLog]:
        return list(self.saved)

    def start(self, log: RunLog) -> None:
        self.flush()
        log.status = RunLog.Status.STARTED
        self._started.add(id(log))
        self.written.append(log)

    def checkpoint(self, log: RunLog) -> None:
        if id(log) not in self._started:
            self.pending.append(log)
        self.flush()

    def flush(self) -> None:
        self.written.extend(self.pending)
        self.pending = []

    def check(self, force: bool = False) -> None:
        if self.cancel is not None and self.cancel():
            raise RunCancelled

    def finish(self, status: str, *, result: Any = None, error: str = "",
               node_id: str = "") -> str:
        if status == Run.Status.SUCCEEDED:
            self.check(force=True)
        self.flush()
        run = self.run
        run.status, run.result, run.error, run.error_node_id = (
            status, jsonable(result), error, node_id)
        run.finished_at, run.heartbeat_at, run.resume_at = timezone.now(), None, None
        return status

    def park(self, resume_at: dt.datetime) -> str:
        self.flush()
        self.run.status, self.run.resume_at = Run.Status.WAITING, resume_at
        return Run.Status.WAITING

    def suspend(self, log: RunLog, resume_at: dt.datetime | None) -> RunLog | None:
        self.check(force=True)
        self.flush()
        self.run.status, self.run.resume_at = Run.Status.WAITING, resume_at
        return None

    def respond(self, response: dict[str, Any]) -> bool:
        if self.run.response is not None:
            return False
        self.run.response = jsonable(response)
        return True

    def fail(self, error: str) -> None:
        self.pending = []
        self.run.status, self.run.error = Run.Status.FAILED, error
        self.run.finished_at = timezone.now()


class DeferredJournal(MemoryJournal):
    """An unsaved run of pure nodes (executor.can_defer): kept in memory, then the run and all
    its logs written in one transaction when it ends. Nobody can cancel or resume a run that
    is not stored yet, and such runs never wait."""

    stored = True  # whether its rows were written (an unsaved run's always are)

    def finish(self, status: str, *, result: Any = None, error: str = "",
               node_id: str = "") -> str:
        super().finish(status, result=result, error=error, node_id=node_id)
        self._store()
        return status

    def fail(self, error: str) -> None:
        super().fail(error)
        self.written = []
        self._store()

    def _store(self) -> None:
        # Committed with other threads' finished runs by this process's writer (group
        # commit), retried on SQLite's lock: a run accepted is never failed by it.
        group_writer.store(self._write())
        self.written = []

    def _write(self) -> group_writer.Write:
        """The run, its logs and model calls as new rows, for the group writer."""
        return NewRun(self.run, self.written, self.model_calls)

    def park(self, resume_at: dt.datetime) -> str:
        raise RuntimeError("a deferred run cannot wait")

    def suspend(self, log: RunLog, resume_at: dt.datetime | None) -> RunLog | None:
        raise RuntimeError("a deferred run cannot wait")


class QueuedDeferredJournal(DeferredJournal):
    """A stored, queued run of pure nodes taken by an executor (executor.execute_queued):
    executed in memory while its row stays `queued`, then claimed and finished by one
    conditional update, with its logs, in one transaction: one commit per run instead of a
    claim's and a finish's.

    The update holds only while the row is still the queued run that was read (not taken by
    another executor, cancelled or re-claimed meanwhile); otherwise nothing is written and the
    execution is superseded. Its nodes are pure, so an execution whose result is dropped did
    nothing outside this process."""

    FIELDS = ("status", "result", "error", "error_node_id", "started_at", "finished_at",
              "heartbeat_at", "resume_at", "executions", "response", "prompt_tokens",
              "completion_tokens", "cost")

    def __init__(self, run: Run, *, queued_executions: int):
        super().__init__(run)
        self.queued_executions = queued_executions
        self.stored = False

    def finish(self, status: str, *, result: Any = None, error: str = "",
               node_id: str = "") -> str:
        super().finish(status, result=result, error=error, node_id=node_id)
        if not self.stored:
            return SUPERSEDED
        if self.run.response is not None:  # a request of this process waiting for it
            answered(self.run.pk, self.run.response)
        return status

    def _write(self) -> group_writer.Write:
        return ClaimAndFinish(self, self.written)


@dataclass(eq=False)
class ClaimAndFinish:
    """A queued run's claim-and-finish with its logs, as one write for the group writer: called
    alone, or with the others of a batch by `together` (an UPDATE per run, then the logs of
    every run it stored in one INSERT). Sets each journal's `stored`; may be called again
    after a rolled-back attempt."""

    journal: QueuedDeferredJournal
    logs: list[RunLog]

    def __call__(self) -> None:
        ClaimAndFinish.together([self])

    @staticmethod
    def together(writes: list[ClaimAndFinish]) -> None:
        children = []
        for write in writes:
            journal = write.journal
            run = journal.run
            journal.stored = bool(_CLAIM_AND_FINISH.update(
                {field: getattr(run, field) for field in journal.FIELDS},
                pk=run.pk, executions=journal.queued_executions))
            if journal.stored:
                children.append((run, write.logs, journal.model_calls))
        insert_children(children)


# Still the queued run that was read (not taken, cancelled or re-claimed meanwhile): claimed
# and finished in one statement, compiled once per thread (runs/prepared.py).
_CLAIM_AND_FINISH = PreparedUpdate(
    lambda pk, executions: Run.objects.filter(pk=pk, status=Run.Status.QUEUED,
                                              executions=executions, cancel_requested=False),
    fields=QueuedDeferredJournal.FIELDS)
