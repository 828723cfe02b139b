"""RunLog objects built and stored fast: one per node attempt, so a cheap node pays for its
constructor and its row; and a new run's own row.

    run = new_run(workflow=w, version=v, trigger="webhook", input=body)  # Run(...), faster
    log = new_log(run, node_id="t1", node_type="transform", started_at=now, input=3)
    insert_logs([log, ...])      # RunLog.objects.bulk_create(...) without the query compiler
    NewRun(run, logs, calls)()   # a new run's row, then its logs and model calls
    NewRun.together([a, b, c])   # several new runs: one INSERT for the runs, one for the logs
    NewRun.one_statement([a, b])()  # all of it in one statement, committed (see there)

A log is the same object `RunLog(run=run, ...)` gives (its run cached on it, so an unsaved
run's id is taken when the run is stored), built as runs.unsaved.Unsaved builds one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import connection
from django.db.models import signals

from ..models import ModelCall, Run, RunLog
from ..prepared_inserts import PreparedInsert, PreparedInsertWithChildren
from ..unsaved import Unsaved

_NEW_LOG = Unsaved(RunLog)
new_run = Unsaved(Run)  # new_run(workflow=w, version=v, ...): what Run(...) gives, faster


def new_log(run: Run, **values: Any) -> RunLog:
    """A new, unsaved RunLog of `run` with these field values (by field name)."""
    return _NEW_LOG(run=run, **values)


# The logs' INSERT is written out, not compiled by Django each time (runs/prepared_inserts.py).
_INSERT_LOGS = PreparedInsert(RunLog)
insert_logs = _INSERT_LOGS.insert

_INSERT_RUN = PreparedInsert(Run)
# A log's relations but its run, which insert_children sets to a stored run itself.
_LOG_RELATIONS = [field for field in _INSERT_LOGS.fields
                  if field.is_relation and field.name != "run"]
_LOG_RUN = RunLog._meta.get_field("run")
_INSERT_RUN_AND_LOGS = PreparedInsertWithChildren(_INSERT_RUN, _INSERT_LOGS, link="run")


@dataclass(eq=False)
class NewRun:
    """A new run's row with its logs and model calls (a pure node may call a model), as one
    write for the group writer (runs/engine/group_writer.py), which calls it alone or hands
    the new runs of a batch to `together`. May be called again after a rolled-back attempt:
    the keys are dropped and the rows inserted anew."""

    run: Run
    logs: list[RunLog] = field(default_factory=list)
    calls: list[ModelCall] = field(default_factory=list)

    def __call__(self) -> None:
        NewRun.together([self])

    @staticmethod
    def one_statement(writes: list[NewRun]) -> Callable[[], None] | None:
        """The one statement that writes these runs and their logs, committed by itself
        without a transaction around it, prepared (called, it runs), where that applies: no
        model calls, no Run signals, outside a transaction, and either every run with a log
        (PostgreSQL only: runs.prepared_inserts.PreparedInsertWithChildren) or none with any (runs
        accepted to run later: one INSERT of the runs, on either database); otherwise None,
        and nothing is written."""
        return _one_statement(writes)

    @staticmethod
    def together(writes: list[NewRun]) -> None:
        """Every run's row in one INSERT and every log's in another (fewer round trips and
        statements than a run at a time). Through Model.save when something listens to
        Run's pre_save or post_save, so that it gets its signals."""
        NewRun.prepared_together(writes)()

    @staticmethod
    def prepared_together(writes: list[NewRun]) -> Callable[[], None]:
        """`together(writes)` in two steps: both INSERTs' parameters now (the logs' run
        read when they run), the statements when the result is called (the group writer
        prepares before it takes the writers' lock)."""
        runs = _as_new([write.run for write in writes])
        if _run_signals():
            return partial(_saved_one_by_one, writes)
        insert_runs = _INSERT_RUN.prepared(runs)
        logs: list[RunLog] = []
        for write in writes:
            for log in write.logs:
                log.pk = None  # anew after a rolled-back attempt; its run's key comes later
            logs += write.logs
        insert_logs = _INSERT_LOGS.prepared(logs, related=_LOG_RELATIONS, late=_LOG_RUN)
        run_id = _LOG_RUN.attname

        def run() -> None:
            insert_runs()
            for write in writes:
                key = write.run.pk
                for log in write.logs:
                    setattr(log, run_id, key)  # drops the cached run:
                    _LOG_RUN.set_cached_value(log, write.run)  # `log.run` is the run again
            insert_logs()
            if any(write.calls for write in writes):  # the model calls, as insert_children does
                insert_children([(write.run, [], write.calls) for write in writes])
        return run


def _saved_one_by_one(writes: list[NewRun]) -> None:
    """NewRun.together where something listens to Run's signals: each run through
    Model.save, then their logs and model calls."""
    for write in writes:
        write.run.save(force_insert=True)
    insert_children([(write.run, write.logs, write.calls) for write in writes])


def _one_statement(writes: list[NewRun]) -> Callable[[], None] | None:
    """NewRun.one_statement's work: the cheap checks first."""
    if any(write.calls for write in writes):
        return None
    runs = [write.run for write in writes]
    if not any(write.logs for write in writes):  # accepted runs, on either database
        if (connection.in_atomic_block or not connection.get_autocommit()
                or not _INSERT_RUN.in_one_statement(runs) or _run_signals()):
            return None
        return _INSERT_RUN.prepared(_as_new(runs))
    rows = [(write.run, write.logs) for write in writes]
    if not _INSERT_RUN_AND_LOGS.applies(connection, rows) or _run_signals():
        return None
    for run, logs in zip(_as_new(runs), (write.logs for write in writes), strict=True):
        for log in logs:
            log.pk, log.run = None, run
    return _INSERT_RUN_AND_LOGS.prepared(rows)


def _run_signals() -> bool:
    """Whether something listens to Run's pre_save or post_save (Model.save must send them)."""
    return signals.pre_save.has_listeners(Run) or signals.post_save.has_listeners(Run)


def _as_new(runs: list[Run]) -> list[Run]:
    """The runs as new rows again (after a rolled-back attempt, their keys are dropped)."""
    for run in runs:
        run.pk, run._state.adding = None, True
    return runs


def insert_children(rows: list[tuple[Run, list[RunLog], list[ModelCall]]]) -> None:
    """The logs and model calls of stored runs, as new rows of their run (anew after a
    rolled-back attempt): all logs in one INSERT."""
    logs: list[RunLog] = []
    calls: list[ModelCall] = []
    for run, its_logs, its_calls in rows:
        if run.pk is None:  # what bulk_create()'s check of the relation would refuse
            raise ValueError(f"the logs of run {run!r} cannot be stored before their run")
        for log in its_logs:
            log.pk, log.run = None, run
        for call in its_calls:
            call.pk, call.run = None, run
        logs += its_logs
        calls += its_calls
    _INSERT_LOGS.insert(logs, related=_LOG_RELATIONS)
    if calls:
        ModelCall.objects.bulk_create(calls)
