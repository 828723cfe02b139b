"""Reads and updates compiled to SQL once per thread (runs/prepared.py): the same instances
and rows as the ORM's own, one statement each, values bound as parameters."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from runs.models import Run
from runs.prepared import PreparedRead, PreparedUpdate
from runs.services import run_start
from tests.factories import make_workflow
from workflows.models import WorkflowVersion

pytestmark = pytest.mark.django_db


def test_a_prepared_read_builds_the_instance_the_orm_builds():
    wf = make_workflow()
    run = run_start(workflow=wf, input={"n": [1, {"x": "é"}]}, execute=False)
    read = PreparedRead(lambda pk: Run.objects.filter(pk=pk, status=Run.Status.QUEUED))
    got = read.first(pk=run.pk)
    expected = Run.objects.get(pk=run.pk)
    assert isinstance(got, Run)
    for field in Run._meta.concrete_fields:
        assert getattr(got, field.attname) == getattr(expected, field.attname), field.name
    assert got.input == {"n": [1, {"x": "é"}]}  # JSON decoded by the field's converter
    assert got.created_at.tzinfo is not None
    version = PreparedRead(lambda pk: WorkflowVersion.objects.filter(pk=pk)).first(
        pk=run.version_id)
    assert version.definition == wf.versions.get().definition  # unsealed as the ORM does


def test_select_related_instances_come_from_the_same_row():
    wf = make_workflow(max_concurrency=3)
    definition = wf.versions.get().definition
    run = run_start(workflow=wf, input={"n": 1}, execute=False)
    read = PreparedRead(lambda pk: Run.objects.select_related("workflow", "version", "parent_run")
                        .filter(pk=pk))
    read.first(pk=run.pk)  # compiled
    with CaptureQueriesContext(connection) as queries:
        got = read.first(pk=run.pk)
        assert got.workflow.max_concurrency == 3
        assert got.workflow.name == wf.name
        assert got.version.definition == definition
        assert got.version.workflow_id == wf.pk
        assert got.parent_run is None  # a nullable relation that is not set
    assert len(queries.captured_queries) == 1  # nothing loaded lazily afterwards
    expected = Run.objects.select_related("workflow", "version").get(pk=run.pk)
    for field in type(wf)._meta.concrete_fields:
        assert getattr(got.workflow, field.attname) == getattr(expected.workflow, field.attname)
    child = run_start(workflow=wf, execute=False, parent_run=got)
    assert read.first(pk=child.pk).parent_run.pk == run.pk


def test_the_constant_of_a_prepared_read_still_filters():
    run = run_start(workflow=make_workflow(), execute=False)
    read = PreparedRead(lambda pk: Run.objects.filter(pk=pk, status=Run.Status.QUEUED))
    assert read.first(pk=run.pk) is not None
    Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING)
    assert read.first(pk=run.pk) is None
    assert read.first(pk=run.pk + 1000) is None


def test_the_sql_is_compiled_once_and_each_read_is_one_statement():
    built = []

    def build(pk):
        built.append(pk)
        return Run.objects.filter(pk=pk)

    read = PreparedRead(build)
    runs = [run_start(workflow=make_workflow(), execute=False) for _ in range(3)]
    with CaptureQueriesContext(connection) as queries:
        assert [read.first(pk=r.pk).pk for r in runs] == [r.pk for r in runs]
    assert len(built) == 1  # compiled once, with a placeholder, not with a value
    assert built[0] >= 2_000_000_000  # a placeholder, not a run id
    assert len(queries.captured_queries) == 3
    assert all("ORDER BY" not in q["sql"] for q in queries.captured_queries)


def test_only_whole_numbers_are_taken_for_the_keys():
    run = run_start(workflow=make_workflow(), execute=False)
    read = PreparedRead(lambda pk: Run.objects.filter(pk=pk))
    for bad in (f"{run.pk} OR 1=1", str(run.pk), float(run.pk), True, None):
        with pytest.raises(TypeError, match="whole numbers"):
            read.first(pk=bad)  # type: ignore[arg-type]
    assert read.first(pk=run.pk).pk == run.pk


def test_wrong_arguments_are_refused():
    read = PreparedRead(lambda pk: Run.objects.filter(pk=pk))
    with pytest.raises(TypeError):
        read.first(id=1)
    with pytest.raises(ValueError, match="does not use"):
        PreparedRead(lambda pk, other: Run.objects.filter(pk=pk)).first(pk=1, other=2)


def _finish():
    return PreparedUpdate(
        lambda pk, executions: Run.objects.filter(pk=pk, status=Run.Status.QUEUED,
                                                  executions=executions, cancel_requested=False),
        fields=("status", "result", "error", "finished_at", "heartbeat_at"))


def test_a_prepared_update_sets_its_fields_as_the_orm_would():
    run = run_start(workflow=make_workflow(), execute=False)
    now = timezone.now()
    values = {"status": Run.Status.SUCCEEDED, "result": {"a": [1, None, "é"]},
              "error": "x'); DROP TABLE runs_run; --", "finished_at": now, "heartbeat_at": None}
    update = _finish()
    with CaptureQueriesContext(connection) as queries:
        assert update.update(values, pk=run.pk, executions=0) == 1
    assert len(queries.captured_queries) == 1
    run.refresh_from_db()
    assert (run.status, run.result, run.error, run.finished_at, run.heartbeat_at) == (
        Run.Status.SUCCEEDED, {"a": [1, None, "é"]}, values["error"], now, None)
    assert Run.objects.count() == 1  # the text was a value, not SQL


def test_a_prepared_update_changes_nothing_when_its_conditions_fail():
    update = _finish()
    values = {"status": Run.Status.SUCCEEDED, "result": 1, "error": "", "finished_at": None,
              "heartbeat_at": None}
    taken = run_start(workflow=make_workflow(), execute=False)
    Run.objects.filter(pk=taken.pk).update(status=Run.Status.RUNNING)
    assert update.update(values, pk=taken.pk, executions=0) == 0  # no longer queued
    again = run_start(workflow=make_workflow(), execute=False)
    assert update.update(values, pk=again.pk, executions=1) == 0  # another claim count
    cancelled = run_start(workflow=make_workflow(), execute=False)
    Run.objects.filter(pk=cancelled.pk).update(cancel_requested=True)
    assert update.update(values, pk=cancelled.pk, executions=0) == 0
    assert set(Run.objects.values_list("status", flat=True)) == {
        Run.Status.RUNNING, Run.Status.QUEUED}
    assert update.update(values, pk=again.pk, executions=0) == 1


def test_a_prepared_update_refuses_other_fields():
    with pytest.raises(TypeError, match="fields"):
        _finish().update({"status": Run.Status.SUCCEEDED}, pk=1, executions=0)
    with pytest.raises(TypeError):
        _finish().update({}, pk=1)


def _log(run, **values):
    from runs.engine.log_rows import new_log

    return new_log(run, **{"node_id": "t1", "node_type": "transform", "status": "succeeded",
                           "started_at": _STARTED, **values})


_STARTED = timezone.now()


def test_a_prepared_insert_stores_the_rows_bulk_create_stores():
    from runs.models import RunLog
    from runs.prepared_inserts import PreparedInsert

    run = run_start(workflow=make_workflow(), execute=False)
    hostile = "x'); DROP TABLE runs_runlog; --"
    values = [{"node_id": hostile, "output": {"n": [1, {"é": None}]}, "ports": ["a", "b"]},
              {"node_id": "t2", "output": None, "input": [1.5, "two"], "error": hostile,
               "attempt": 3, "scope": "loop[0]", "duration_ms": 7}]
    ours = [_log(run, **v) for v in values]
    theirs = [_log(run, **v) for v in values]
    with CaptureQueriesContext(connection) as queries:
        PreparedInsert(RunLog).insert(ours)
    assert len(queries.captured_queries) == 1  # both rows in one statement
    RunLog.objects.bulk_create(theirs)
    for mine, django in zip(ours, theirs, strict=True):
        assert mine.pk is not None
        assert not mine._state.adding
        stored, expected = RunLog.objects.get(pk=mine.pk), RunLog.objects.get(pk=django.pk)
        for field in RunLog._meta.concrete_fields:
            if field.name != "id":
                assert getattr(stored, field.attname) == getattr(expected, field.attname), \
                    field.name
    assert RunLog.objects.get(pk=ours[0].pk).node_id == hostile  # a value, not SQL


def test_a_prepared_insert_splits_what_one_statement_cannot_take(monkeypatch):
    from runs.models import RunLog
    from runs.prepared_inserts import PreparedInsert

    run = run_start(workflow=make_workflow(), execute=False)
    monkeypatch.setattr(connection.ops, "bulk_batch_size", lambda fields, objs: 3)
    logs = [_log(run, node_id=f"n{i}", output=i) for i in range(7)]
    with CaptureQueriesContext(connection) as queries:
        PreparedInsert(RunLog).insert(logs)
    assert len(queries.captured_queries) == 3  # 3 + 3 + 1
    stored = list(run.logs.order_by("id").values_list("node_id", "output"))
    assert stored == [(f"n{i}", i) for i in range(7)]
    assert [log.pk for log in logs] == list(run.logs.order_by("id").values_list("id", flat=True))


def test_a_prepared_insert_refuses_stored_rows_and_unsaved_relations():
    from runs.models import RunLog
    from runs.prepared_inserts import PreparedInsert

    run = run_start(workflow=make_workflow(), execute=False)
    insert = PreparedInsert(RunLog)
    stored = _log(run)
    insert.insert([stored])
    with pytest.raises(ValueError, match="new rows only"):
        insert.insert([_log(run), stored])
    unsaved = Run(workflow=run.workflow, version=run.version)
    with pytest.raises(ValueError, match="unsaved related object"):
        insert.insert([_log(unsaved)])
    assert run.logs.count() == 1
    insert.insert([])  # nothing to do, no statement


def test_a_prepared_insert_checks_only_the_relations_it_is_given():
    from runs.models import RunLog
    from runs.prepared_inserts import PreparedInsert

    run = run_start(workflow=make_workflow(), execute=False)
    unsaved = Run(workflow=run.workflow, version=run.version)
    runs = PreparedInsert(Run)
    with pytest.raises(ValueError, match="unsaved related object 'parent_run'"):
        runs.insert([Run(workflow=run.workflow, version=run.version, parent_run=unsaved)],
                    related=[Run._meta.get_field("parent_run")])
    logs = PreparedInsert(RunLog)
    log = _log(run)
    logs.insert([log], related=[])  # the run is stored: nothing to check
    assert RunLog.objects.get(pk=log.pk).run_id == run.pk


def test_a_prepared_insert_writes_its_statement_once(monkeypatch):
    from runs.models import RunLog
    from runs.prepared_inserts import PreparedInsert

    run = run_start(workflow=make_workflow(), execute=False)
    insert = PreparedInsert(RunLog)
    insert.insert([_log(run, node_id="first")])
    quoted: list[str] = []
    quote = connection.ops.quote_name
    monkeypatch.setattr(connection.ops, "quote_name",
                        lambda name: quoted.append(name) or quote(name))
    with CaptureQueriesContext(connection) as queries:
        insert.insert([_log(run, node_id=f"n{i}") for i in range(3)])
    assert quoted == []  # table and columns were quoted by the first insert only
    sql = queries.captured_queries[0]["sql"]
    assert sql.startswith(f"INSERT INTO {quote(RunLog._meta.db_table)} (")
    assert sorted(run.logs.values_list("node_id", flat=True)) == ["first", "n0", "n1", "n2"]


def test_raw_execute_runs_as_djangos_cursor_would(user):
    """runs.prepared_inserts.raw_execute (PostgreSQL's statements numbered $1, $2 ...) goes through
    the connection's execute wrappers and query log, translates errors into Django's, and
    refuses to run in a transaction that already failed."""
    if connection.vendor != "postgresql":
        pytest.skip("psycopg's raw cursor: PostgreSQL's")
    from django.db import DatabaseError, IntegrityError, transaction
    from django.db.transaction import TransactionManagementError
    from django.test.utils import CaptureQueriesContext

    from runs.prepared_inserts import raw_execute

    wrapped: list[str] = []

    def wrapper(execute, sql, params, many, context):
        wrapped.append(sql)
        return execute(sql, params, many, context)
    with connection.execute_wrapper(wrapper), CaptureQueriesContext(connection) as queries:
        assert raw_execute(connection, "SELECT $1::int + $2::int", [2, 3]) == [(5,)]
    assert wrapped == ["SELECT $1::int + $2::int"]
    assert [query["sql"] for query in queries.captured_queries] == wrapped
    with pytest.raises(IntegrityError), transaction.atomic():
        raw_execute(connection, "INSERT INTO runs_run (workflow_id) VALUES ($1) RETURNING id",
                    [None])
    with transaction.atomic():
        with pytest.raises(DatabaseError), transaction.atomic(savepoint=False):
            raw_execute(connection, "SELECT 1 / $1::int", [0])
        with pytest.raises(TransactionManagementError):
            raw_execute(connection, "SELECT 1", [])
