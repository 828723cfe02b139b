"""Retry a short write when SQLite says "database is locked".

    run = retry_on_lock(claim, run_id)

SQLite has one writer at a time; a writer waits up to the busy timeout (SQLITE_BUSY_TIMEOUT)
and then fails with `OperationalError: database is locked`. Under a burst of webhooks that can
happen to the writes that create, start and finish runs, and an accepted run must never fail
because of it: those writes are retried, with a growing pause, on a fresh attempt of the whole
transaction. Inside an outer transaction nothing can be retried (the outer one is broken), so
the error goes up unchanged. Other errors are never retried here.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

from django.db import OperationalError, connection

logger = logging.getLogger("wfaib.db")

ATTEMPTS = 8
FIRST_PAUSE = 0.05  # seconds; doubles each attempt, with jitter, up to MAX_PAUSE
MAX_PAUSE = 2.0


def is_locked(exc: BaseException) -> bool:
    """SQLite's lock errors ("database is locked", "database table is locked")."""
    return isinstance(exc, OperationalError) and "is locked" in str(exc)


def retry_on_lock[T](fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Call `fn(*args, **kwargs)` (a function that opens its own transaction), again after a
    pause when it fails on a lock, up to ATTEMPTS times."""
    pause = FIRST_PAUSE
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return fn(*args, **kwargs)
        except OperationalError as exc:
            if not is_locked(exc) or attempt == ATTEMPTS or connection.in_atomic_block:
                raise
            logger.warning("%s: database is locked (attempt %d of %d); retrying",
                           getattr(fn, "__name__", fn), attempt, ATTEMPTS)
            time.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 2, MAX_PAUSE)
    raise AssertionError("unreachable")
