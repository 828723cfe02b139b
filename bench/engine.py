"""Engine overhead, in process, no HTTP: microseconds per node for cheap transform nodes.

    .venv/bin/python -m bench engine [--db sqlite|postgres] [--sizes 1000,10000] [--repeat 3]

Shapes: a chain (each node feeds the next) and a fan-out/fan-in (the trigger feeds n - 2
transforms that all feed one join). Two modes:

- persisted: the real path, `run_start` + `execute_run` on a real database; every node's RunLog
  is written (pure nodes' logs in one transaction with the run's final update).
- in memory: the same `RunExecution` with the engine's in-memory journal
  (runs.engine.memory_journals.MemoryJournal: every write the database journal would make is kept in
  RAM instead), on unsaved Run/Workflow objects. Everything else is the engine's own code:
  graph planning, expression names, config rendering, pydantic validation, the node's `run`,
  JSON-safe copies of inputs and outputs and building the RunLog objects.

Prints one line per measurement and a summary with the targets (< 50 us/node in memory;
10,000 nodes cost at most 12x 1,000). The sizes take turns round by round, and the linearity
figure is the median of the rounds' paired ratios (`paired_ratio`).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from typing import Any

from . import report
from .djangoenv import bench_user, prepare
from .workflows import chain, chain_result, fan, fan_result

SHAPES = {"chain": (chain, chain_result), "fan": (fan, fan_result)}


def unsaved_run(definition: dict[str, Any], payload: Any):
    """A Run with its workflow and version as unsaved objects (nothing touches the DB)."""
    from django.utils import timezone

    from runs.models import Run
    from workflows.models import Workflow, WorkflowVersion

    workflow = Workflow(name=definition["name"], definition=definition, version=1)
    version = WorkflowVersion(workflow=workflow, number=1, definition=definition)
    return Run(workflow=workflow, version=version, input=payload, trigger="manual",
               status="running", started_at=timezone.now())


def run_in_memory(definition: dict[str, Any],
                  payload: Any = 0) -> tuple[float, float, Any, int, str]:
    """Execute once without a database; (seconds, CPU seconds of this process, result, logs
    written, status). On a shared machine the CPU time is the steadier figure."""
    from runs.engine.executor import RunExecution
    from runs.engine.hooks import NO_HOOKS
    from runs.engine.memory_journals import MemoryJournal

    run = unsaved_run(definition, payload)
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    journal = MemoryJournal(run)
    status = RunExecution(run, journal=journal, hooks=NO_HOOKS).execute()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    if status != "succeeded":
        raise RuntimeError(f"in-memory run ended {status}: {run.error}")
    return elapsed, cpu, run.result, len(journal.written), status


def run_persisted(workflow, payload: Any = 0) -> tuple[float, float, Any, int, str]:
    """Start a run and execute it on the database; (seconds, CPU seconds, result, logs in DB,
    status)."""
    from runs.engine.executor import execute_run
    from runs.models import Run
    from runs.services import run_start

    run = run_start(workflow=workflow, input=payload, trigger="manual", execute=False)
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    status = execute_run(run.pk)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    run = Run.objects.get(pk=run.pk)
    if status != "succeeded":
        raise RuntimeError(f"persisted run ended {status}: {run.error}")
    return elapsed, cpu, run.result, run.logs.count(), status


MODES = ("in-memory", "persisted")


def measure(shapes: list[str], sizes: list[int], repeat: int, mode: str) -> list[dict]:
    """Best-of-`repeat` time per (shape, size); checks the result and the number of logs.

    The sizes take turns: each round runs every size once, back to back, so the rounds' times
    of a small and a large graph are measured under the same conditions (this machine's speed
    drifts by a quarter from one second to the next), and each row keeps its per-round times
    for `summarise`'s paired ratios."""
    from workflows.services import workflow_create
    from workflows.validation import validate_definition

    rows = []
    for shape in shapes:
        build, expected = SHAPES[shape]
        persisted = mode == "persisted"
        plans = []
        for n in sizes:
            definition = build(n)
            errors = validate_definition(definition)
            if errors:
                raise RuntimeError(f"{shape}-{n} is not a valid definition: {errors[:3]}")
            workflow = (workflow_create(owner=bench_user(), name=definition["name"],
                                        definition=definition) if persisted else None)
            plans.append((n, definition, workflow, [], []))
        # Every size gets as many runs: the linearity ratio compares a best of N with a best
        # of N (one run of 10,000 nodes against the best of three of 1,000 read a noisy
        # machine as 13.9x, bench/RESULTS.md).
        for _ in range(max(1, repeat)):
            for n, definition, workflow, times, cpus in plans:
                if persisted:
                    elapsed, cpu, result, logs, _status = run_persisted(workflow)
                else:
                    elapsed, cpu, result, logs, _status = run_in_memory(definition)
                if result != expected(n) or logs != n:
                    raise RuntimeError(f"{shape}-{n}: result {result!r} (want {expected(n)}), "
                                       f"{logs} logs (want {n})")
                times.append(elapsed)
                cpus.append(cpu)
        for n, _definition, _workflow, times, cpus in plans:
            best, cpu_best = min(times), min(cpus)
            rows.append({"shape": shape, "nodes": n, "mode": mode, "seconds": best,
                         "us_per_node": best / n * 1e6, "cpu_us_per_node": cpu_best / n * 1e6,
                         "runs": len(times), "rounds": times})
            report.figure("engine", **{k: v for k, v in rows[-1].items() if k != "rounds"})
            report.line(f"engine {mode:18} {shape:5} "
                        f"{n:>6} nodes: {best * 1000:8.1f} ms  {best / n * 1e6:7.1f} us/node "
                        f"(CPU {cpu_best / n * 1e6:7.1f} us/node; best of {len(times)})")
    return rows


