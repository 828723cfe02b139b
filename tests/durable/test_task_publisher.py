"""The Celery executor publishes tasks from one thread per process (runs/task_publisher.py): the
request that committed a run does not wait for the broker, nothing handed out is lost on the
way (drain() returns once it is with the broker), and a broker out of reach leaves the runs
queued with a log line naming them."""

from __future__ import annotations

import base64
import logging
import multiprocessing
import os
import re
import socket
import threading
import time

import orjson
import pytest
import redis
from celery import Celery
from django.test import Client

from runs import celery_executor, dispatch
from runs.celery_executor import CeleryExecutor, task_chunks
from runs.models import Run
from runs.task_publisher import TaskPublisher, named
from tests.durable.conftest import QUEUE, REDIS_URL, redis_available
from tests.factories import make_workflow, simple_definition


def test_ids_put_while_one_batch_publishes_are_taken_together_in_order():
    batches: list[list[int]] = []
    entered, release = threading.Event(), threading.Event()

    def publish(ids):
        batches.append(ids)
        entered.set()
        release.wait(10)

    publisher = TaskPublisher(publish)
    publisher.put(1)
    assert entered.wait(10)
    for run_id in (2, 3, 4):
        publisher.put(run_id)
    assert not publisher.flush(timeout=0.05)  # still publishing: not everything handed on
    release.set()
    assert publisher.flush(timeout=10)
    assert batches == [[1], [2, 3, 4]]


def test_under_load_ids_wait_for_the_interval_or_until_enough_are_in():
    """The first id goes out at once; ids put within `interval` of that publish are gathered
    (not published yet), and go out together as soon as `enough` are in."""
    batches: list[list[int]] = []
    publisher = TaskPublisher(batches.append, interval=lambda: 60.0, enough=lambda: 3)
    publisher.put(1)
    assert publisher.flush(timeout=10)  # nothing published before: at once
    publisher.put(2)
    publisher.put(3)
    time.sleep(0.3)
    assert batches == [[1]]  # within the interval, two of three: gathered
    publisher.put(4)
    deadline = time.monotonic() + 10
    while len(batches) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert batches == [[1], [2, 3, 4]]  # enough: out without waiting out the interval


def test_flush_hands_gathered_ids_on_without_waiting_out_the_interval():
    """A caller of flush (drain, an ending process) wants the tasks out now: the ids the thread
    is gathering for the interval go at once."""
    batches: list[list[int]] = []
    publisher = TaskPublisher(batches.append, interval=lambda: 60.0, enough=lambda: 100)
    publisher.put(1)
    assert publisher.flush(timeout=10)
    publisher.put(2)
    publisher.put(3)
    time.sleep(0.2)
    assert batches == [[1]]  # gathered for the interval
    started = time.monotonic()
    assert publisher.flush(timeout=30)
    assert batches == [[1], [2, 3]]
    assert time.monotonic() - started < 30  # not the interval's 60 s (a hang guard)
    publisher.put(4)
    time.sleep(0.2)
    assert batches == [[1], [2, 3]]  # after the flush, gathering as before


@pytest.mark.parametrize("interval", [0.0, -5.0])  # a negative setting: as none
def test_without_an_interval_every_id_goes_out_as_soon_as_the_thread_is_free(interval):
    batches: list[list[int]] = []
    publisher = TaskPublisher(batches.append, interval=lambda: interval, enough=lambda: 100)
    for run_id in (1, 2, 3):
        publisher.put(run_id)
        assert publisher.flush(timeout=10)
    assert batches == [[1], [2], [3]]


def test_a_failing_publish_is_logged_and_the_thread_goes_on(caplog):
    published: list[int] = []

    def publish(ids):
        if 13 in ids:
            raise ConnectionError("broker gone")
        published.extend(ids)

    publisher = TaskPublisher(publish)
    with caplog.at_level(logging.ERROR, logger="wfaib.dispatch"):
        publisher.put(13)
        assert publisher.flush(timeout=10)
    assert "runs [13]: could not publish their tasks; they stay queued" in caplog.text
    publisher.put(14)
    assert publisher.flush(timeout=10)
    assert published == [14]


PUBLISHED: list[int] = []
GATE = threading.Event()
PARENT = os.getpid()


def _publish_holding_the_parent(ids: list[int]) -> None:
    if os.getpid() == PARENT:
        GATE.wait(10)
    PUBLISHED.extend(ids)


def _put_in_child(publisher: TaskPublisher, out) -> None:
    publisher.put(2)
    out.send((publisher.flush(timeout=10), PUBLISHED))


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_process_publishes_from_its_own_thread():
    """A prefork Celery worker's child (or a forked web worker) gets its own thread and lock;
    what the parent put stays the parent's to publish."""
    PUBLISHED.clear()
    GATE.clear()
    publisher = TaskPublisher(_publish_holding_the_parent)
    publisher.put(1)  # the parent's thread is busy with it when the child forks
    reader, writer = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(target=_put_in_child,
                                                        args=(publisher, writer))
    child.start()
    try:
        assert reader.poll(20), "the child's flush did not return"
        assert reader.recv() == (True, [2])
    finally:
        child.join(10)
        GATE.set()
    assert publisher.flush(timeout=10)
    assert PUBLISHED == [1]


