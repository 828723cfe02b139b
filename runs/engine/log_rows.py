"""RunLog objects built and stored fast: one per node attempt, so a cheap node pays for its
constructor and its row; and a new run's own row.

    run = new_run(workflow=w, version=v, trigger="webhook", input=body)  # Run(...), faster
    log = new_log(run, node_id="t1", node_type="transform", started_at=now, input=3)
    insert_logs([log, ...])      # RunLog.objects.bulk_create(...) without the query compiler
    NewRun(run, logs, calls)()   # a new run's row, then its logs and model calls
    NewRun.together([a, b, c])   # several new runs: one INSERT for the runs, one for the logs
    NewRun.in_one_statement([a, b])  # all of it in one statement, committed (see there)

A log is the same object `RunLog(run=run, ...)` gives (its run cached on it, so an unsaved
run's id is taken when the run is stored), built as runs.unsaved.Unsaved builds one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import signals

from ..models import ModelCall, Run, RunLog
from ..prepared import MOST_PARAMS, PreparedInsert, PreparedInsertWithChildren
from ..unsaved import Unsaved

_NEW_LOG = Unsaved(RunLog)
new_run = Unsaved(Run)  # new_run(workflow=w, version=v, ...): what Run(...) gives, faster


def new_log(run: Run, **values: Any) -> RunLog:
    """A new, unsaved RunLog of `run` with these field values (by field name)."""
    return _NEW_LOG(run=run, **values)


# The logs' INSERT is written out, not compiled by Django each time (runs/prepared.py).
_INSERT_LOGS = PreparedInsert(RunLog)
insert_logs = _INSERT_LOGS.insert

_INSERT_RUN = PreparedInsert(Run)
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
    def in_one_statement(writes: list[NewRun]) -> bool:
        """These runs and their logs written and committed by one statement, without a
        transaction around it, where that applies: no model calls, no Run signals, outside
        a transaction, and either every run with a log (PostgreSQL only:
        runs.prepared.PreparedInsertWithChildren) or none with any (runs accepted to run
        later: one INSERT of the runs, on either database); otherwise nothing is written
        and False returned."""
        return _in_one_statement(writes)

    @staticmethod
    def together(writes: list[NewRun]) -> None:
        """Every run's row in one INSERT and every log's in another (fewer round trips and
        statements than a run at a time). Through Model.save when something listens to
        Run's pre_save or post_save, so that it gets its signals."""
        runs = [write.run for write in writes]
        for run in runs:
            run.pk, run._state.adding = None, True
        if signals.pre_save.has_listeners(Run) or signals.post_save.has_listeners(Run):
            for run in runs:
                run.save(force_insert=True)
        else:
            _INSERT_RUN.insert(runs)
        insert_children([(write.run, write.logs, write.calls) for write in writes])


def _in_one_statement(writes: list[NewRun]) -> bool:
    """NewRun.in_one_statement's work."""
    if any(write.calls for write in writes):
        return False  # the cheap checks first
    with_logs = sum(1 for write in writes if write.logs)
    if (with_logs and (with_logs < len(writes) or connection.vendor != "postgresql")) or (
            signals.pre_save.has_listeners(Run) or signals.post_save.has_listeners(Run)):
        return False
    if with_logs == 0:
        return _runs_in_one_statement([write.run for write in writes])
    rows = [(write.run, write.logs) for write in writes]
    if not _INSERT_RUN_AND_LOGS.applies(connection, rows):
        return False
    for run, logs in rows:
        run.pk, run._state.adding = None, True
        for log in logs:
            log.pk, log.run = None, run
    _INSERT_RUN_AND_LOGS.insert(rows)
    return True


def _runs_in_one_statement(runs: list[Run]) -> bool:
    """New runs without logs (accepted, not yet started) in one INSERT, which the database
    commits by itself outside a transaction: on PostgreSQL one round trip instead of BEGIN,
    INSERT, COMMIT; on SQLite no BEGIN statement and no transaction to manage. Only where the
    INSERT is one statement (PreparedInsert splits many rows at the backend's parameter
    limit: SQLite's, PostgreSQL has none), so that it is all or nothing."""
    if connection.in_atomic_block or not connection.get_autocommit():
        return False
    params = len(runs) * len(_INSERT_RUN.fields)
    limit = connection.features.max_query_params if len(runs) > 1 else None
    if params > MOST_PARAMS or (limit is not None and params > limit):
        return False
    for run in runs:
        run.pk, run._state.adding = None, True
    _INSERT_RUN.insert(runs)
    return True


def insert_children(rows: list[tuple[Run, list[RunLog], list[ModelCall]]]) -> None:
    """The logs and model calls of stored runs, as new rows of their run (anew after a
    rolled-back attempt): all logs in one INSERT."""
    logs: list[RunLog] = []
    calls: list[ModelCall] = []
    for run, its_logs, its_calls in rows:
        for log in its_logs:
            log.pk, log.run = None, run
        for call in its_calls:
            call.pk, call.run = None, run
        logs += its_logs
        calls += its_calls
    insert_logs(logs)
    if calls:
        ModelCall.objects.bulk_create(calls)
