"""Group commit (runs/engine/group_writer.py): the finished deferred runs of concurrent request
threads are stored by one writer thread, several per transaction, each caller woken only after
its rows are committed; a bad write fails only its own caller."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from django.db import IntegrityError, connection, transaction

from runs.engine import group_writer
from runs.models import Run
from tests.factories import make_workflow, simple_definition
from workflows.services import current_version

pytestmark = pytest.mark.django_db(transaction=True)


def transform(node_id, expression):
    return {"id": node_id, "type": "transform", "config": {"expression": expression}}


def insert_run(workflow, seen=None):
    """A write as DeferredJournal._write is: inserts, no transaction of its own."""
    def write():
        if seen is not None:
            seen.append((threading.current_thread().name, connection.in_atomic_block))
        Run.objects.create(workflow=workflow, version=current_version(workflow), trigger="api",
                           status="succeeded")
    return write


@pytest.fixture
def sizes(monkeypatch):
    """The size of every transaction the writer commits."""
    recorded: list[int] = []
    together = group_writer.GroupWriter._together

    def spy(writes):
        together(writes)
        recorded.append(len(writes))
    monkeypatch.setattr(group_writer.GroupWriter, "_together", staticmethod(spy))
    return recorded


@pytest.fixture
def writer():
    """A writer of this test's own; its connection closed at the end (PostgreSQL drops the
    test database only when no session is left)."""
    writer = group_writer.GroupWriter()
    yield writer
    writer.submit(group_writer._CLOSE).result(10)


def hold(writer):
    """Keep `writer` busy until the returned event is set, so that what is submitted meanwhile
    queues up as one batch; (that event, the holding write's future)."""
    entered, release = threading.Event(), threading.Event()

    def gate():
        entered.set()
        release.wait(10)
    first = writer.submit(gate)
    assert entered.wait(10)
    return release, first


def test_writes_queued_behind_a_commit_are_stored_in_one_transaction(user, sizes, writer):
    wf = make_workflow(owner=user)
    entered, release = threading.Event(), threading.Event()

    def slow():
        entered.set()
        release.wait(10)
        Run.objects.create(workflow=wf, version=current_version(wf), trigger="api")
    first = writer.submit(slow)
    assert entered.wait(10)
    queued = [writer.submit(insert_run(wf)) for _ in range(5)]
    release.set()
    for future in [first, *queued]:
        assert future.result(10) is None
    assert sizes == [1, 5]
    assert Run.objects.filter(workflow=wf).count() == 6


def test_a_failing_write_fails_only_its_own_caller(user, sizes, writer):
    wf = make_workflow(owner=user)

    def bad():
        Run.objects.create(workflow_id=wf.pk + 10_000, version=current_version(wf),
                           trigger="api")  # no such workflow
    release, first = hold(writer)
    good_before, broken, good_after = (writer.submit(insert_run(wf)), writer.submit(bad),
                                       writer.submit(insert_run(wf)))
    release.set()
    assert first.result(10) is None
    assert good_before.result(10) is None
    assert good_after.result(10) is None
    with pytest.raises(IntegrityError):
        broken.result(10)
    # the batch of three rolled back, then each was written alone
    assert sizes == [1, 1, 1]
    assert Run.objects.filter(workflow=wf).count() == 2
    assert not Run.objects.filter(workflow_id=wf.pk + 10_000).exists()


def test_store_returns_after_the_commit_from_the_writer_thread(user):
    wf = make_workflow(owner=user)
    seen: list = []
    assert group_writer.store(insert_run(wf, seen)) is True  # committed on return
    assert seen == [("wfaib-group-writer", True)]
    # committed: another connection (another thread) sees it
    with ThreadPoolExecutor(1) as pool:
        count = pool.submit(lambda: (Run.objects.filter(workflow=wf).count(),
                                     connection.close())[0]).result()
    assert count == 1


def test_inside_a_transaction_or_switched_off_the_caller_writes(user, settings):
    wf = make_workflow(owner=user)
    seen: list = []
    with transaction.atomic():  # the writer's connection could not see this transaction
        assert group_writer.store(insert_run(wf, seen)) is False  # committed with it
    settings.WFAIB = {**settings.WFAIB, "GROUP_COMMIT": False}
    assert group_writer.store(insert_run(wf, seen)) is True
    me = threading.current_thread().name
    assert seen == [(me, True), (me, True)]
    assert Run.objects.filter(workflow=wf).count() == 2


def test_concurrent_webhooks_are_all_stored_with_their_logs(client, user, sizes):
    wf = make_workflow(owner=user, definition=simple_definition(transform("a", "input.n * 2")))

    def call(n):
        from django.test import Client
        answer = Client().post(f"/api/webhook/{wf.pk}", {"n": n}, content_type="application/json")
        connection.close()
        return answer.status_code, answer.json()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(call, range(40)))
    assert [status for status, _ in answers] == [200] * 40
    assert sorted(body["result"] for _, body in answers) == [n * 2 for n in range(40)]
    runs = Run.objects.filter(workflow=wf)
    assert sorted(body["run"] for _, body in answers) == sorted(runs.values_list("pk", flat=True))
    for run in runs:
        assert run.status == "succeeded"
        assert run.result == run.input["n"] * 2
        assert [log.node_id for log in run.logs.order_by("id")] == ["trigger", "a"]
    assert sum(sizes) == 40  # every run went through the writer (batched or not)


