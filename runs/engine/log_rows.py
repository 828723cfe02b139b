"""RunLog objects built and stored fast: one per node attempt, so a cheap node pays for its
constructor and its row; and a new run's own row.

    log = new_log(run, node_id="t1", node_type="transform", started_at=now, input=3)
    insert_logs([log, ...])      # RunLog.objects.bulk_create(...) without the query compiler
    NewRun(run, logs, calls)()   # a new run's row, then its logs and model calls
    NewRun.together([a, b, c])   # several new runs: one INSERT for the runs, one for the logs
    NewRun.in_one_statement([a, b])  # all of it in one statement, committed (see there)

The same object `RunLog(run=run, ...)` gives (its run cached on it, so an unsaved run's id is
taken when the run is stored), built without Django's constructor, which looks up every
field's default and descriptor and sends the pre_init/post_init signals per call: the values
go straight into the new object's __dict__, as the constructor would put them. That is only
right while nothing listens to those signals for RunLog (checked per call) and every field's
attribute is Django's plain one (a field with a descriptor of its own, such as a FileField,
needs its __set__; checked once); otherwise the positional constructor (the one
`Model.from_db` uses) builds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import signals
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute

from ..models import ModelCall, Run, RunLog
from ..prepared import MOST_PARAMS, PreparedInsert, PreparedInsertWithChildren

_DEFAULTS: dict[str, Any] | None = None
_PLAIN: bool | None = None  # whether every field's attribute is Django's plain one
_RUN_FIELD = RunLog._meta.get_field("run")


def _direct() -> bool:
    """Whether filling __dict__ is all the constructor would do."""
    global _PLAIN
    if _PLAIN is None:
        _PLAIN = all(type(getattr(RunLog, f.attname, None)) in
                     (DeferredAttribute, ForeignKeyDeferredAttribute)
                     for f in RunLog._meta.concrete_fields)
    # `receivers` first: an empty list (no model has any) answers without has_listeners's
    # lookup, which costs more than the rest of this function
    return _PLAIN and not ((signals.pre_init.receivers and signals.pre_init.has_listeners(RunLog))
                           or (signals.post_init.receivers
                               and signals.post_init.has_listeners(RunLog)))


def _defaults() -> dict[str, Any]:
    """Every concrete field's attname -> its default, in the constructor's order."""
    global _DEFAULTS
    if _DEFAULTS is None:
        found: dict[str, Any] = {}
        for field in RunLog._meta.concrete_fields:
            value = field.get_default()  # what RunLog(...) sets for a missing field
            if field.name != "id" and not isinstance(value, (str, int, type(None))):
                raise TypeError(f"RunLog.{field.name}: a mutable default cannot be shared")
            found[field.attname] = value
        _DEFAULTS = found
    return _DEFAULTS


def new_log(run: Run, **values: Any) -> RunLog:
    """A new, unsaved RunLog of `run` with these field values (by field name)."""
    row = dict(_defaults())
    unknown = values.keys() - row.keys()
    if unknown:
        raise TypeError(f"RunLog has no field {sorted(unknown)[0]!r}")
    row.update(values)
    row["run_id"] = run.pk
    if _direct():
        log = RunLog.__new__(RunLog)
        log._state = ModelState()
        log.__dict__.update(row)
    else:
        log = RunLog(*row.values())  # type: ignore[misc]  # all fields, in their order
    _RUN_FIELD.set_cached_value(log, run)
    return log


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
