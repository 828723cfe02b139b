"""Real processes: Celery workers on Redis, a web server running the inline executor, two
schedulers. Crash tests SIGKILL the process executing a run in the middle of a node and check
that the run still ends `succeeded`, with the nodes before the crash executed once.

Marked slow: each starts Python processes (a few seconds)."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from runs import dispatch
from runs.models import Run, ScheduleFire
from runs.services import run_cancel, run_start
from tests.factories import make_workflow

from .conftest import BIN, QUEUE, REDIS_URL, free_port, redis_available, subprocess_env, wait_until

pytestmark = pytest.mark.slow
needs_redis = pytest.mark.skipif(not redis_available(),
                                 reason="Redis is not answering at 127.0.0.1:6379")


def celery_worker(processes, db_url: str, name: str):
    return processes.start(name, [str(BIN / "celery"), "-A", "wfaib", "worker", "--pool", "solo",
                                  "--without-gossip", "--without-mingle", "--without-heartbeat",
                                  "--loglevel", "WARNING"],
                           subprocess_env(db_url, WFAIB_EXECUTOR="celery"))


def manage(processes, db_url: str, name: str, *args: str, **env: str):
    return processes.start(name, [sys.executable, "manage.py", *args],
                           subprocess_env(db_url, **env))


def status(run: Run) -> str:
    run.refresh_from_db()
    return run.status


def assert_resumed_after_crash(run: Run, slow_server) -> None:
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED, run.error
    server = slow_server.server
    # The nodes before the crash ran once; the node cut off ran again; the rest once.
    assert (server.count("/first"), server.count("/slow"), server.count("/last")) == (1, 2, 1)
    assert (run.executions, run.recoveries) == (2, 1)
    logs = {(log.node_id, log.attempt): log.status for log in run.logs.all()}
    assert logs == {("trigger", 1): "succeeded", ("first", 1): "succeeded",
                    ("slow", 1): "failed", ("slow", 2): "succeeded", ("last", 1): "succeeded"}
    assert "interrupted" in run.logs.get(node_id="slow", attempt=1).error
    assert run.result["body"] == {"step": "last"}


@needs_redis
def test_celery_worker_executes_runs(shared_db, processes, settings, api_server):
    settings.WFAIB = {**settings.WFAIB, "EXECUTOR": "celery"}
    api_server.json("GET", "/hello", {"hello": "world"})
    from tests.factories import simple_definition

    workflow = make_workflow(definition=simple_definition(
        {"id": "call", "type": "http", "config": {"url": f"{api_server.url}/hello"}}))
    celery_worker(processes, shared_db, "worker")
    runs = [run_start(workflow=workflow, input={"n": i}) for i in range(3)]  # via Redis
    for run in runs:
        wait_until(lambda run=run: dispatch.wait_for_run(run.pk, 0.5), f"run {run.pk}",
                   procs=processes)
        run.refresh_from_db()
        assert run.status == Run.Status.SUCCEEDED
        assert run.result["body"] == {"hello": "world"}
    assert api_server.count("/hello") == 3


@needs_redis
def test_a_celery_worker_executes_every_run_one_task_carries(shared_db, processes, settings):
    """Runs a process hands out together travel as one task (WFAIB_CELERY_TASK_RUNS); a real
    worker executes each of them."""
    import redis

    from runs.celery_executor import CeleryExecutor
    from tests.factories import simple_definition

    settings.WFAIB = {**settings.WFAIB, "EXECUTOR": "celery", "CELERY_TASK_RUNS": 8}
    workflow = make_workflow(definition=simple_definition(
        {"id": "t", "type": "transform", "config": {"expression": "{{ input.n * 10 }}"}}))
    runs = [run_start(workflow=workflow, input={"n": i}, execute=False) for i in range(3)]
    broker = redis.Redis.from_url(REDIS_URL)
    broker.delete(QUEUE)
    CeleryExecutor._publish([run.pk for run in runs])
    assert broker.llen(QUEUE) == 1  # one message for the three
    celery_worker(processes, shared_db, "worker")
    for run in runs:
        wait_until(lambda run=run: dispatch.wait_for_run(run.pk, 0.5), f"run {run.pk}",
                   procs=processes)
    assert [(status(run), run.result) for run in runs] == [("succeeded", 0), ("succeeded", 10),
                                                          ("succeeded", 20)]


def children(pid: int) -> list[int]:
    """The processes `pid` started (from any of its threads)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except FileNotFoundError:  # a thread that just ended
            pass
    return sorted(found)


