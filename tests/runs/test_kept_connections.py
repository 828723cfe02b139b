"""runs/kept_connections.py: a thread that does one unit of work after another keeps its
connection and does not have it health-checked (SELECT 1 on PostgreSQL) after every unit,
only after a pause or an error; the inline pool's threads work that way (runs.dispatch)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from runs import dispatch, kept_connections
from runs.models import Run

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def checks(monkeypatch):
    """The threads whose connection was health-checked, in order; connections kept."""
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 60)
    wrapper = type(connections["default"])
    usable = wrapper.is_usable
    seen: list[str] = []

    def spy(self):
        seen.append(threading.current_thread().name)
        return usable(self)
    monkeypatch.setattr(wrapper, "is_usable", spy)
    return seen


def work() -> int:
    return Run.objects.count()


def test_units_back_to_back_are_not_checked_one_after_a_pause_or_an_error_is(checks):
    kept = kept_connections.KeptConnections()
    connection.ensure_connection()
    kept.refresh()  # the first unit: its connection is checked
    work()
    checks.clear()
    for _ in range(10):
        kept.refresh()
        work()
    assert checks == []
    kept.at -= 10 * kept_connections.FRESH  # as after a pause
    kept.refresh()
    work()
    assert len(checks) == 1
    connection.errors_occurred = True  # the last unit met a database error
    kept.refresh()
    work()
    assert len(checks) == 2


def test_the_inline_pool_thread_checks_its_connection_once_not_per_run(checks):
    def one_run(run_id: int) -> None:
        work()
    with ThreadPoolExecutor(1, thread_name_prefix="pool") as pool:
        for run_id in range(10):
            pool.submit(dispatch._in_thread, one_run, run_id).result()
        pool.submit(lambda: connection.close()).result()  # that thread's own
    assert len(checks) <= 1  # perhaps the first, on a connection opened before
    assert kept_connections.for_thread() is kept_connections.for_thread()