def test_the_sqlite_lock_file_is_opened_once_and_serialises_the_processes_writers():
    """writers_take_turns keeps one open lock file per process and path, and while one writer
    holds it another open file description (another process's writer) cannot take it."""
    import fcntl

    if connection.vendor != "sqlite":
        pytest.skip("the file lock is SQLite's")
    path = group_writer._lock_path()
    assert path is not None
    assert str(path).endswith(".group-commit.lock")
    with group_writer.writers_take_turns():
        first = group_writer._lock_files[(os.getpid(), path)]
        with open(path, "a+b") as other:  # as another process's writer would
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with group_writer.writers_take_turns():
        assert group_writer._lock_files[(os.getpid(), path)] is first
    with open(path, "a+b") as other:  # released after each batch
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(other, fcntl.LOCK_UN)


@pytest.fixture
def dispatched(monkeypatch):
    """Each dispatched run's id, and whether another connection saw its row by then."""
    from runs import dispatch

    seen: list[tuple[int, bool]] = []

    def spy(run_id):
        with ThreadPoolExecutor(1) as pool:
            stored = pool.submit(lambda: (Run.objects.filter(pk=run_id).exists(),
                                          connection.close())[0]).result()
        seen.append((run_id, stored))
    monkeypatch.setattr(dispatch, "dispatch_run", spy)
    return seen


def test_accepted_webhooks_are_committed_by_the_writer_then_dispatched(user, sizes, dispatched):
    wf = make_workflow(owner=user, definition=simple_definition(transform("a", "input.n")))

    def call(n):
        from django.test import Client
        answer = Client().post(f"/api/webhook/{wf.pk}?wait=false", {"n": n},
                               content_type="application/json")
        connection.close()
        return answer.status_code, answer.json()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(call, range(24)))
    assert [status for status, _ in answers] == [202] * 24
    ids = sorted(body["run"] for _, body in answers)
    assert sorted(run_id for run_id, _ in dispatched) == ids
    assert all(stored for _, stored in dispatched)  # committed before it was handed out
    assert sum(sizes) == 24  # every accepted run's row went through the writer
    runs = Run.objects.filter(workflow=wf)
    assert sorted(runs.values_list("pk", flat=True)) == ids
    assert sorted(run.input["n"] for run in runs) == list(range(24))
    assert {(run.status, run.trigger, run.version_id) for run in runs} == {
        ("queued", "webhook", current_version(wf).pk)}


def test_an_accepted_run_in_an_open_transaction_is_dispatched_when_it_commits(
        user, sizes, dispatched):
    from runs.services import run_start_idempotent

    wf = make_workflow(owner=user)
    with transaction.atomic():
        started = run_start_idempotent(workflow=wf, trigger="webhook", key="", input={"a": 1})
        assert dispatched == []
    assert dispatched == [(started.run.pk, True)]
    assert sizes == []  # written in the caller's transaction, not by the writer
    assert Run.objects.get(pk=started.run.pk).input == {"a": 1}


def _new_run(workflow, n_logs):
    from django.utils import timezone

    from runs.engine.log_rows import NewRun, new_log

    run = Run(workflow=workflow, version=current_version(workflow), trigger="webhook",
              status="succeeded", input={"logs": n_logs})
    logs = [new_log(run, node_id=f"n{i}", node_type="transform", status="succeeded",
                    started_at=timezone.now(), output=i) for i in range(n_logs)]
    return NewRun(run, logs)