@needs_redis
def test_run_worker_supervises_several_solo_workers(shared_db, processes, settings):
    """`run_worker --pool solo --processes 2`: two Celery workers with names of their own
    that execute the runs; one that dies is started again, the other left alone; a SIGTERM
    stops both and the command ends cleanly."""
    settings.WFAIB = {**settings.WFAIB, "EXECUTOR": "celery"}
    from tests.factories import simple_definition

    workflow = make_workflow(definition=simple_definition(
        {"id": "t", "type": "transform", "config": {"expression": "input.n * 2"}}))
    command = manage(processes, shared_db, "workers", "run_worker", "--pool", "solo",
                     "--processes", "2", "--loglevel", "WARNING", "--", "--without-gossip",
                     "--without-mingle", "--without-heartbeat", WFAIB_EXECUTOR="celery")
    def names() -> list[bytes]:
        """The two workers' --hostname values once both have exec'd Celery (a child just
        forked still shows the supervisor's command line, or none)."""
        found = []
        for pid in children(command.pid):
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                return []
            if b"--hostname" in argv:
                found.append(argv[argv.index(b"--hostname") + 1])
        return sorted(found)

    wait_until(lambda: names() == [b"wfaib1@%h", b"wfaib2@%h"], "two named workers",
               procs=processes)
    first, second = children(command.pid)

    def all_done(runs: list[Run]) -> None:
        for run in runs:
            wait_until(lambda run=run: dispatch.wait_for_run(run.pk, 0.5), f"run {run.pk}",
                       procs=processes)
            run.refresh_from_db()
            assert (run.status, run.result) == (Run.Status.SUCCEEDED, run.input["n"] * 2)

    all_done([run_start(workflow=workflow, input={"n": i}) for i in range(6)])
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: len(children(command.pid)) == 2 and first not in children(command.pid),
               "the killed worker to be started again", procs=processes)
    assert second in children(command.pid)
    all_done([run_start(workflow=workflow, input={"n": i}) for i in range(6, 12)])
    workers = children(command.pid)
    command.send_signal(signal.SIGTERM)
    assert command.wait(60) == 0, processes.logs()
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or \
            Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


@needs_redis
def test_a_solo_worker_is_replaced_after_its_max_tasks_and_no_run_is_lost(
        shared_db, processes, settings):
    """`run_worker --pool solo --max-tasks-per-child 2`, five tasks of one run each: the worker
    ends after two tasks (warm: the message fetched ahead goes back to the broker), its
    supervisor starts a fresh one at once, and every run succeeds exactly once."""
    import redis

    from runs.celery_executor import CeleryExecutor
    from tests.factories import simple_definition

    settings.WFAIB = {**settings.WFAIB, "EXECUTOR": "celery"}
    workflow = make_workflow(definition=simple_definition(
        {"id": "t", "type": "transform", "config": {"expression": "{{ input.n + 1 }}"}}))
    runs = [run_start(workflow=workflow, input={"n": i}, execute=False) for i in range(5)]
    redis.Redis.from_url(REDIS_URL).delete(QUEUE)
    for run in runs:
        CeleryExecutor._publish([run.pk])  # a task each
    command = manage(processes, shared_db, "workers", "run_worker", "--pool", "solo",
                     "--max-tasks-per-child", "2", "--loglevel", "WARNING", "--",
                     "--without-gossip", "--without-mingle", "--without-heartbeat",
                     WFAIB_EXECUTOR="celery")
    wait_until(lambda: len(children(command.pid)) == 1, "the worker", procs=processes)
    first = children(command.pid)[0]
    seen = {first}

    def finished() -> bool:
        seen.update(children(command.pid))
        return all(status(run) in Run.FINISHED for run in runs)

    wait_until(finished, "the five runs", procs=processes)
    assert [(status(run), run.result, run.executions) for run in runs] == [
        ("succeeded", n + 1, 1) for n in range(5)]
    wait_until(lambda: first not in children(command.pid) and children(command.pid),
               "a fresh worker in place of the first", procs=processes)
    assert len(seen | set(children(command.pid))) >= 2
    command.send_signal(signal.SIGTERM)
    assert command.wait(60) == 0, processes.logs()


@pytest.mark.parametrize(("args", "reason"), [
    (["--max-tasks-per-child", "-1"], "--max-tasks-per-child must be 0"),
    (["--pool", "solo", "--max-tasks-per-child", "5", "--no-supervise"],
     "needs the supervisor"),
    (["--processes", "2", "--no-supervise"], "--processes needs the supervisor"),
    (["--processes", "0"], "--processes must be at least 1"),
    (["--processes", "-3"], "--processes must be at least 1")])
