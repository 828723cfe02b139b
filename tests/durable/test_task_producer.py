"""The publisher thread keeps its Celery producer, and a task's queue is declared once per
connection (runs/task_producer.py): against real Redis, every task still arrives, a publish that
raised gives the producer back to the pool, a forked child takes its own, and a connection that
kombu opened anew declares the queue again."""

from __future__ import annotations

import base64
import multiprocessing

import orjson
import pytest
import redis

from runs.celery_executor import CeleryExecutor
from runs.dispatch import TASK_NAME
from runs.task_producer import KeptProducer, declare_for, task_queue
from tests.durable.conftest import QUEUE, REDIS_URL, redis_available
from wfaib.celery import app

pytestmark = pytest.mark.skipif(not redis_available(), reason="needs Redis on 127.0.0.1:6379")


def _queued_ids(broker: redis.Redis) -> list[int]:
    """The run ids of the task messages in the test queue, oldest first."""
    bodies = [orjson.loads(raw)["body"] for raw in reversed(broker.lrange(QUEUE, 0, -1))]
    return [i for body in bodies for i in orjson.loads(base64.b64decode(body))[0][0]]


@pytest.fixture
def broker():
    client = redis.Redis.from_url(REDIS_URL)
    client.delete(QUEUE)
    yield client
    client.delete(QUEUE)
    client.close()


def test_the_thread_keeps_one_producer_and_every_task_arrives(broker):
    kept = KeptProducer(app)
    with kept.use() as first:
        pass
    with kept.use() as again:
        assert again is first
    for start in range(0, 40, 4):
        CeleryExecutor._publish(list(range(start, start + 4)), kept=kept)
    with kept.use() as still:
        assert still is first
    assert _queued_ids(broker) == list(range(40))
    assert still.connection.connected  # one connection for all ten publishes, still open


def test_a_publish_that_raised_closes_its_connection_and_the_next_opens_one(broker):
    kept = KeptProducer(app)
    CeleryExecutor._publish([1], kept=kept)
    with pytest.raises(ConnectionError), kept.use() as broken:
        raise ConnectionError("the broker went away")
    assert not broken.connection.connected  # closed, not left open beside the new one
    with kept.use() as fresh:
        assert fresh is not broken
    CeleryExecutor._publish([2, 3], kept=kept)
    assert _queued_ids(broker) == [1, 2, 3]
    assert fresh.connection.connected


def _in_child(kept: KeptProducer, parent_connection_id: int, out) -> None:
    with kept.use() as producer:
        out.send(id(producer.connection) != parent_connection_id)
    CeleryExecutor._publish([2], kept=kept)


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_takes_a_producer_of_its_own(broker):
    kept = KeptProducer(app)
    CeleryExecutor._publish([1], kept=kept)
    with kept.use() as parents:
        pass
    reader, writer = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(target=_in_child,
                                                        args=(kept, id(parents.connection), writer))
    child.start()
    try:
        assert reader.poll(20), "the child did not answer"
        assert reader.recv() is True
    finally:
        child.join(10)
    with kept.use() as still:
        assert still is parents  # the parent's own, untouched and still open
    assert parents.connection.connected
    CeleryExecutor._publish([3], kept=kept)
    assert sorted(_queued_ids(broker)) == [1, 2, 3]  # the child's task arrived too


def test_the_queue_is_declared_until_the_connection_has_it_and_again_after_a_reconnect(broker):
    queue = task_queue(app, TASK_NAME)
    assert queue is not None
    assert queue.name == QUEUE  # the app's routing: the default queue
    with app.producer_or_acquire() as producer:
        producer.connection.declared_entities.clear()  # as kombu does when it reconnects
        assert declare_for(producer, queue) is None  # Celery's default: kombu declares it
        app.send_task(TASK_NAME, args=[[5]], producer=producer, declare=None)
        assert declare_for(producer, queue) == []  # declared on this connection: not again
        app.send_task(TASK_NAME, args=[[6]], producer=producer, declare=[])
        producer.connection.declared_entities.clear()
        assert declare_for(producer, queue) is None
    assert declare_for(producer, None) is None  # no queue routed: Celery decides
    assert _queued_ids(broker) == [5, 6]  # the task sent without a declaration arrived too


def test_the_executor_publishes_through_its_thread_s_kept_producer(broker):
    celery = CeleryExecutor()
    for run_id in (301, 302, 303):
        celery.submit(run_id)
    assert celery.drain(timeout=30)
    kept = celery._publisher._publish.keywords["kept"]
    assert isinstance(kept, KeptProducer)
    with kept.use() as producer:
        pass
    for run_id in (304, 305):
        celery.submit(run_id)
    assert celery.drain(timeout=30)
    with kept.use() as again:
        assert again is producer
    assert _queued_ids(broker) == [301, 302, 303, 304, 305]
