"""The publisher thread's own Celery producer, and its task queue declared once per connection.

    kept = KeptProducer(app)                     # one per publishing thread that lives on
    with kept.use() as producer:                 # the same producer every time
        app.send_task(name, args, producer=producer,
                      declare=declare_for(producer, task_queue(app, name)))

Publishing one task cost the web process ~1.7 M CPU instructions, as much as accepting a
webhook request, and two parts of it were bookkeeping (callgrind, bench/RESULTS.md):
- Celery's `producer_or_acquire` takes a producer from the app's pool for every publish and
  gives it back after; kombu then binds it to a channel of a pooled connection anew each time
  (~13 %). The publisher thread (runs/task_publisher.py) lives as long as its process, so it
  keeps a producer on a connection of its own (outside the pool: nothing the pool counts is
  held). A publish that raised (kombu's retry policy gave up reconnecting) closes that
  connection, and the next publish opens another; a forked child opens its own.
- For every message kombu binds a copy of the task queue to the channel before it finds the
  queue among those the connection has declared already (~18 %). `declare_for` asks kombu to
  declare it (Celery's default, `None`) only while the producer's connection has not recorded
  it; kombu clears that record when it reconnects, so a new connection declares it again.

For a thread that keeps publishing; anyone else publishes through `app.producer_or_acquire()`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import Celery
from kombu import Producer, Queue


class KeptProducer:
    def __init__(self, app: Celery) -> None:
        self._app = app
        self._producer: Producer | None = None
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        """In a forked child: the parent's producer and connection stay the parent's."""
        self._producer = None

    @contextmanager
    def use(self) -> Iterator[Producer]:
        producer = self._producer
        if producer is None:  # connects on its first publish
            producer = self._producer = Producer(self._app.connection_for_write())
        try:
            yield producer
        except BaseException:
            self._producer = None
            producer.connection.release()  # closes it: not one of the pool's
            raise


def declare_for(producer: Producer, queue: Queue | None) -> list[Any] | None:
    """`declare` for `send_task`: [] (nothing) once the producer's connection has declared
    `queue`, else None (Celery's default: kombu declares it and records that it did)."""
    if queue is None or not queue.can_cache_declaration:
        return None
    declared = producer.connection.declared_entities
    return [] if declared is not None and hash(queue) in declared else None


def task_queue(app: Celery, task_name: str) -> Queue | None:
    """The queue the app routes the task to (and declares on sending it), by the routes and
    default queue configured now."""
    return app.amqp.router.route({}, task_name).get("queue")