def test_new_runs_of_a_batch_are_inserted_with_one_statement_for_runs_and_one_for_logs(user):
    from django.test.utils import CaptureQueriesContext

    from runs.engine.log_rows import NewRun

    wf = make_workflow(owner=user)
    writes = [_new_run(wf, n) for n in (2, 0, 3)]
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        NewRun.together(writes)
    assert len(queries.captured_queries) == 2  # the runs' INSERT, the logs' INSERT
    for write, n in zip(writes, (2, 0, 3), strict=True):
        stored = Run.objects.get(pk=write.run.pk)
        assert stored.input == {"logs": n}  # each run got its own key back
        assert list(stored.logs.order_by("id").values_list("node_id", "output")) == [
            (f"n{i}", i) for i in range(n)]


def test_the_writer_hands_a_batchs_new_runs_to_together_and_calls_the_rest(
        user, monkeypatch, writer):
    from runs.engine.log_rows import NewRun

    wf = make_workflow(owner=user)
    groups: list[int] = []
    prepared_together = NewRun.prepared_together

    def spy(writes):
        groups.append(len(writes))
        return prepared_together(writes)
    monkeypatch.setattr(NewRun, "prepared_together", staticmethod(spy))
    release, first = hold(writer)
    seen: list = []
    futures = [writer.submit(_new_run(wf, 1)), writer.submit(insert_run(wf, seen)),
               writer.submit(_new_run(wf, 2)), writer.submit(_new_run(wf, 0))]
    release.set()
    for future in [first, *futures]:
        assert future.result(10) is None
    assert groups == [3]  # the three new runs together, in the batch behind the gate
    assert seen == [("wfaib-group-writer", True)]  # the plain write called as before
    assert Run.objects.filter(workflow=wf).count() == 4
    assert sorted(run.logs.count() for run in Run.objects.filter(workflow=wf)) == [0, 0, 1, 2]


def test_a_bad_new_run_in_a_batch_fails_alone(user, writer):
    wf = make_workflow(owner=user)
    release, first = hold(writer)
    bad = _new_run(wf, 1)
    bad.run.workflow_id = wf.pk + 10_000  # no such workflow
    good, broken, also_good = (writer.submit(_new_run(wf, 2)), writer.submit(bad),
                               writer.submit(_new_run(wf, 1)))
    release.set()
    assert first.result(10) is None
    assert good.result(10) is None
    assert also_good.result(10) is None
    with pytest.raises(IntegrityError):
        broken.result(10)
    assert sorted(run.logs.count() for run in Run.objects.filter(workflow=wf)) == [1, 2]
    assert not Run.objects.filter(workflow_id=wf.pk + 10_000).exists()


@pytest.fixture
def one_at_a_time(monkeypatch):
    """This process as a Celery prefork pool process (wfaib/celery.py) marks itself."""
    from celery.signals import worker_process_init

    import wfaib.celery  # noqa: F401  (connects the worker signals)

    monkeypatch.setattr(group_writer, "_one_at_a_time", None)
    worker_process_init.send(sender=None)
    assert group_writer._one_at_a_time == os.getpid()


class _Worker:
    """What Celery's WorkController has set when it sends worker_init."""

    def __init__(self, pool_cls):
        self.pool_cls = pool_cls


@pytest.mark.parametrize(("pool", "alone"), [
    ("solo", True), ("celery.concurrency.solo:TaskPool", True), ("prefork", False),
    ("threads", False)])
def test_a_solo_celery_worker_writes_in_the_task_thread(monkeypatch, pool, alone):
    """worker_init, as Celery's WorkController sends it (its pool as given: an alias, a path
    or a class): only a solo pool executes one task at a time in the worker's own process."""
    from celery.concurrency import get_implementation
    from celery.signals import worker_init

    import wfaib.celery  # noqa: F401  (connects the worker signals)
    from tests.wfaib.test_celery_connections import uninstall_worker_fixups

    monkeypatch.setattr("wfaib.gc_tuning.freeze_startup", lambda: 0)  # not this test's
    try:
        for given in (pool, get_implementation(pool)):
            monkeypatch.setattr(group_writer, "_one_at_a_time", None)
            worker_init.send(sender=_Worker(given))
            assert (group_writer._one_at_a_time == os.getpid()) is alone, given
    finally:  # Celery's Django fixup, installed by worker_init, is not this process's to keep
        uninstall_worker_fixups()


