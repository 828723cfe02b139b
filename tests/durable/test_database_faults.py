"""The database misbehaving under a live system: SQLite's write lock under a burst (an accepted
run is never failed by it), and the database going away (webhooks and the API answer 503 JSON
with Retry-After, never an HTML 500; the scheduler logs one line per outage, not a traceback
per tick)."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import sqlite3
import threading
import time

import httpx
import pytest
from django.db import connection
from django.utils import timezone

from runs import recovery
from runs.engine.executor import execute_run
from runs.models import Run
from runs.services import run_start
from tests.factories import make_workflow, simple_definition

from .conftest import BIN, free_port, subprocess_env, wait_until


class _Seen(logging.Handler):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text, self.event = text, threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.event.set()


def test_run_start_waits_out_a_locked_sqlite_database_instead_of_failing(shared_db):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's database-wide write lock")
    workflow = make_workflow()
    with connection.cursor() as cursor:  # give up on the lock fast, as a long burst would
        cursor.execute("PRAGMA busy_timeout = 20")
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None,
                            check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    seen = _Seen("database is locked")
    logging.getLogger("wfaib.db").addHandler(seen)

    def release_after_a_failed_attempt() -> None:
        seen.event.wait(60)
        other.execute("COMMIT")

    releaser = threading.Thread(target=release_after_a_failed_attempt)
    releaser.start()
    try:
        run = run_start(workflow=workflow, input={"n": 1}, execute=False)
    finally:
        releaser.join(60)
        other.close()
        logging.getLogger("wfaib.db").removeHandler(seen)
    assert seen.event.is_set()  # the first write did hit the lock, and was retried
    assert Run.objects.filter(pk=run.pk, status=Run.Status.QUEUED).exists()


@pytest.mark.slow
def test_webhook_and_api_answer_503_json_while_the_database_is_unreachable(processes):
    closed = free_port()  # nothing listens there: every connection is refused
    port = free_port()
    env = subprocess_env(f"postgres://postgres@127.0.0.1:{closed}/wfaib_rel_gone",
                         WFAIB_SCHEDULER="off", WFAIB_EXECUTOR="inline")
    processes.start("web", [str(BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1",
                            "--port", str(port), "--workers", "1", "wfaib.wsgi:application"],
                    env)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{base}/api/health", timeout=5).status_code > 0
        except httpx.HTTPError:
            return False

    wait_until(up, "the web server to answer", procs=processes)
    answers = [
        httpx.post(f"{base}/api/webhook/1", json={"a": 1}, timeout=30),
        httpx.post(f"{base}/api/webhook/1?wait=false", json={"a": 1}, timeout=30),
        httpx.get(f"{base}/api/workflows", headers={"Authorization": "Token abc"}, timeout=30),
        httpx.post(f"{base}/api/auth/login", json={"email": "ada@example.com", "password": "x"},
                   timeout=30),
    ]
    for answer in answers:
        assert answer.status_code == 503, (answer.request.url, answer.text[:300])
        assert answer.headers["content-type"] == "application/json", answer.text[:300]
        assert answer.json()["code"] == "database_unavailable"
        assert int(answer.headers["retry-after"]) > 0
    health = httpx.get(f"{base}/api/health", timeout=30)
    assert health.status_code == 503
    assert health.json()["checks"]["database"] == "down"


@pytest.mark.slow
@pytest.mark.own_database
def test_scheduler_logs_one_line_per_database_outage(processes, sqlite_template, tmp_path):
    """The database file's folder does not exist yet (every connection fails), then appears.
    (--skip-checks: SQLite's JSON-field system check would open the database at start-up.)"""
    home = tmp_path / "db"
    db = home / "wfaib.sqlite3"
    proc = processes.start("scheduler", [str(BIN / "python"), "manage.py", "run_scheduler",
                                         "--interval", "0.1", "--skip-checks"],
                           subprocess_env(f"sqlite:///{db}", WFAIB_EXECUTOR="inline"))
    log = processes.logdir / "scheduler.log"

    def logged(text: str) -> bool:
        return log.exists() and text in log.read_text(errors="replace")

    wait_until(lambda: logged("the database is unavailable"), "the outage line", procs=processes)
    time.sleep(2)  # some twenty ticks while the database is down (counted below: one line)
    # The folder appears with its whole database at once (a rename): copied in place, a tick
    # could open the file half-written ("database disk image is malformed", seen in CI).
    staging = tmp_path / "staging"
    staging.mkdir()
    shutil.copy(sqlite_template, staging / db.name)
    staging.rename(home)
    wait_until(lambda: logged("the database is back"), "the recovery line", procs=processes)
    assert proc.poll() is None  # the loop kept going through the outage
    text = log.read_text(errors="replace")
    assert text.count("the database is unavailable") == 1, text[-3000:]
    assert text.count("the database is back") == 1, text[-3000:]
    assert "Traceback" not in text, text[-3000:]


def test_a_run_whose_checkpoint_write_meets_a_lock_is_resumed_not_failed(shared_db, api_server):
    """The lock outlasts the busy timeout right after a node ran: the run is left `running`
    for the watchdog (not failed), which resumes it from its last checkpoint."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's database-wide write lock")
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None,
                            check_same_thread=False)

    locked: list[bool] = []

    def lock_once(request):
        if not locked:
            locked.append(True)
            other.execute("BEGIN IMMEDIATE")  # held while the engine writes the node's log
        return 200, {"Content-Type": "application/json"}, b'{"ok": true}'

    api_server.route("GET", "/lock", lock_once)
    workflow = make_workflow(definition=simple_definition(
        {"id": "call", "type": "http", "config": {"url": f"{api_server.url}/lock"}}))
    run = run_start(workflow=workflow, input={}, execute=False)
    # A short busy timeout, also for the connections the engine opens again after the lock
    # (with the default 20 s each of its retries would wait that long).
    options = connection.settings_dict["OPTIONS"]
    saved = dict(options)
    options["timeout"] = 0.02
    options["init_command"] = options["init_command"].replace("busy_timeout=20000",
                                                              "busy_timeout=20")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 20")
    try:
        status = execute_run(run.pk)
    finally:
        options.clear()
        options.update(saved)
        if other.in_transaction:
            other.execute("COMMIT")
        other.close()
    assert status == Run.Status.RUNNING
    run.refresh_from_db()
    assert run.status == Run.Status.RUNNING  # not failed by the lock
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 20000")
    assert recovery.run_recover_stale(now=timezone.now() + dt.timedelta(hours=1)) == [run.pk]
    wait_until(lambda: Run.objects.filter(pk=run.pk, status__in=Run.FINISHED).exists(),
               "the resumed run")
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert api_server.count("/lock") == 2  # its unrecorded call ran again on resume
