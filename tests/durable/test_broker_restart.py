"""A Redis broker restarted under a real Celery worker (`manage.py run_worker`, prefork): it comes
back (its supervisor restarts a Celery worker that stopped for good) and every run finishes,
the one in flight during the restart included."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import redis

from runs.models import Run
from runs.services import run_start
from runs.tasks import execute_run_task
from tests.factories import make_workflow, simple_definition
from wfaib.celery import app

from .conftest import free_port, subprocess_env, wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server binary"),
]


class RedisServer:
    """A redis-server of this test's own on a free port, without persistence."""

    def __init__(self, processes) -> None:
        self.processes, self.port = processes, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = self.processes.start(
            f"redis-{self.port}", ["redis-server", "--port", str(self.port), "--bind",
                                   "127.0.0.1", "--save", "", "--appendonly", "no"], {})
        wait_until(self.ping, "redis to answer", procs=self.processes)

    def ping(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False

    def restart(self) -> None:
        self.processes.kill(self.proc)  # as a crash: no clean shutdown, nothing saved
        self.start()


def send(run: Run, broker_url: str) -> None:
    with app.connection_for_write(broker_url) as conn:
        execute_run_task.apply_async((run.pk,), connection=conn)


def finished(run: Run) -> bool:
    run.refresh_from_db()
    return run.status in Run.FINISHED


def test_runs_finish_across_a_broker_restart(shared_db, processes, slow_server, settings):
    settings.WFAIB = {**settings.WFAIB, "EXECUTOR": "celery"}
    broker = RedisServer(processes)
    broker.start()
    worker = processes.start(
        "worker", [sys.executable, "manage.py", "run_worker", "--concurrency", "2", "--loglevel",
                   "WARNING", "--", "--without-gossip", "--without-mingle",
                   "--without-heartbeat"],
        subprocess_env(shared_db, WFAIB_EXECUTOR="celery", CELERY_BROKER_URL=broker.url))
    quick = make_workflow(definition=simple_definition(
        {"id": "t", "type": "transform", "config": {"expression": "input.n * 2"}}))

    def quick_run(n: int) -> Run:
        run = run_start(workflow=quick, input={"n": n}, execute=False)
        send(run, broker.url)
        return run

    first = quick_run(1)
    wait_until(lambda: finished(first), "the first run", procs=processes)
    in_flight = run_start(workflow=make_workflow(definition=slow_server.definition()),
                          input={}, execute=False)
    send(in_flight, broker.url)
    wait_until(slow_server.entered.is_set, "the slow run to start", procs=processes)
    broker.restart()
    slow_server.release()
    after = [quick_run(n) for n in range(2, 5)]
    for run in [in_flight, *after]:
        wait_until(lambda run=run: finished(run), f"run {run.pk} to finish",
                   timeout=120, procs=processes)
    assert worker.poll() is None  # the supervisor is still there
    for run in [first, in_flight, *after]:
        run.refresh_from_db()
        assert run.status == Run.Status.SUCCEEDED, (run.pk, run.error, processes.logs())
    assert [r.result for r in after] == [4, 6, 8]