def test_a_process_of_one_run_at_a_time_writes_in_the_callers_thread(
        user, sizes, one_at_a_time, monkeypatch):
    from runs.engine.log_rows import NewRun

    wf = make_workflow(owner=user)
    seen: list = []
    turns: list[str] = []
    take_turns = group_writer.writers_take_turns

    def spy():
        turns.append(threading.current_thread().name)
        return take_turns()
    monkeypatch.setattr(group_writer, "writers_take_turns", spy)
    groups: list[int] = []
    prepared_together = NewRun.prepared_together
    monkeypatch.setattr(NewRun, "prepared_together",
                        staticmethod(lambda writes: (groups.append(len(writes)),
                                                     prepared_together(writes))[1]))
    group_writer.store(insert_run(wf, seen))
    group_writer.store(_new_run(wf, 2))
    me = threading.current_thread().name
    assert seen == [(me, True)]  # in a transaction of its own, in this thread
    assert sizes == [1, 1]
    assert turns == [me, me]  # taking turns with other processes' writers (on SQLite)
    if connection.vendor == "postgresql":  # the new run and its logs: one statement
        assert groups == []
    else:
        assert groups == [1]
    assert Run.objects.filter(workflow=wf).count() == 2
    # committed: another connection sees both
    with ThreadPoolExecutor(1) as pool:
        count = pool.submit(lambda: (Run.objects.filter(workflow=wf).count(),
                                     connection.close())[0]).result()
    assert count == 2


def test_a_forked_child_of_such_a_process_uses_the_writer_again(one_at_a_time, monkeypatch):
    monkeypatch.setattr(group_writer, "_one_at_a_time", os.getpid() + 1)  # another process
    handed: list = []

    class Writer:
        def submit(self, write):
            handed.append(write)
            from concurrent.futures import Future
            done: Future = Future()
            done.set_result(None)
            return done
    monkeypatch.setattr(group_writer, "_writer", lambda: Writer())

    def write():
        raise AssertionError("not called in this thread")
    group_writer.store(write)
    assert handed == [write]


def test_queued_runs_of_a_batch_are_claimed_one_by_one_and_their_logs_inserted_at_once(user):
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from runs.engine.log_rows import new_log
    from runs.engine.memory_journals import ClaimAndFinish, QueuedDeferredJournal
    from runs.services import run_start

    wf = make_workflow(owner=user)
    writes = []
    for n in (2, 1, 3):
        run = run_start(workflow=wf, execute=False)
        journal = QueuedDeferredJournal(run, queued_executions=run.executions)
        run.status, run.executions, run.finished_at = "succeeded", 1, timezone.now()
        logs = [new_log(run, node_id=f"n{i}", node_type="transform", status="succeeded",
                        started_at=timezone.now(), output=i) for i in range(n)]
        writes.append(ClaimAndFinish(journal, logs))
    taken = writes[1].journal.run
    Run.objects.filter(pk=taken.pk).update(cancel_requested=True)  # changed meanwhile
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        ClaimAndFinish.together(writes)
    assert len(queries.captured_queries) == 4  # an UPDATE per run, one INSERT of the logs
    assert [write.journal.stored for write in writes] == [True, False, True]
    for write, n in zip(writes, (2, 0, 3), strict=True):
        stored = Run.objects.get(pk=write.journal.run.pk)
        assert stored.status == ("succeeded" if n else "queued")
        assert list(stored.logs.order_by("id").values_list("node_id", "output")) == [
            (f"n{i}", i) for i in range(n)]


# -- PostgreSQL: a batch of new runs and their logs as one statement, committed by itself ------

@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("one statement committed by itself: PostgreSQL's")


@contextmanager
def statements():
    """Every statement this thread's connection executes (Django's cursors and
    runs.prepared_inserts.raw_execute both go through its execute wrappers), with whether a
    transaction was open around it (Django's BEGIN is not a statement here: atomic()
    switches autocommit off)."""
    seen: list[tuple[str, bool]] = []

    def in_transaction():
        return connection.in_atomic_block or not connection.get_autocommit()

    def record(execute, sql, params, many, context):
        seen.append((sql, in_transaction()))
        return execute(sql, params, many, context)
    with connection.execute_wrapper(record):
        yield seen