def test_run_worker_refuses_processes_it_cannot_start(args, reason):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match=reason):
        call_command("run_worker", *args)


@needs_redis
def test_celery_worker_killed_mid_node_run_resumes_on_another(
        shared_db, processes, settings, slow_server):
    settings.WFAIB = {**settings.WFAIB, "EXECUTOR": "celery"}
    workflow = make_workflow(definition=slow_server.definition())
    first = celery_worker(processes, shared_db, "worker-1")
    run = run_start(workflow=workflow, input={"go": True})
    wait_until(slow_server.entered.is_set, "the run to reach the slow node", procs=processes)

    processes.kill(first)  # SIGKILL, in the middle of the `slow` node
    slow_server.release()
    assert status(run) == Run.Status.RUNNING  # nobody finished it
    manage(processes, shared_db, "worker-2", "run_worker", "--pool", "solo",
           "--loglevel", "WARNING", WFAIB_EXECUTOR="celery")
    manage(processes, shared_db, "scheduler", "run_scheduler", WFAIB_EXECUTOR="celery")
    wait_until(lambda: status(run) in Run.FINISHED, "the run to finish", procs=processes)
    assert_resumed_after_crash(run, slow_server)


@needs_redis
def test_cancel_a_run_executing_on_a_worker(shared_db, processes, settings, slow_server):
    settings.WFAIB = {**settings.WFAIB, "EXECUTOR": "celery"}
    workflow = make_workflow(definition=slow_server.definition())
    celery_worker(processes, shared_db, "worker")
    run = run_start(workflow=workflow)
    wait_until(slow_server.entered.is_set, "the run to reach the slow node", procs=processes)
    run_cancel(run=run)
    slow_server.release()
    wait_until(lambda: status(run) in Run.FINISHED, "the run to stop", procs=processes)
    assert run.status == Run.Status.CANCELLED
    assert slow_server.server.count("/last") == 0  # stopped before its next node


@pytest.mark.parametrize("server", ["runserver", "granian"])
def test_web_process_killed_mid_node_run_resumes_after_restart(
        shared_db, processes, slow_server, server):
    """Embedded set-up: a web server with the inline executor (Django's runserver, or granian
    serving wfaib.wsgi as in production); its start-up recovery takes the queued run, the
    process dies mid-node, a new one's watchdog resumes the run."""
    workflow = make_workflow(definition=slow_server.definition())
    run = run_start(workflow=workflow, input={"go": True}, execute=False)  # left queued

    def web(name: str):
        port = str(free_port())
        if server == "granian":
            return processes.start(name, [str(BIN / "granian"), "--interface", "wsgi",
                                          "--host", "127.0.0.1", "--port", port, "--workers",
                                          "1", "wfaib.wsgi:application"],
                                   subprocess_env(shared_db, WFAIB_EXECUTOR="inline"))
        return manage(processes, shared_db, name, "runserver", "--noreload",
                      f"127.0.0.1:{port}", WFAIB_EXECUTOR="inline", DEBUG="1")

    first = web("web-1")
    wait_until(slow_server.entered.is_set, "the run to reach the slow node", procs=processes)
    processes.kill(first)
    slow_server.release()
    assert status(run) == Run.Status.RUNNING
    web("web-2")
    wait_until(lambda: status(run) in Run.FINISHED, "the run to finish", procs=processes)
    assert_resumed_after_crash(run, slow_server)


def test_two_schedulers_fire_each_due_time_once(shared_db, processes):
    from .test_schedule import schedule_definition

    workflow = make_workflow(definition=schedule_definition(cron="* * * * * *"))  # every second
    for name in ("scheduler-1", "scheduler-2"):
        manage(processes, shared_db, name, "run_scheduler", WFAIB_EXECUTOR="inline")
    wait_until(lambda: Run.objects.filter(workflow=workflow).count() >= 4,
               "four scheduled runs", procs=processes)
    processes.cleanup()

    due = [r.input["scheduled_at"] for r in Run.objects.filter(workflow=workflow)]
    assert len(due) == len(set(due)), "a due time fired twice"
    fires = ScheduleFire.objects.filter(workflow=workflow)
    assert sorted(f.due_at.isoformat() for f in fires) == sorted(due)
    assert all(f.run_id for f in fires)
