"""The group writer's hand-off: what one stored run costs through the writer thread against the
same store made in the caller's thread, in one process, rounds alternating.

    .venv/bin/python -m bench handoff [--db sqlite|postgres] [--stores 2000] [--rounds 3]

Each store is what a finished deferred run hands to `runs.engine.group_writer.store`: one
transaction inserting a run's row. "writer" submits it to this process's writer thread and
waits to be woken after the commit (the web processes' path); "caller" writes it in this thread
as the writer would (`write_in_caller`, the path of processes that execute one run at a time).
With one thread storing, nothing is batched: the difference is the hand-off itself (a queue, two
thread wake-ups). Prints wall and CPU microseconds per store for each mode and round, the
medians and their ratio, and checks that the database holds one run per store.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

from . import report
from .djangoenv import prepare


def _store_runs(workflow: Any, version: Any, stores: int) -> tuple[float, float]:
    from django.db import connection

    from runs.engine import group_writer
    from runs.models import Run

    def write() -> None:
        Run.objects.create(workflow=workflow, version=version, trigger="api",
                           status="succeeded")

    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(stores):
        group_writer.store(write)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert not connection.in_atomic_block
    return elapsed / stores * 1e6, cpu / stores * 1e6


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="bench handoff", description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--stores", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    prepare(args.db, "handoff")
    from runs.engine import group_writer
    from runs.models import Run
    from workflows.services import current_version

    from .throughput import new_workflow

    workflow = new_workflow("handoff")
    version = current_version(workflow)
    _store_runs(workflow, version, min(200, args.stores))  # warm-up: connections, writer thread
    figures: dict[str, list[tuple[float, float]]] = {"writer": [], "caller": []}
    for round_ in range(args.rounds):
        order = ("writer", "caller") if round_ % 2 == 0 else ("caller", "writer")
        for mode in order:
            group_writer._one_at_a_time = os.getpid() if mode == "caller" else None
            wall, cpu = _store_runs(workflow, version, args.stores)
            figures[mode].append((wall, cpu))
            report.line(f"handoff {args.db} round {round_ + 1} {mode:6}: {wall:7.1f} us wall "
                        f"{cpu:7.1f} us CPU per store")
    group_writer._one_at_a_time = None
    medians = {mode: (statistics.median(w for w, _ in rows), statistics.median(c for _, c in rows))
               for mode, rows in figures.items()}
    stored = Run.objects.filter(workflow=workflow).count()
    expected = min(200, args.stores) + 2 * args.rounds * args.stores
    ok = stored == expected
    report.line(f"handoff {args.db} medians: writer {medians['writer'][0]:.1f} us wall "
                f"{medians['writer'][1]:.1f} us CPU, caller {medians['caller'][0]:.1f} us wall "
                f"{medians['caller'][1]:.1f} us CPU; writer / caller wall "
                f"{medians['writer'][0] / medians['caller'][0]:.2f}x; runs stored {stored} of "
                f"{expected}: {'ok' if ok else 'MISMATCH'}")
    if not ok:
        raise SystemExit(1)
    return {"medians": medians, "stored": stored}


if __name__ == "__main__":
    main()
