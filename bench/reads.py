"""Reading a queued run with its workflow and version: the ORM's read against the prepared one.

    .venv/bin/python -m bench reads [--db sqlite|postgres] [--reads 300] [--rounds 5]

On a fresh database, one queued webhook -> transform run is read `--reads` times in a row by
each way, and that `--rounds` times, alternating; prints the lowest CPU and wall time per read
of each (on a shared machine the CPU time is the steadier figure) and their ratio. The ways:
the ORM's `select_related("workflow", "version").filter(...).first()`, as runs.dispatch read it
before, and `runs.prepared.PreparedRead`, the same join compiled once. Each read's result is
checked against the run (exit 1 if one differs).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from . import report
from .djangoenv import drop, prepare


def _ways(run_id: int) -> dict[str, Callable[[], Any]]:
    from runs.models import Run
    from runs.prepared import PreparedRead

    queued = Run.Status.QUEUED
    prepared = PreparedRead(lambda pk: Run.objects.select_related("workflow", "version")
                            .filter(pk=pk, status=queued))
    return {
        "ORM select_related().first()": lambda: Run.objects.select_related(
            "workflow", "version").filter(pk=run_id, status=queued).first(),
        "PreparedRead": lambda: prepared.first(pk=run_id),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="bench reads", description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    prepare(args.db, "reads")
    from runs.models import Run
    from runs.services import run_start

    from .throughput import definition_for, new_workflow
    from .workflows import hook_payload

    workflow = new_workflow("reads", definition_for("webhook"))
    run = run_start(workflow=workflow, input=hook_payload(), trigger=Run.Trigger.WEBHOOK,
                    execute=False)
    ways = _ways(run.pk)
    best: dict[str, tuple[float, float]] = {}
    ok = True
    for _ in range(args.rounds):
        for name, read in ways.items():
            got = read()  # also compiles the prepared one before its clock starts
            ok = ok and (got.pk, got.workflow.pk, got.version.pk, got.input) == (
                run.pk, workflow.pk, run.version_id, run.input)
            c0, t0 = time.process_time(), time.perf_counter()
            for _ in range(args.reads):
                read()
            cpu = (time.process_time() - c0) / args.reads * 1e6
            wall = (time.perf_counter() - t0) / args.reads * 1e6
            old = best.get(name, (float("inf"), float("inf")))
            best[name] = (min(old[0], cpu), min(old[1], wall))
    report.line(f"reads of one queued run with its workflow and version on {args.db}, "
                f"best of {args.rounds} x {args.reads}:")
    for name, (cpu, wall) in best.items():
        report.line(f"  {name:30s} CPU {cpu:7.0f} us   wall {wall:7.0f} us")
    orm, prepared = best["ORM select_related().first()"], best["PreparedRead"]
    report.line(f"  ORM / prepared: CPU {orm[0] / prepared[0]:.1f}x, wall "
                f"{orm[1] / prepared[1]:.1f}x; results {'ok' if ok else 'DIFFER'}")
    drop(args.db, "reads")
    if not ok:
        sys.exit(1)
    return {"db": args.db, "best_us": best, "ok": ok}
