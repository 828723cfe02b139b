"""kombu's Redis transport with one Redis client per channel instead of one per publish.

    CELERY_BROKER_TRANSPORT = "wfaib.broker:RedisTransport"   # settings.py, for redis:// URLs

kombu's Redis channel builds a new `redis.Redis` client for every publish (and for every other
command it sends outside its consumer's client): the client object only, its connections come
from the channel's pool. Building one copies redis-py's ~170 response callbacks into a
case-insensitive dict, about a seventh of what publishing one Celery task costs the web
process (bench/RESULTS.md). A `redis.Redis` client is safe to share between threads (each
command takes a connection from the pool and gives it back), so the channel keeps the one it
built for as long as its pool lives; kombu drops the pool after a fork or a disconnect, and the
client goes with it. Everything else is kombu's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import redis as kombu_redis


class RedisChannel(kombu_redis.Channel):
    _shared_client: Any = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        pool = self.pool
        shared = self._shared_client
        if shared is None or shared.connection_pool is not pool:
            shared = self._shared_client = self._create_client()
        yield shared


class RedisTransport(kombu_redis.Transport):
    Channel = RedisChannel