# kombu tries to connect again for ~6 s before it gives up a publish; these brokers are gone.
NO_RETRIES = {"socket_connect_timeout": 1, "max_retries": 0, "interval_start": 0,
              "interval_step": 0, "interval_max": 0}

needs_redis = pytest.mark.skipif(not redis_available(), reason="needs Redis on 127.0.0.1:6379")


@needs_redis
def test_runs_handed_out_are_with_the_broker_once_drain_returns():
    broker = redis.Redis.from_url(REDIS_URL)
    broker.delete(QUEUE)
    celery = CeleryExecutor()
    for run_id in (101, 102, 103):
        assert celery.submit(run_id) is None  # nothing to wait for: the caller goes on
    assert celery.drain(timeout=30)
    try:
        messages = [orjson.loads(raw) for raw in broker.lrange(QUEUE, 0, -1)]
    finally:
        broker.delete(QUEUE)
    # Taken one at a time or together as the publisher thread found them (any split of the
    # three into consecutive tasks), each run exactly once and in the order submitted.
    tasks = [_ids_in(m) for m in reversed(messages)]  # LPUSH puts the newest first
    assert all(tasks)
    assert [run_id for task in tasks for run_id in task] == [101, 102, 103]
    assert {m["headers"]["task"] for m in messages} == {dispatch.TASK_NAME}


def _ids_in(message: dict) -> list[int]:
    """The run ids a task message carries (its body: [args, kwargs, embed], base64 JSON)."""
    args, _kwargs, _embed = orjson.loads(base64.b64decode(message["body"]))
    assert message["headers"]["argsrepr"] == str(args)
    return args[0]


@needs_redis
def test_runs_taken_together_go_out_as_tasks_of_at_most_the_setting(settings):
    """Celery's cost is per message (built here, received and acknowledged by a worker): the
    runs a process hands out together are carried by as few tasks as WFAIB_CELERY_TASK_RUNS
    allows, in even shares, and in the order they were accepted."""
    settings.WFAIB = {**settings.WFAIB, "CELERY_TASK_RUNS": 3}
    broker = redis.Redis.from_url(REDIS_URL)
    broker.delete(QUEUE)
    try:
        CeleryExecutor._publish(list(range(201, 208)))  # 7 runs at 3 per task: 3, 2, 2
        messages = [orjson.loads(raw) for raw in broker.lrange(QUEUE, 0, -1)]
    finally:
        broker.delete(QUEUE)
    # LPUSH puts the newest first
    assert [_ids_in(m) for m in reversed(messages)] == [[201, 202, 203], [204, 205], [206, 207]]


