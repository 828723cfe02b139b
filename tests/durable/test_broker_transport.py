"""The Redis broker transport (wfaib/broker.py): kombu's own, except that a channel sends its
commands through one Redis client instead of building a new one per publish. Chosen by the
broker URL's scheme; every other broker keeps kombu's transport."""

from __future__ import annotations

import base64
import threading

import orjson
import pytest
import redis
from celery import Celery

from runs.celery_executor import CeleryExecutor
from tests.durable.conftest import QUEUE, REDIS_URL, redis_available
from wfaib.broker import RedisChannel, RedisTransport
from wfaib.celery import app
from wfaib.settings import broker_transport_for

needs_redis = pytest.mark.skipif(not redis_available(), reason="needs Redis on 127.0.0.1:6379")


@pytest.mark.parametrize(("url", "transport"), [
    ("redis://127.0.0.1:6379/0", "wfaib.broker:RedisTransport"),
    ("rediss://:secret@cache.example:6380/2", "wfaib.broker:RedisTransport"),
    ("REDIS://127.0.0.1:6379/0", "wfaib.broker:RedisTransport"),
    ("redis://a:6379/0;redis://b:6379/0", "wfaib.broker:RedisTransport"),
    ("amqp://guest:guest@127.0.0.1:5672//", None),
    ("sentinel://127.0.0.1:26379;sentinel://127.0.0.2:26379", None),
    ("redis+socket:///run/redis.sock", None),
    ("memory://", None),
    ("", None),
    ("redis", None),
])
def test_only_a_redis_url_gets_the_transport(url, transport):
    assert broker_transport_for(url) == transport


def test_the_app_connects_to_redis_through_it():
    with app.connection_for_write() as connection:
        assert connection.transport_cls == "wfaib.broker:RedisTransport"
        assert isinstance(connection.transport, RedisTransport)
        assert connection.transport.driver_type == "redis"  # what Celery and tools ask for
    with Celery("rabbit", broker="amqp://guest:guest@127.0.0.1:5672//").connection_for_write() \
            as connection:
        assert not isinstance(connection.transport, RedisTransport)


@needs_redis
def test_a_channel_keeps_one_client_until_kombu_replaces_its_pool():
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        assert isinstance(channel, RedisChannel)
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as again:
            assert first is again
            assert first.connection_pool is channel.pool
            assert first.ping()
        given = redis.Redis.from_url(REDIS_URL)
        with channel.conn_or_acquire(given) as passed:
            assert passed is given  # kombu's own rule for a client passed in
        given.close()
        channel._after_fork()  # what kombu does in a forked child: the pool goes, and its client
        with channel.conn_or_acquire() as fresh:
            assert fresh is not first
            assert fresh.connection_pool is channel.pool
            assert fresh.ping()


@needs_redis
def test_tasks_published_from_many_threads_all_arrive_once(settings):
    """Publishing threads (several producers of the app's pool, each with its channel and
    client; the clients' commands share nothing but the pool's connections) lose nothing."""
    settings.WFAIB = {**settings.WFAIB, "CELERY_TASK_RUNS": 8}
    broker = redis.Redis.from_url(REDIS_URL)
    broker.delete(QUEUE)

    def publish(first: int) -> None:  # a failed publish is logged, and its ids missing below
        for start in range(first, first + 200, 4):
            CeleryExecutor._publish(list(range(start, start + 4)))

    threads = [threading.Thread(target=publish, args=(n * 1000,)) for n in range(6)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        messages = [orjson.loads(raw) for raw in broker.lrange(QUEUE, 0, -1)]
    finally:
        broker.delete(QUEUE)
    ids = sorted(i for m in messages for i in orjson.loads(base64.b64decode(m["body"]))[0][0])
    assert ids == sorted(n * 1000 + i for n in range(6) for i in range(200))
