"""`manage.py run_worker`: a Celery worker executing runs (WFAIB_EXECUTOR=celery), supervised.

    python manage.py run_worker --concurrency 4
    python manage.py run_worker --pool solo      # one run at a time
    python manage.py run_worker --pool solo --processes 2   # two such workers, side by side
    python manage.py run_worker --no-supervise   # the Celery worker in this process, as before

Same as `celery -A wfaib worker -Q $CELERY_QUEUE`; extra arguments after `--` go to Celery.

The Celery worker runs as a child process that is started again whenever it exits by itself:
a Celery worker can stop for good on a broker restart (kombu's `restore_unacked` failing with
"'NoneType' object has no attribute 'hostname'" right after "Restoring unacknowledged
messages"), and a worker that stopped must not leave the runs queued until someone notices.
Nothing is lost meanwhile: tasks are acknowledged late, so the broker hands unfinished ones out
again, and the scheduler re-dispatches queued runs nobody took. SIGTERM/SIGINT are passed to the
child (Celery's warm shutdown) and end the supervisor once it has stopped.

`--processes N` starts N Celery workers this way, each supervised on its own, named
`wfaib<i>@<host>`. With `--pool solo` that is N processes that each take a run from the broker
and execute it themselves: no prefork parent that receives every task and passes it to a pool
process over a pipe. On 2 cores two solo workers drained queued runs 1.4-1.6x as fast as one
prefork worker of two processes (bench/RESULTS.md, 2026-12-01), in less memory.

`--max-tasks-per-child N` (default WFAIB_WORKER_MAX_TASKS, 0: never) gives back what a long
life gathers: prefork replaces a pool process after N tasks (Celery's own option); a solo or
threads worker ends after N tasks with a warm shutdown (wfaib/celery.py) and its supervisor
starts it anew at once, without the pause of a restart after a failure.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from wfaib import metrics
from wfaib.celery import RECYCLE_EXIT, app
from wfaib.conf import wfaib_settings

logger = logging.getLogger("wfaib.worker")

RESTART_PAUSE = 1.0  # seconds before the first restart; doubles up to MAX_RESTART_PAUSE
MAX_RESTART_PAUSE = 30.0
STEADY = 60.0  # a child that ran this long before it stopped restarts after the first pause


class Supervisor:
    """Run `argv` as a child process; start it again when it exits, until `stop()`."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.argv, self.env = argv, env
        self.child: subprocess.Popen | None = None
        self.restarts = self.recycles = 0
        self._stopping = threading.Event()

    def run(self) -> int:
        pause = RESTART_PAUSE
        while True:
            started = time.monotonic()
            self.child = subprocess.Popen(self.argv, env=self.env)
            if self._stopping.is_set():  # a stop that came while starting
                self.child.terminate()
            code = self.child.wait()
            if self._stopping.is_set():
                return code
            if code == RECYCLE_EXIT:  # it ended after WFAIB_WORKER_MAX_TASKS tasks, as asked
                logger.info("the Celery worker ended after its tasks; starting a fresh one")
                self.recycles += 1
                pause = RESTART_PAUSE
                continue
            if time.monotonic() - started >= STEADY:
                pause = RESTART_PAUSE
            logger.error("the Celery worker stopped (exit code %s); starting it again in "
                         "%g s", code, pause)
            if self._stopping.wait(pause):
                return code
            pause = min(pause * 2, MAX_RESTART_PAUSE)
            self.restarts += 1

    def stop(self, signum: int = signal.SIGTERM) -> None:
        self._stopping.set()
        child = self.child
        if child is not None and child.poll() is None:
            child.send_signal(signum)


class Command(BaseCommand):
    help = "Start a Celery worker that executes workflow runs (restarted if it stops)."

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", type=int, default=None,
                            help="runs executed at once (default: number of CPUs)")
        parser.add_argument("--pool", default="prefork",
                            choices=["prefork", "solo", "threads"],
                            help="Celery execution pool")
        parser.add_argument("--processes", type=int, default=1,
                            help="Celery workers started side by side, each supervised (with "
                                 "--pool solo: that many runs at once, no pool parent)")
        parser.add_argument("--max-tasks-per-child", type=int,
                            default=wfaib_settings.WORKER_MAX_TASKS,
                            help="replace a worker process after this many tasks (0: never; "
                                 "default WFAIB_WORKER_MAX_TASKS)")
        parser.add_argument("--loglevel", default="INFO")
        parser.add_argument("--no-supervise", action="store_true",
                            help="run the Celery worker in this process, without restarts")
        parser.add_argument("celery_args", nargs="*", help="more Celery worker arguments")

    def handle(self, *args, **options):
        argv = ["worker", "--pool", options["pool"], "--loglevel", options["loglevel"],
                "--queues", settings.CELERY_TASK_DEFAULT_QUEUE]
        if options["concurrency"]:
            argv += ["--concurrency", str(options["concurrency"])]
        max_tasks = options["max_tasks_per_child"]
        if max_tasks < 0:
            raise CommandError("--max-tasks-per-child must be 0 (never) or more")
        if max_tasks and options["pool"] == "prefork":
            argv += ["--max-tasks-per-child", str(max_tasks)]
        argv += options["celery_args"]
        if wfaib_settings.METRICS_PORT:  # the worker processes' values (PROMETHEUS_MULTIPROC_DIR)
            metrics.serve(int(wfaib_settings.METRICS_PORT))
        processes = options["processes"]
        if processes < 1:
            raise CommandError("--processes must be at least 1")
        if options["no_supervise"]:
            if processes != 1:
                raise CommandError("--processes needs the supervisor (without --no-supervise)")
            if max_tasks and options["pool"] != "prefork":
                raise CommandError("--max-tasks-per-child with a solo or threads pool needs "
                                   "the supervisor (without --no-supervise)")
            app.worker_main(argv=argv)
            return
        command = [sys.executable, "-m", "celery", "-A", "wfaib", *argv]
        env = {**os.environ, "WFAIB_WORKER_MAX_TASKS": str(max_tasks)}
        supervisors = [Supervisor(command if processes == 1 else
                                  [*command, "--hostname", f"wfaib{i + 1}@%h"], env)
                       for i in range(processes)]
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, _frame: [s.stop(signum) for s in supervisors])
        code = max(supervise_all(supervisors))
        if code > 0:  # a signal-ended child after our stop is a normal end
            sys.exit(code)


def supervise_all(supervisors: list[Supervisor]) -> list[int]:
    """Each supervisor in a thread of its own until all have stopped; their exit codes. This
    thread keeps waking up, so that it takes the stop signals."""
    if len(supervisors) == 1:
        return [supervisors[0].run()]
    codes: list[int] = [0] * len(supervisors)

    def run(i: int) -> None:
        codes[i] = supervisors[i].run()

    threads = [threading.Thread(target=run, args=(i,), name=f"wfaib-supervise-{i + 1}")
               for i in range(len(supervisors))]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.5)
    return codes