def test_task_chunks_are_even_and_never_larger_than_asked():
    assert task_chunks([], 8) == []
    assert task_chunks([1], 8) == [[1]]
    assert task_chunks(list(range(9)), 8) == [[0, 1, 2, 3, 4], [5, 6, 7, 8]]
    assert task_chunks(list(range(16)), 8) == [list(range(8)), list(range(8, 16))]
    assert task_chunks([1, 2, 3], 1) == [[1], [2], [3]]
    assert task_chunks([1, 2, 3], 0) == [[1], [2], [3]]  # a nonsense setting: one per task
    assert task_chunks([1, 2, 3], -4) == [[1], [2], [3]]
    for n in range(1, 40):
        for most in range(1, 10):
            chunks = task_chunks(list(range(n)), most)
            assert [i for chunk in chunks for i in chunk] == list(range(n))
            assert max(map(len, chunks)) <= most
            assert max(map(len, chunks)) - min(map(len, chunks)) <= 1
            assert len(chunks) == -(-n // most)


def test_a_broker_out_of_reach_leaves_the_runs_queued_and_names_them(monkeypatch, caplog):
    unreachable = Celery("unreachable", broker="redis://127.0.0.1:9/0")
    unreachable.conf.update(broker_connection_retry=False, task_publish_retry=False,
                            broker_transport_options=NO_RETRIES)
    monkeypatch.setattr(celery_executor, "celery_app", unreachable)
    celery = CeleryExecutor()
    with caplog.at_level(logging.ERROR, logger="wfaib.dispatch"):
        celery.submit(7)
        celery.submit(8)
        assert celery.drain(timeout=30)
    named = re.findall(r"runs \[([\d, ]+)\]: could not reach the Celery broker; they stay "
                       r"queued", caplog.text)
    assert sorted(int(n) for ids in named for n in ids.split(",")) == [7, 8]


@pytest.mark.django_db(transaction=True)
def test_a_webhook_is_answered_while_the_broker_hangs(settings, monkeypatch, caplog):
    """The broker accepts the connection and never answers: the request gets its 202 and its
    run is committed `queued` while the publisher still waits; when the broker goes away, the
    publisher names the run it could not hand on."""
    silent = socket.create_server(("127.0.0.1", 0))  # connections wait in its backlog
    hanging = Celery("hanging", broker=f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
    hanging.conf.update(broker_connection_retry=False, task_publish_retry=False,
                        broker_transport_options={**NO_RETRIES, "socket_timeout": 5})
    monkeypatch.setattr(celery_executor, "celery_app", hanging)
    settings.WFAIB = {**settings.WFAIB, "EXECUTOR": "celery"}
    monkeypatch.setitem(dispatch._instances, "celery", CeleryExecutor())
    workflow = make_workflow(definition=simple_definition(
        {"id": "t", "type": "transform", "config": {"expression": "{{ input }}"}}))
    try:
        answer = Client().post(f"/api/webhook/{workflow.pk}?wait=false", b'{"a": 1}',
                               content_type="application/json")
        assert answer.status_code == 202
        run = Run.objects.get(workflow=workflow)
        assert run.status == Run.Status.QUEUED
        assert not dispatch.executor().drain(timeout=0.2)  # the publisher still waits
    finally:
        with caplog.at_level(logging.ERROR, logger="wfaib.dispatch"):
            silent.close()  # the waiting connection is reset
            assert dispatch.executor().drain(timeout=30)
    assert f"runs [{run.pk}]: could not reach the Celery broker" in caplog.text


def test_a_long_list_of_runs_is_shortened_in_the_log():
    assert named([1, 2, 3]) == "[1, 2, 3]"
    assert named(list(range(1, 3001)), shown=3) == "[1, 2, 3, ... and 2997 more]"


@pytest.mark.django_db(transaction=True)
def test_a_task_executes_its_runs_in_order_and_one_error_does_not_stop_the_others(
        monkeypatch, caplog):
    from runs.services import run_start
    from runs.tasks import execute_run_task, execute_runs_task

    workflow = make_workflow(definition=simple_definition(
        {"id": "t", "type": "transform", "config": {"expression": "{{ input.n * 2 }}"}}))
    runs = [run_start(workflow=workflow, input={"n": n}, execute=False) for n in (1, 2, 3, 4)]
    real_execute, executed = dispatch.execute, []

    def execute(run_id):
        executed.append(run_id)
        if run_id == runs[1].pk:
            raise RuntimeError("the executor broke")
        return real_execute(run_id)

    monkeypatch.setattr(dispatch, "execute", execute)
    with caplog.at_level(logging.ERROR, logger="wfaib.dispatch"):
        outcomes = execute_runs_task([run.pk for run in runs[:3]])
    assert executed == [run.pk for run in runs[:3]]
    assert outcomes == [Run.Status.SUCCEEDED, None, Run.Status.SUCCEEDED]
    assert f"run {runs[1].pk}: executor error in its Celery task" in caplog.text
    assert execute_run_task(runs[3].pk) == Run.Status.SUCCEEDED  # the one-run task of old
    statuses = {run.pk: Run.objects.get(pk=run.pk).status for run in runs}
    assert statuses == {runs[0].pk: "succeeded", runs[1].pk: "queued",
                        runs[2].pk: "succeeded", runs[3].pk: "succeeded"}
    assert Run.objects.get(pk=runs[2].pk).result == 6


@pytest.mark.django_db(transaction=True)
def test_a_task_busy_with_a_slow_run_hands_back_the_runs_it_has_not_begun(monkeypatch):
    """Runs accepted together share a task; one slow run must not hold the others while other
    workers are idle: after HAND_BACK_AFTER they go back to the executor (here the inline one,
    which executes them at once) and finish while the slow one is still running."""
    from runs import tasks
    from runs.services import run_start

    monkeypatch.setattr(tasks, "HAND_BACK_AFTER", 0.1)
    workflow = make_workflow(definition=simple_definition(
        {"id": "t", "type": "transform", "config": {"expression": "{{ input.n + 1 }}"}}))
    slow, *others = [run_start(workflow=workflow, input={"n": n}, execute=False)
                     for n in range(4)]
    real_execute, others_done = dispatch.execute, threading.Event()

    def execute(run_id):
        if run_id == slow.pk:  # slow until the others finished elsewhere (or 30 s)
            others_done.wait(30)
        return real_execute(run_id)

    def watch():
        while not others_done.is_set():
            if all(Run.objects.get(pk=run.pk).status == Run.Status.SUCCEEDED
                   for run in others):
                others_done.set()
            others_done.wait(0.05)

    monkeypatch.setattr(dispatch, "execute", execute)
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        outcomes = tasks.execute_runs_task([slow.pk] + [run.pk for run in others])
    finally:
        others_done.set()
        watcher.join(10)
    assert outcomes == [Run.Status.SUCCEEDED, None, None, None]  # the others ran elsewhere
    assert {Run.objects.get(pk=run.pk).status for run in [slow, *others]} == {"succeeded"}
    assert sorted(Run.objects.get(pk=run.pk).result for run in others) == [2, 3, 4]
