"""Heartbeats of the runs this process is executing, written by one background thread.

    with beating(run.pk):
        ...  # execute the run; its Run.heartbeat_at stays fresh, even inside a long node

The watchdog (runs/scheduler.py) takes a `running` run whose heartbeat is older than
WFAIB["HEARTBEAT_TIMEOUT"] for one whose process died, and re-queues it. A thread (rather than
the engine loop) writes the heartbeat so that a single node busy for minutes (a slow HTTP call,
an LLM) still shows its run alive. One thread per process serves all its runs with one UPDATE;
a run that finishes within one interval never costs a heartbeat write.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import close_old_connections
from django.utils import timezone

from wfaib.conf import wfaib_settings

from .models import Run

logger = logging.getLogger("wfaib.heartbeat")


def interval() -> float:
    return float(wfaib_settings.HEARTBEAT_INTERVAL)


class Heartbeat:
    """The process's heartbeat writer: `add`/`discard` run ids; a daemon thread beats for them."""

    def __init__(self) -> None:
        self._runs: dict[int, float] = {}  # run id -> monotonic time of its last beat
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def add(self, run_id: int) -> None:
        with self._lock:
            self._runs[run_id] = time.monotonic()  # the claim just wrote a heartbeat
            self._ensure_thread()

    def discard(self, run_id: int) -> None:
        with self._lock:
            self._runs.pop(run_id, None)

    def active(self) -> set[int]:
        """The runs this process is executing right now."""
        with self._lock:
            return set(self._runs)

    def _ensure_thread(self) -> None:
        # A forked process (Celery prefork child) inherits the dict but not the thread.
        if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._loop, name="wfaib-heartbeat",
                                            daemon=True)
            self._thread.start()

    def _due(self, every: float) -> list[int]:
        now = time.monotonic()
        with self._lock:
            due = [rid for rid, last in self._runs.items() if now - last >= every]
            for rid in due:
                self._runs[rid] = now
        return due

    def _loop(self) -> None:
        while True:
            every = interval()
            time.sleep(max(0.05, every / 4))
            due = self._due(every)
            if not due:
                continue
            try:
                self.beat(due)
            except Exception:  # a database hiccup must not stop the heartbeats for good
                logger.exception("heartbeat write failed for runs %s", due)

    @staticmethod
    def beat(run_ids: list[int]) -> int:
        close_old_connections()
        return Run.objects.filter(pk__in=run_ids, status=Run.Status.RUNNING).update(
            heartbeat_at=timezone.now()
        )


heartbeat = Heartbeat()


@contextmanager
def beating(run_id: int) -> Iterator[None]:
    """Keep `run_id`'s heartbeat fresh for the duration of the block."""
    heartbeat.add(run_id)
    try:
        yield
    finally:
        heartbeat.discard(run_id)