def test_new_runs_and_their_logs_are_one_statement_outside_a_transaction(user, postgresql):
    wf = make_workflow(owner=user)
    writes = [_new_run(wf, n) for n in (2, 1, 3)]
    with statements() as seen:
        group_writer.GroupWriter._together(writes)
    assert len(seen) == 1
    assert seen[0][0].startswith("WITH ")
    assert seen[0][1] is False  # committed by itself: no BEGIN, no COMMIT
    for write, n in zip(writes, (2, 1, 3), strict=True):
        stored = Run.objects.get(pk=write.run.pk)  # each run got its own key back
        assert stored.input == {"logs": n}
        assert list(stored.logs.order_by("id").values_list("pk", "node_id", "output")) == [
            (log.pk, f"n{i}", i) for i, log in enumerate(write.logs)]  # and each log its own
        assert all(log.run_id == write.run.pk and log.run is write.run for log in write.logs)
        assert not write.run._state.adding


def test_accepted_runs_without_logs_are_one_insert_outside_a_transaction(user):
    """Runs accepted to run later have no logs yet: a batch of them is one INSERT, which the
    database commits by itself (no BEGIN, no COMMIT), all or nothing; on either database."""
    from django.db import IntegrityError

    wf = make_workflow(owner=user)
    writes = [_new_run(wf, 0) for _ in range(3)]
    writes[2].run.trigger = None  # the column takes no NULL
    with statements() as seen, pytest.raises(IntegrityError):
        group_writer.GroupWriter._together(writes)
    assert [(sql.split(" (")[0], in_transaction) for sql, in_transaction in seen] == [
        ('INSERT INTO "runs_run"', False)]
    assert not Run.objects.filter(workflow=wf).exists()  # one statement: none of them
    writes[2].run.trigger = "webhook"
    with statements() as seen:
        group_writer.GroupWriter._together(writes)
    assert len(seen) == 1
    assert seen[0][1] is False
    keys = [write.run.pk for write in writes]
    assert len(set(keys)) == 3
    assert all(not write.run._state.adding for write in writes)
    assert sorted(Run.objects.filter(workflow=wf).values_list("pk", flat=True)) == sorted(keys)


def test_accepted_runs_beyond_one_statements_parameters_go_in_a_transaction(user, monkeypatch):
    """Where the backend would split the INSERT (SQLite's parameter limit), the runs are
    written in a transaction instead, so that a batch is still all or nothing."""
    wf = make_workflow(owner=user)
    writes = [_new_run(wf, 0) for _ in range(3)]
    fields = len(Run._meta.concrete_fields) - 1
    # a property of the class: above PostgreSQL's cached value in the instance too
    monkeypatch.setattr(type(connection.features), "max_query_params",
                        property(lambda features: 2 * fields))
    with statements() as seen:
        group_writer.GroupWriter._together(writes)
    assert seen
    assert all(in_transaction for sql, in_transaction in seen if not sql.startswith("BEGIN"))
    assert Run.objects.filter(workflow=wf).count() == 3


def test_a_failing_statement_writes_nothing_and_a_retry_writes_anew(user, postgresql):
    """The statement is all or nothing, as the transaction was: a log the database refuses
    leaves no run behind; the same writes then go again with new keys (the writer retries
    each write of a failed batch alone)."""
    from django.db import DataError

    wf = make_workflow(owner=user)
    writes = [_new_run(wf, 2), _new_run(wf, 1)]
    writes[1].logs[0].node_id = "x" * 1000  # longer than the column takes
    with pytest.raises(DataError):
        group_writer.GroupWriter._together(writes)
    assert not Run.objects.filter(workflow=wf).exists()
    writes[1].logs[0].node_id = "n0"
    group_writer.GroupWriter._together(writes)
    assert sorted(run.logs.count() for run in Run.objects.filter(workflow=wf)) == [1, 2]
    assert {log.run_id for write in writes for log in write.logs} == {
        write.run.pk for write in writes}


@pytest.mark.parametrize("shape", ["a run without logs", "a model call", "in a transaction"])
def test_what_one_statement_cannot_take_goes_in_a_transaction(user, postgresql, shape):
    from runs.engine.log_rows import NewRun
    from runs.models import ModelCall

    wf = make_workflow(owner=user)
    writes = [_new_run(wf, 2), _new_run(wf, 0 if shape == "a run without logs" else 1)]
    if shape == "a model call":
        writes[1].calls.append(ModelCall(node_id="n0", workflow=wf, provider="openai",
                                            model="m"))
    with statements() as seen:
        if shape == "in a transaction":
            with transaction.atomic():
                assert NewRun.one_statement(writes) is None
                NewRun.together(writes)
        else:
            group_writer.GroupWriter._together(writes)
    assert not any(sql.startswith("WITH ") for sql, _ in seen)
    assert all(in_transaction for _, in_transaction in seen)
    assert Run.objects.filter(workflow=wf).count() == 2


