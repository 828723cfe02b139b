"""Django's PostgreSQL backend, with a health check that costs no round trip.

    DATABASES["default"]["ENGINE"] = "wfaib.db_postgresql"   # wfaib/settings.py sets it

A kept connection (CONN_MAX_AGE, CONN_HEALTH_CHECKS) is checked before its first use in each
request, Celery task and group-commit batch. Django's check sends `SELECT 1` and waits for the
answer: a round trip per request, ~3-6 % of a webhook's throughput on PostgreSQL
(bench/RESULTS.md). An idle connection has nothing to read, so this check asks the socket
instead: when the server ended the session (a restart, a failover, `pg_terminate_backend`), it
sent its error and closed its end, and the socket is readable. Only then, or when psycopg
already knows the connection is closed or broken, is Django's own check run, and it decides.
A server that vanished without a word (a cable cut) is found by the next statement, as it
would be a moment after a `SELECT 1` that succeeded.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        try:
            waiting = select.poll()  # poll, not select: a descriptor past 1023 is fine
            waiting.register(connection.fileno(), select.POLLIN)
            readable = waiting.poll(0)
        except (OSError, ValueError):  # the socket is gone
            return False
        return not readable or super().is_usable()
