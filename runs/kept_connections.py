"""Django's `close_old_connections()` for a thread that does one unit of work after another (a
Celery task, a run of the inline pool, a group-commit batch), as Django does around each
request, but without a health check after every unit under load.

    kept = KeptConnections()        # one per thread that loops (thread-local: `for_thread()`)
    kept.refresh()                  # before (and after) each unit of work

`close_old_connections()` closes a connection past CONN_MAX_AGE, or one with errors that no
longer answers, and with CONN_HEALTH_CHECKS marks the others to be checked on their next use:
on PostgreSQL a `SELECT 1` round trip, one per unit of work. `refresh()` skips that check when
it ran less than FRESH seconds ago: the connection was in use a moment ago, and one that had an
error since is still checked (and closed if broken) by `close_old_connections()` itself. After
a pause, the check is made as before. Measured: bench/RESULTS.md (2026-12-01, 23:01 and 23:19).
"""

from __future__ import annotations

import math
import threading
import time

from django.db import close_old_connections, connections

FRESH = 1.0  # seconds


class KeptConnections:
    def __init__(self) -> None:
        self.at = -math.inf  # time.monotonic() of the last refresh

    def refresh(self) -> None:
        now = time.monotonic()
        fresh = now - self.at < FRESH
        close_old_connections()
        if fresh:
            for conn in connections.all(initialized_only=True):
                if conn.connection is not None:
                    conn.health_check_done = True  # type: ignore[attr-defined]  # not in stubs
        self.at = now


_local = threading.local()


def for_thread() -> KeptConnections:
    """This thread's KeptConnections (connections are per thread)."""
    kept = getattr(_local, "kept", None)
    if kept is None:
        kept = _local.kept = KeptConnections()
    return kept
