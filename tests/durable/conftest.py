"""Fixtures for durable-execution tests: a database other processes can see, real subprocesses
(Celery workers, web servers, schedulers) that are always killed, and a Redis broker queue.

`shared_db` gives the test a database that subprocesses share with it: on PostgreSQL the test
database itself (transactional, so every write is visible); on SQLite, whose test database lives
in this process's memory, a migrated SQLite file that this process's connection is pointed at
for the duration of the test.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from runs import dispatch

ROOT = Path(settings.BASE_DIR)
BIN = Path(sys.executable).parent
REDIS_URL = "redis://127.0.0.1:6379/5"  # this suite's Redis database
QUEUE = f"wfaib-test-{os.getpid()}"  # one queue per test process: xdist workers never mix

# Short timings for the processes the tests start (settings, not test thresholds).
FAST = {
    "WFAIB_HEARTBEAT_INTERVAL": "0.25",
    "WFAIB_HEARTBEAT_TIMEOUT": "3",
    "WFAIB_TICK_INTERVAL": "0.2",
    "WFAIB_HTTP_ALLOW": "127.0.0.1,::1",
}


def subprocess_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env.update(FAST)
    env.update({
        "DJANGO_SETTINGS_MODULE": "wfaib.settings_test",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_QUEUE": QUEUE,
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "WARNING",
        # Servers and workers keep their connections, as in production (settings_test closes
        # them per request in the test process itself).
        "CONN_MAX_AGE": "60",
    })
    env.update(extra)
    return env


@pytest.fixture(autouse=True)
def _durable_settings(settings):
    """In this process too: loopback HTTP allowed, fast heartbeats, the test broker queue."""
    settings.WFAIB = {**settings.WFAIB, "HTTP_ALLOW": ["127.0.0.1", "::1"],
                      "HEARTBEAT_INTERVAL": 0.25, "HEARTBEAT_TIMEOUT": 3.0}


@pytest.fixture(scope="session", autouse=True)
def _celery_test_broker():
    """Point this process's Celery app at the test Redis database and queue (before first use)."""
    from wfaib.celery import app

    settings.CELERY_BROKER_URL = REDIS_URL
    settings.CELERY_TASK_DEFAULT_QUEUE = QUEUE
    app.conf.update(broker_url=REDIS_URL, task_default_queue=QUEUE)
    yield
    try:
        import redis

        redis.Redis.from_url(REDIS_URL).delete(QUEUE)
    except Exception:  # Redis absent: the Celery tests were skipped anyway
        pass


def redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("durable") / "template.sqlite3"
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT,
                   env=subprocess_env(f"sqlite:///{path}"), check=True, timeout=180)
    return path


@pytest.fixture
def shared_db(request, transactional_db, tmp_path) -> Iterator[str]:
    """A DATABASE_URL naming the database this test uses, for subprocesses."""
    conn = connections["default"]
    if conn.vendor == "postgresql":
        s = conn.settings_dict
        auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
        yield f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        # Runs this process handed out meanwhile (an error workflow the watchdog started)
        # finish first: one still writing would block or break the flush.
        dispatch.executor().drain(timeout=60)
        # Executor threads and subprocesses keep connections open; end them so the test
        # database can be flushed and dropped (threads reconnect: CONN_HEALTH_CHECKS).
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return
    if conn.vendor != "sqlite":
        pytest.skip(f"no shared test database for {conn.vendor}")
    path = tmp_path / "shared.sqlite3"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    saved_name, saved_connection = conn.settings_dict["NAME"], conn.connection
    conn.connection = None  # keep the in-memory test database open (closing would drop it)
    conn.settings_dict["NAME"] = str(path)  # the dict is shared by every thread's connection
    try:
        yield f"sqlite:///{path}"
    finally:
        dispatch.executor().drain(timeout=60)
        conn.close()
        conn.settings_dict["NAME"] = saved_name
        conn.connection = saved_connection


class Processes:
    """Subprocesses of one test, each in its own process group; all killed at teardown."""

    def __init__(self, logdir: Path) -> None:
        self.logdir = logdir
        self.started: list[tuple[subprocess.Popen, Path]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = self.logdir / f"{name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append((proc, log))
        return proc

    @staticmethod
    def kill(proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(timeout=30)

    def logs(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
                         for _, log in self.started if log.exists())

    def cleanup(self) -> None:
        for proc, _ in self.started:
            self.kill(proc)


@pytest.fixture
def processes(tmp_path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    try:
        yield procs
    finally:
        procs.cleanup()


def wait_until(predicate: Callable[[], object], what: str, *, timeout: float = 90.0,
               procs: Processes | None = None) -> None:
    """Poll until `predicate()` is true; a hang guard, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}\n{procs.logs() if procs else ''}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SlowServer:
    """Routes on a LoopbackServer for crash tests: /first and /last answer at once; the first
    call of /slow blocks until `release()` (later calls answer at once)."""

    def __init__(self, server) -> None:
        self.server = server
        self.gate = threading.Event()
        self.entered = threading.Event()
        server.json("GET", "/first", {"step": "first"})
        server.json("GET", "/last", {"step": "last"})
        server.route("GET", "/slow", self._slow)

    def _slow(self, req):
        if not self.entered.is_set():
            self.entered.set()
            self.gate.wait(120)
        return 200, {"Content-Type": "application/json"}, b'{"step": "slow"}'

    def release(self) -> None:
        self.gate.set()

    def definition(self) -> dict:
        from tests.factories import simple_definition

        return simple_definition(
            *({"id": name, "type": "http", "config": {"url": f"{self.server.url}/{name}"}}
              for name in ("first", "slow", "last"))
        )


@pytest.fixture
def slow_server(api_server) -> Iterator[SlowServer]:
    slow = SlowServer(api_server)
    yield slow
    slow.release()  # never leave a handler thread blocked
