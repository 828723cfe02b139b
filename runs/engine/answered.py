"""An in-process signal from the engine to the request that waits for a run's webhook answer.

    waiter = expect(run.pk)        # the request thread, before the run is handed out
    ...                            # the engine: journal.respond stores the answer, commits,
    answered(run.pk, response)     #   then calls this (only after the commit)
    waiter.result(timeout)         # the request thread: the `respond` node's answer
    forget(run.pk)                 # always, when the request is done with it

Replaces polling the run's row for a `respond` node's answer when the run executes in this
process (the inline executor). The answer is signalled only once its row is committed, so
nothing is answered that a crash could lose. Runs executed elsewhere (Celery) keep polling.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

_waiting: dict[int, Future] = {}
_lock = threading.Lock()


def expect(run_id: int) -> Future:
    future: Future = Future()
    with _lock:
        _waiting[run_id] = future
    return future


def answered(run_id: int, response: Any) -> None:
    with _lock:
        future = _waiting.pop(run_id, None)
    if future is not None and not future.done():
        future.set_result(response)


def forget(run_id: int) -> None:
    with _lock:
        _waiting.pop(run_id, None)


def waiting() -> int:
    """How many requests wait for an answer now (tests, metrics)."""
    return len(_waiting)
