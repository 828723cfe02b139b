"""One thread per process publishes the Celery tasks of committed runs, so the request that
committed a run answers without waiting for the broker.

    publisher = TaskPublisher(publish, interval=lambda: 0.01, enough=lambda: 8)
    publisher.put(run.pk)                # after the run is committed as `queued`
    publisher.flush(timeout=5)           # hand everything put so far on now, and wait for it

The run's row is what makes it durable, not its task: a task that is never published (the
process ended first, the broker was down) leaves the run `queued`, and the scheduler hands it
out again (WFAIB["REDISPATCH_AFTER"]), as it does for a broker that refused the task. Ids put
while the thread publishes are taken together, so a busy process publishes them through one
producer in one go. The thread is started on first use in each process (a forked child gets its
own), and an ending process gives it a few seconds to hand on what is left.

Under load the thread publishes at most once per `interval` seconds: ids put within that time
after a publish began wait for the rest of it (or until `enough` are in) and go out together,
so a busy process sends fewer, larger messages (Celery's cost is per message, in the web
process and in the worker); an id put after a quiet moment goes at once.
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import threading
import time
from collections.abc import Callable

logger = logging.getLogger("wfaib.dispatch")

EXIT_FLUSH_SECONDS = 5.0


class TaskPublisher:
    def __init__(self, publish: Callable[[list[int]], None], *,
                 interval: Callable[[], float] = lambda: 0.0,
                 enough: Callable[[], int] = lambda: 1) -> None:
        self._publish = publish
        self._interval, self._enough = interval, enough
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        """A fresh state (and lock: the parent's thread may have held it at the fork); ids the
        parent had not published yet stay the parent's to publish."""
        self._cond = threading.Condition()
        self._pending: list[int] = []
        self._busy = 0  # ids taken by the thread and not yet handed on
        self._flushing = 0  # callers of flush() waiting: the thread gathers no longer
        self._started = False

    def put(self, run_id: int) -> None:
        with self._cond:
            if not self._started:
                self._started = True
                threading.Thread(target=self._loop, name="wfaib-task-publisher",
                                 daemon=True).start()
                atexit.register(self.flush, EXIT_FLUSH_SECONDS)
            self._pending.append(run_id)
            # Wake the thread when it may be waiting for this id: idle (the first one in), or
            # gathering ids for the interval and now with enough (not for every id between).
            # notify_all: the thread, not only a caller of flush() waiting too.
            if len(self._pending) == 1 or len(self._pending) >= self._enough():
                self._cond.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        """Hand every id put so far on without waiting out the interval, and wait until it was
        (published, or given up on and logged); False past `timeout`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._flushing += 1
            self._cond.notify_all()  # a thread gathering ids for the interval: go now
            try:
                while self._pending or self._busy:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        return False
                    self._cond.wait(left)
            finally:
                self._flushing -= 1
        return True

    def _loop(self) -> None:
        last = -math.inf
        while True:
            with self._cond:
                while not self._pending:
                    self._cond.wait()
                # Under load (the last publish began less than `interval` ago) the ids of the
                # rest of that moment are gathered to go out together, unless `enough` are in
                # or a caller of flush() waits for them.
                until = last + self._interval()
                while (len(self._pending) < self._enough() and not self._flushing
                       and time.monotonic() < until):
                    self._cond.wait(until - time.monotonic())
                taken, self._pending = self._pending, []
                self._busy = len(taken)
            last = time.monotonic()
            try:
                self._publish(taken)
            except Exception:  # the runs stay queued; the scheduler hands them out again
                logger.exception("runs %s: could not publish their tasks; they stay queued",
                                 named(taken))
            with self._cond:
                self._busy = 0
                self._cond.notify_all()


def named(run_ids: list[int], shown: int = 20) -> str:
    """The ids for a log line: all of a few, the first ones and a count of many (a broker down
    under load can leave thousands in one batch)."""
    if len(run_ids) <= shown:
        return str(run_ids)
    return f"[{', '.join(map(str, run_ids[:shown]))}, ... and {len(run_ids) - shown} more]"
