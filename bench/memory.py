"""Memory under big data: a run whose nodes pass ~100 MB of JSON along; the worker's peak RSS.

    .venv/bin/python -m bench memory [--mb 100] [--hops 3] [--db sqlite|postgres]

This process is the worker: it starts and executes the run itself (`run_start` +
`execute_run`, as an inline or Celery worker does) on a fresh database. The workflow
(bench/workflows.py `big_data`) gets `mb` MB of JSON records as its payload; `hops`
transforms pass the whole list on, and one counts it. Prints the peak RSS of the
process (getrusage), its baseline before the run, the peak over the baseline as a multiple of
the payload, and the bytes the run's logs hold in the database (are big outputs stored whole
per node, or truncated?).
"""

from __future__ import annotations

import argparse
import gc
import resource
import time
from pathlib import Path

from . import report
from .djangoenv import bench_user, prepare
from .workflows import big_data, big_data_result, big_payload


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def log_bytes(run_id: int) -> tuple[int, int]:
    """(bytes of all logs' input+output JSON, bytes of the largest single log) in the DB."""
    from django.db import connection

    from runs.models import RunLog

    table = RunLog._meta.db_table
    cast = "::text" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(SUM(LENGTH(input{cast}) + LENGTH(output{cast})), 0), "
            f"COALESCE(MAX(LENGTH(input{cast}) + LENGTH(output{cast})), 0) "
            f"FROM {table} WHERE run_id = %s", [run_id])
        total, largest = cursor.fetchone()
    return int(total or 0), int(largest or 0)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="bench memory", description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--hops", type=int, default=3)
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    args = parser.parse_args(argv)
    prepare(args.db, "memory", WFAIB_EXPRESSION_TIMEOUT="60")

    from runs.engine.executor import execute_run
    from runs.models import Run
    from runs.services import run_start
    from workflows.services import workflow_create

    definition = big_data(args.mb, hops=args.hops)
    workflow = workflow_create(owner=bench_user(), name=definition["name"],
                               definition=definition)
    # The payload is built and saved before the baseline is taken: the figure is what the
    # engine adds on top of holding the payload once.
    run = run_start(workflow=workflow, input=big_payload(args.mb), trigger="manual",
                    execute=False)
    gc.collect()
    baseline = rss_mb()
    t0 = time.perf_counter()
    status = execute_run(run.pk)
    elapsed = time.perf_counter() - t0
    peak = peak_rss_mb()
    run = Run.objects.get(pk=run.pk)
    expected = big_data_result(args.mb)
    ok = status == "succeeded" and run.result == expected
    total_logs, largest_log = log_bytes(run.pk)
    nodes = len(definition["nodes"])
    row = {
        "mb": args.mb, "nodes": nodes, "db": args.db, "status": status,
        "seconds": round(elapsed, 1), "baseline_rss_mb": round(baseline),
        "peak_rss_mb": round(peak), "over_baseline_mb": round(peak - baseline),
        "per_payload": round((peak - baseline) / args.mb, 1),
        "log_mb": round(total_logs / 1e6, 1), "largest_log_mb": round(largest_log / 1e6, 1),
        "ok": ok,
    }
    report.line(
        f"memory: {args.mb} MB of JSON through {nodes} nodes on {args.db}: {status} in "
        f"{row['seconds']} s; worker RSS baseline {row['baseline_rss_mb']} MB, peak "
        f"{row['peak_rss_mb']} MB (+{row['over_baseline_mb']} MB = {row['per_payload']}x the "
        f"payload); logs hold {row['log_mb']} MB in the DB (largest log "
        f"{row['largest_log_mb']} MB): {'ok' if ok else 'WRONG RESULT: ' + repr(run.error)}"
    )
    if not ok:
        raise SystemExit(1)
    return row


if __name__ == "__main__":
    main()