def paired_ratio(large: list[float], small: list[float]) -> float:
    """The median of the rounds' ratios large / small (each round ran both back to back):
    a burst of noise in one round moves one ratio, not the figure."""
    return statistics.median(big / little for big, little in zip(large, small, strict=True))


def summarise(rows: list[dict]) -> None:
    by = {(r["shape"], r["nodes"], r["mode"]): r for r in rows}
    for r in rows:
        if r["nodes"] == 10_000 and (r["shape"], 1000, r["mode"]) in by:
            small = by[(r["shape"], 1000, r["mode"])]
            ratio = paired_ratio(r["rounds"], small["rounds"])
            mode = r["mode"]
            verdict = "ok" if ratio <= 12 else "OVER TARGET"
            report.figure("linearity", mode=mode, shape=r["shape"], ratio=round(ratio, 2))
            report.line(f"linearity {mode} {r['shape']}: 10k/1k = {ratio:.1f}x, the median of "
                        f"{len(r['rounds'])} rounds' ratios (best/best "
                        f"{r['seconds'] / small['seconds']:.1f}x; target <= 12x): {verdict}")
    for r in rows:
        if r["mode"] != "persisted" and r["nodes"] == 1000:
            verdict = "ok" if r["us_per_node"] < 50 else "OVER TARGET"
            report.line(f"target {r['mode']} {r['shape']} 1k: {r['us_per_node']:.1f} us/node "
                        f"(target < 50): {verdict}")


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(prog="bench engine", description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--shapes", default="chain,fan")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-persisted", action="store_true", help="in-memory mode only")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    shapes = args.shapes.split(",")
    prepare(args.db, "engine")
    report.line(f"engine benchmark: db={args.db} sizes={sizes} shapes={shapes}")
    rows: list[dict] = []
    for mode in MODES:
        if mode == "persisted" and args.no_persisted:
            continue
        rows += measure(shapes, sizes, args.repeat, mode)
    summarise(rows)
    return rows


if __name__ == "__main__":
    main()
