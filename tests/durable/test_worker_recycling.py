"""A worker replaced after WFAIB_WORKER_MAX_TASKS tasks (wfaib/celery.py, run_worker): the
worker asks itself for a warm shutdown with RECYCLE_EXIT, and the supervisor starts a fresh
one at once, counted apart from restarts after a failure. The real worker's side is in
test_processes.py."""

from __future__ import annotations

import sys
import threading

import pytest
from celery.worker import state

from runs.management.commands.run_worker import Supervisor
from wfaib.celery import RECYCLE_EXIT, _Recycling


@pytest.fixture
def clean_state():
    state.should_stop = None
    yield
    state.should_stop = None


def test_the_worker_stops_itself_after_its_max_tasks(clean_state):
    recycling = _Recycling()
    recycling.after = 3
    recycling.task_done()
    recycling.task_done()
    assert state.should_stop is None
    recycling.task_done()
    assert state.should_stop == RECYCLE_EXIT


def test_without_a_maximum_it_never_stops(clean_state):
    recycling = _Recycling()  # after = 0: WFAIB_WORKER_MAX_TASKS unset, or a prefork worker
    for _ in range(1000):
        recycling.task_done()
    assert state.should_stop is None


def test_a_shutdown_asked_for_otherwise_is_left_as_it_is(clean_state):
    state.should_stop = 0  # SIGTERM's warm shutdown, exit code 0
    recycling = _Recycling()
    recycling.after = 1
    recycling.task_done()
    assert state.should_stop == 0


def test_the_supervisor_starts_a_recycled_worker_again_at_once(tmp_path):
    """A child that ends with RECYCLE_EXIT three times, then waits to be stopped: three fresh
    starts, none of them counted as a restart after a failure (whose pause is 1 s and more)."""
    starts = tmp_path / "starts"
    child = (f"import pathlib, sys, time; p = pathlib.Path({str(starts)!r}); "
             f"n = len(p.read_text()) if p.exists() else 0; p.write_text('x' * (n + 1)); "
             f"sys.exit({RECYCLE_EXIT}) if n < 3 else time.sleep(60)")
    supervisor = Supervisor([sys.executable, "-c", child])
    thread = threading.Thread(target=supervisor.run)
    thread.start()
    try:
        for _ in range(600):
            if starts.exists() and len(starts.read_text()) == 4:
                break
            threading.Event().wait(0.05)
        assert len(starts.read_text()) == 4
        assert (supervisor.recycles, supervisor.restarts) == (3, 0)
    finally:
        supervisor.stop()
        thread.join(30)
    assert not thread.is_alive()
