"""Celery workers draining queued runs: how many webhook -> transform runs per second.

    .venv/bin/python -m bench drain [--db postgres] [--runs 3000] [--concurrency 2]
        [--pool prefork|threads|solo] [--workers 1] [--threads 1] [--accept-seconds 10]

Serves the app (granian 2x1, or `--threads` blocking threads per worker) with
`WFAIB_EXECUTOR=celery` on a fresh database and a flushed
Redis database (BENCH_REDIS_URL, DB 10 by default). First the web tier alone: with no worker,
`wrk -c16` posts to `?wait=false` for `--accept-seconds` (asynchronous accept: each 202 a run
committed and its task published), checked as runs in the database = 2xx answers (within the
requests in flight at the cut-off); those runs and tasks are then dropped. Then, still with no
worker running, it accepts exactly `--runs`
requests to `POST /api/webhook/<id>?wait=false` (every answer read: each 202 is a run queued in
the database and a task in Redis). Then it starts `--workers` Celery workers (one by
default) with `--concurrency` processes (prefork) each, or two solo workers
(`--workers 2 --pool solo --concurrency 1`: two processes, no pool parent), and waits until
every run finished. Prints the drain rate: succeeded runs
divided by the time from the first run's start to the last one's end (worker boot excluded),
and the same from the worker's start (boot included), and checks runs = 202 answers, all
succeeded with their 2 logs.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from typing import Any

import orjson
import redis

from . import load as loadgen
from . import report
from .djangoenv import BENCH_REDIS, prepare
from .server import Server, memory_mb
from .throughput import (
    celery_worker,
    load_average,
    logs_per_run,
    new_workflow,
    path_for,
    wait_settled,
)
from .workflows import hook_payload


def queued(workflow_id: int) -> int:
    from runs.models import Run

    return Run.objects.filter(workflow_id=workflow_id, status=Run.Status.QUEUED).count()


def broker_tasks() -> int:
    """The tasks waiting in the broker's queue (the runs a process hands out together go in
    one task: WFAIB_CELERY_TASK_RUNS, WFAIB_CELERY_PUBLISH_INTERVAL)."""
    from django.conf import settings

    time.sleep(0.5)  # the publisher threads hand on what the last answers committed
    return int(redis.Redis.from_url(BENCH_REDIS).llen(settings.CELERY_TASK_DEFAULT_QUEUE))


def accept_only(server: Server, db: str, seconds: float, connections: int = 16) -> bool:
    """Asynchronous accept with nothing executing: `seconds` of ?wait=false under wrk (httpx
    without it), then the check, then its runs deleted and the broker's queue flushed."""
    from runs.models import Run

    workflow = new_workflow(f"accept-{time.monotonic_ns()}")
    url = server.url + path_for("async", workflow.pk)
    with server.sampler() as sampler:
        result = loadgen.load(url, orjson.dumps(hook_payload()), connections=connections,
                              duration=seconds)
    time.sleep(1)  # the requests still in flight at the cut-off are committed
    runs = queued(workflow.pk)
    ok = 0 <= runs - result.ok <= connections and result.errors == 0
    report.line(f"{server.label()} {db}: asynchronous accept alone (no worker), c{connections} "
                f"{result.tool} {seconds:g} s: {result.rps:.1f} req/s, p50 {result.p50_ms:.1f} ms "
                f"p99 {result.p99_ms:.1f} ms, {result.ok} x 2xx, {result.errors} errors, "
                f"{runs} runs queued; RSS {sampler.peak_rss:.0f} MB: "
                f"{'ok' if ok else 'MISMATCH'}; load average {load_average()}")
    report.figure("accept", server=server.label(), db=db, connections=connections,
                  rps=round(result.rps, 1), p99_ms=round(result.p99_ms, 2),
                  rss_mb=round(sampler.peak_rss), consistent=ok)
    Run.objects.filter(workflow=workflow).delete()
    redis.Redis.from_url(BENCH_REDIS).flushdb()
    if not ok:
        raise SystemExit(1)
    return ok


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="bench drain", description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="postgres", choices=["sqlite", "postgres"])
    parser.add_argument("--runs", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=2,
                        help="worker processes (prefork) or threads (--pool threads)")
    parser.add_argument("--pool", default="prefork", choices=["prefork", "threads", "solo"],
                        help="the Celery worker's pool")
    parser.add_argument("--workers", type=int, default=1,
                        help="Celery worker processes started side by side (their pools apart)")
    parser.add_argument("--threads", type=int, default=1,
                        help="blocking threads per granian worker")
    parser.add_argument("--accept-seconds", type=float, default=10.0,
                        help="the timed accept-only pass first (0: skip it)")
    args = parser.parse_args(argv)
    env = prepare(args.db, "drain", WFAIB_EXECUTOR="celery", CELERY_BROKER_URL=BENCH_REDIS)
    redis.Redis.from_url(BENCH_REDIS).flushdb()
    from django.db.models import Max, Min

    from runs.models import Run

    with Server("granian", env, threads=args.threads) as server:
        if args.accept_seconds > 0:
            accept_only(server, args.db, args.accept_seconds)
        workflow = new_workflow(f"drain-{time.monotonic_ns()}")
        accepted = loadgen.load_count(server.url + path_for("async", workflow.pk),
                                      orjson.dumps(hook_payload()), connections=16,
                                      requests=args.runs, timeout=60)
        waiting = queued(workflow.pk)
        tasks = broker_tasks()
        report.line(f"{server.label()} {args.db}: accepted {accepted.ok} of {args.runs} "
                    f"(statuses {accepted.statuses}) at {accepted.rps:.1f} req/s with no worker; "
                    f"{waiting} runs queued in {tasks} tasks "
                    f"({waiting / max(1, tasks):.2f} runs per task); "
                    f"load average {load_average()}")
        t0 = time.perf_counter()
        with contextlib.ExitStack() as stack:
            # started one right after the other, so that they boot side by side
            workers = [stack.enter_context(celery_worker(
                env, concurrency=args.concurrency, flush=False, pool=args.pool,
                name=f"bench{i}", settle=0.0)) for i in range(args.workers)]
            time.sleep(3)
            if any(worker.poll() is not None for worker in workers):
                raise RuntimeError("a celery worker exited at start; its log is in /tmp")
            counts = wait_settled(workflow.pk, timeout=900)
            wall = time.perf_counter() - t0
            worker_rss = sum(memory_mb(worker.pid)[0] for worker in workers)
    span = Run.objects.filter(workflow=workflow).aggregate(first=Min("started_at"),
                                                           last=Max("finished_at"))
    seconds = ((span["last"] - span["first"]).total_seconds()
               if span["first"] and span["last"] else 0.0)
    runs = sum(counts.values())
    succeeded = counts.get("succeeded", 0)
    logs = logs_per_run(workflow.pk)
    ok = runs == accepted.ok == waiting and succeeded == runs and logs == 2.0
    rate = succeeded / seconds if seconds else 0.0
    report.line(f"celery {args.workers} worker(s) {args.pool} x{args.concurrency} on {args.db}: "
                f"{succeeded}/{runs} runs succeeded, {logs:.2f} logs/run; "
                f"first start to last finish {seconds:.1f} s = "
                f"{rate:.1f} runs/s; from the worker's start (boot included) {wall:.1f} s = "
                f"{succeeded / wall:.1f} runs/s; worker RSS {worker_rss:.0f} MB; "
                f"{'ok' if ok else 'MISMATCH'}; load average {load_average()}")
    report.figure("drain", db=args.db, workers=args.workers, pool=args.pool,
                  concurrency=args.concurrency, runs_per_s=round(rate, 1), consistent=ok)
    if not ok:
        raise SystemExit(1)
    return {"runs": runs, "succeeded": succeeded, "runs_per_s": round(rate, 1),
            "wall_runs_per_s": round(succeeded / wall, 1)}


if __name__ == "__main__":
    main()
