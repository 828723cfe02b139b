"""A short database drop while a node with side effects runs: the finished call is not made
again and the run does not stall (the journal writes again on a fresh connection).

PostgreSQL only: the test ends the executing connection with pg_terminate_backend."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection

from runs.engine.executor import execute_run
from runs.models import Run
from runs.services import run_start
from tests.factories import make_workflow, simple_definition


def _terminate(database_url: str, pid: int) -> bool:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute("SELECT pg_terminate_backend(%s, 10000)", [pid]).fetchone()[0]


def test_a_dropped_connection_after_an_http_call_does_not_repeat_it(shared_db, api_server):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (pg_terminate_backend)")
    run = run_start(workflow=make_workflow(definition=simple_definition(
        {"id": "call", "type": "http", "config": {"method": "POST",
                                                  "url": api_server.url + "/charge"}},
        {"id": "after", "type": "transform", "config": {"expression": "input.body.charged"}},
    )), execute=False)
    with connection.cursor() as cursor:  # the connection execute_run will use (this thread's)
        cursor.execute("SELECT pg_backend_pid()")
        engine_pid = cursor.fetchone()[0]
    terminated = []

    def charge(req):
        # The request arrived; its answer will too. Before the node's log is saved, the
        # database connection of the run goes away.
        terminated.append(_terminate(shared_db, engine_pid))
        return 200, {"Content-Type": "application/json"}, b'{"charged": true}'

    api_server.route("POST", "/charge", charge)
    status = execute_run(run.pk)

    assert terminated == [True]
    assert api_server.count("/charge") == 1
    assert status == Run.Status.SUCCEEDED
    run.refresh_from_db()
    assert (run.status, run.result) == ("succeeded", True)
    assert [(log.node_id, log.status) for log in run.logs.order_by("id")] == [
        ("trigger", "succeeded"), ("call", "succeeded"), ("after", "succeeded")]