def test_on_sqlite_one_statement_does_not_apply_and_writes_nothing(user):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's side")
    from runs.engine.log_rows import NewRun

    wf = make_workflow(owner=user)
    assert NewRun.one_statement([_new_run(wf, 1)]) is None
    assert not Run.objects.filter(workflow=wf).exists()


def test_the_writer_stores_a_batch_of_new_runs_in_one_statement(user, postgresql, writer,
                                                                monkeypatch):
    from runs.engine.log_rows import NewRun

    wf = make_workflow(owner=user)
    calls: list[int] = []
    one_statement = NewRun.one_statement

    def spy(writes):
        statement = one_statement(writes)
        calls.append(len(writes) if statement else -len(writes))
        return statement
    monkeypatch.setattr(NewRun, "one_statement", staticmethod(spy))
    release, first = hold(writer)
    writes = [_new_run(wf, n) for n in (1, 3, 2)]
    futures = [writer.submit(write) for write in writes]
    release.set()
    for future in [first, *futures]:
        assert future.result(10) is None
    assert calls == [3]  # the three together, behind the gate
    for write in writes:
        assert Run.objects.get(pk=write.run.pk).logs.count() == len(write.logs)


def _settle_later(action, delay=0.05):
    threading.Timer(delay, action).start()


def test_a_written_wakes_its_waiter_once_settled_and_stays_settled():
    written = group_writer.Written()
    assert not written.done()
    _settle_later(written.set_result)
    written.result(10)  # blocks until the other thread settles it
    assert written.done()
    written.result(0)  # settled for good: no wait, no error


def test_a_failed_write_raises_its_error_in_every_waiter():
    written = group_writer.Written()
    error = IntegrityError("duplicate")
    _settle_later(lambda: written.set_exception(error))
    for _ in range(2):
        with pytest.raises(IntegrityError) as raised:
            written.result(10)
        assert raised.value is error
    assert written.done()


def test_a_waiter_gives_up_after_its_timeout_and_can_wait_again():
    written = group_writer.Written()
    with pytest.raises(TimeoutError):
        written.result(0.01)
    assert not written.done()
    written.set_result()
    written.result(0)


def test_many_waiters_of_one_writer_are_each_woken_with_their_own_outcome(user, writer):
    wf = make_workflow(owner=user, definition=simple_definition())

    def bad():
        raise IntegrityError("a bad write")
    writes = [insert_run(wf) if n % 3 else bad for n in range(30)]
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda w: _outcome(writer.submit(w)), writes))
    assert outcomes == ["failed" if n % 3 == 0 else "ok" for n in range(30)]
    assert Run.objects.filter(workflow=wf).count() == 20


def _outcome(written):
    try:
        written.result(30)
    except IntegrityError:
        return "failed"
    return "ok"


@pytest.mark.parametrize("logs", [0, 2])
def test_the_writers_lock_is_held_for_the_database_work_only(user, monkeypatch, logs):
    """A batch's parameters (every field of every row through its preparation: Python's work)
    are made before the writers' lock is taken, which the other process's writer waits for
    on SQLite; under the lock only the statements run."""
    from runs.prepared_inserts import PreparedInsert

    wf = make_workflow(owner=user)
    locked = threading.Event()
    prepared_under_lock: list[object] = []
    take_turns = group_writer.writers_take_turns

    @contextmanager
    def spied_turns():
        with take_turns():
            locked.set()
            try:
                yield
            finally:
                locked.clear()
    row_params = PreparedInsert.row_params

    def spied_row_params(obj, *args, **kwargs):
        if locked.is_set():
            prepared_under_lock.append(obj)
        return row_params(obj, *args, **kwargs)
    monkeypatch.setattr(group_writer, "writers_take_turns", spied_turns)
    monkeypatch.setattr(PreparedInsert, "row_params", staticmethod(spied_row_params))
    writes = [_new_run(wf, logs) for _ in range(3)]
    group_writer.GroupWriter._together(writes)
    assert prepared_under_lock == []
    for write in writes:  # each log keeps its run, with the key it got (no query to read it)
        assert all(log.run_id == write.run.pk and log.run is write.run and log.pk
                   for log in write.logs)
    stored = Run.objects.filter(workflow=wf)
    assert sorted(run.pk for run in stored) == sorted(write.run.pk for write in writes)
    assert all(run.logs.count() == logs for run in stored)
