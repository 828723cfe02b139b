"""The PostgreSQL health check asks the connection's socket, not the server
(wfaib/db_postgresql/base.py): a healthy idle connection is passed without a round trip; one
the server ended is found and replaced; anything else waiting on the socket falls back to
Django's `SELECT 1`."""

from __future__ import annotations

import select
import time

import pytest
from django.db import connection, connections
from django.db.backends.postgresql import base as stock

from wfaib.db_postgresql.base import DatabaseWrapper

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's backend"),
]


@pytest.fixture
def kept():
    """A connection of its own, as a request thread keeps one between requests."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def _pid(wrapper) -> int:
    with wrapper.connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _readable(wrapper, timeout: float = 5.0) -> bool:
    readable, _, _ = select.select([wrapper.connection.fileno()], [], [], timeout)
    return bool(readable)


def test_the_project_uses_this_backend():
    assert isinstance(connections["default"], DatabaseWrapper)


def test_a_healthy_idle_connection_is_usable_without_a_query(kept, monkeypatch):
    def round_trip(self):
        raise AssertionError("SELECT 1 sent")

    monkeypatch.setattr(stock.DatabaseWrapper, "is_usable", round_trip)
    assert kept.is_usable()


def test_a_connection_the_server_ended_is_found_and_replaced(kept):
    pid = _pid(kept)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s, 10000)", [pid])
        assert cursor.fetchone()[0] is True
    assert _readable(kept)  # the server's goodbye
    assert not kept.is_usable()
    kept.health_check_enabled, kept.health_check_done = True, False
    kept.close_if_health_check_failed()
    assert kept.connection is None  # closed, so the next use opens a fresh one
    kept.ensure_connection()
    assert _pid(kept) != pid


def test_something_else_on_the_socket_falls_back_to_djangos_check(kept, monkeypatch):
    with kept.connection.cursor() as cursor:
        cursor.execute("LISTEN wfaib_health_check_test")
    with connection.cursor() as cursor:
        cursor.execute("NOTIFY wfaib_health_check_test")
    deadline = time.monotonic() + 5
    while not _readable(kept, 0.1) and time.monotonic() < deadline:
        pass
    calls = []
    original = stock.DatabaseWrapper.is_usable

    def counted(self):
        calls.append(1)
        return original(self)

    monkeypatch.setattr(stock.DatabaseWrapper, "is_usable", counted)
    assert kept.is_usable()
    assert calls == [1]


def test_a_connection_past_descriptor_1023_is_checked_without_a_query(monkeypatch):
    """select() refuses descriptors past 1023 (a busy server has them): the check must not
    take that for a dead connection and replace it on every request."""
    import os

    spare = []
    try:
        while not spare or spare[-1] < 1100:
            spare.append(os.dup(0))
        wrapper = connections.create_connection("default")
        wrapper.ensure_connection()
        try:
            assert wrapper.connection.fileno() > 1023

            def round_trip(self):
                raise AssertionError("SELECT 1 sent")

            monkeypatch.setattr(stock.DatabaseWrapper, "is_usable", round_trip)
            assert wrapper.is_usable()
        finally:
            wrapper.close()
    finally:
        for fd in spare:
            os.close(fd)
