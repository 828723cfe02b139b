"""Webhook throughput and latency against the bare stack, and async accept, over real HTTP.

    .venv/bin/python -m bench throughput --db sqlite|postgres [--server granian|gunicorn]
        [--connections 16,64] [--duration 8] [--repeat 1] [--threads 1] [--no-async]
        [--endpoints bare,webhook,respond] [--check 200]

Serves the app the production way (granian WSGI, one worker per core) on a fresh database,
and beside it the bare stack (bench/bare_settings.py: the same apps and tables, no middleware,
one URL) on the same database, and loads them from loopback with `wrk` (or the httpx client).
For each connection count it measures, in the same sitting, one after the other:

- bare: POST /bench/floor/<id>?logs=2 on the bare stack: one transaction writing a run and
  2 log rows (the rows of a webhook -> transform run), no middleware, no engine;
- floor: the same view inside the app, behind the project's middleware (optional);
- webhook: POST /api/webhook/<id>, workflow webhook -> transform, sync mode, every run and
  node log persisted;
- respond: the same with webhook -> transform -> respond (answered by the respond node);

and prints each one's ratio to `bare` measured in that round (`--repeat` rounds). Then
(unless --no-async) async accept: POST /api/webhook/<id>?wait=false (202), the accept latency,
and how many runs per second the executor completes. `--executor celery` runs the same against
a Celery worker (`celery -A wfaib worker`, Redis DB 10 by default) instead of the inline thread
pool. After each point it checks the database: every run finished as it should, and runs in
the DB == 2xx answers (exactly, in a fixed-count pass of --check requests; within the requests
in flight at the cut-off for the fixed-time pass). Prints requests/s, p50/p99 latency, errors,
the server's peak memory and the load average.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson

from . import load as loadgen
from . import report
from .djangoenv import BENCH_REDIS, ROOT, bench_user, prepare
from .server import BARE_APP, BIN, Server, have_gunicorn, memory_mb
from .workflows import hook_payload, hook_respond, hook_shape_result, hook_transform

WARMUP = [2.0]  # seconds of load before each measured point (--warmup)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def definition_for(endpoint: str) -> dict[str, Any]:
    return hook_respond() if endpoint == "respond" else hook_transform()


def new_workflow(label: str, definition: dict[str, Any] | None = None, **fields: Any):
    from workflows.models import Workflow
    from workflows.services import workflow_create

    definition = definition or hook_transform()
    workflow = workflow_create(owner=bench_user(), name=f"{definition['name']}-{label}",
                               definition=definition)
    if fields:
        Workflow.objects.filter(pk=workflow.pk).update(**fields)
        workflow.refresh_from_db()
    return workflow


def path_for(endpoint: str, workflow_id: int) -> str:
    if endpoint in ("bare", "floor"):
        return f"/bench/floor/{workflow_id}?logs=2"
    if endpoint == "floor2":
        return f"/bench/floor/{workflow_id}?logs=2&commits=2"
    if endpoint in ("webhook", "respond"):
        return f"/api/webhook/{workflow_id}"
    if endpoint == "async":
        return f"/api/webhook/{workflow_id}?wait=false"
    raise ValueError(endpoint)


def wait_settled(workflow_id: int, timeout: float = 120.0) -> dict[str, int]:
    """Wait until no run of the workflow is queued or running; return counts by status."""
    from django.db.models import Count

    from runs.models import Run

    deadline = time.monotonic() + timeout
    while True:
        counts = dict(Run.objects.filter(workflow_id=workflow_id).values_list("status")
                      .annotate(n=Count("id")).order_by())
        busy = counts.get("queued", 0) + counts.get("running", 0)
        if not busy or time.monotonic() > deadline:
            return counts
        time.sleep(0.2)


def logs_per_run(workflow_id: int) -> float:
    from runs.models import Run, RunLog

    runs = Run.objects.filter(workflow_id=workflow_id).count()
    logs = RunLog.objects.filter(run__workflow_id=workflow_id).count()
    return logs / runs if runs else 0.0


def check_answer(server: Server, endpoint: str, workflow_id: int) -> None:
    """One request, its answer compared with what the workflow must return."""
    payload = hook_payload(7)
    resp = httpx.post(server.url + path_for(endpoint, workflow_id), json=payload, timeout=30)
    if resp.status_code != 200:
        raise RuntimeError(f"{endpoint}: HTTP {resp.status_code}: {resp.text[:500]}")
    body = resp.json()
    floor = endpoint in ("bare", "floor", "floor2")
    want = payload if floor else hook_shape_result(payload)
    got = body["result"] if endpoint == "webhook" else body
    if got != want:
        raise RuntimeError(f"{endpoint}: answered {body!r}, expected {want!r}")


def point(server: Server, endpoint: str, connections: int, duration: float,
          db: str, tool: str = "auto", timeout: float = 10.0) -> dict[str, Any]:
    """One fixed-time load on a fresh workflow, with warm-up, memory and the DB check.
    `timeout`: the client's, per request (an answer later than that counts as an error)."""
    body = orjson.dumps(hook_payload())
    definition = definition_for(endpoint)
    if WARMUP[0] > 0:
        warm = new_workflow(f"warm-{endpoint}-{connections}-{time.monotonic_ns()}", definition)
        loadgen.load(server.url + path_for(endpoint, warm.pk), body, connections=connections,
                     duration=WARMUP[0], tool=tool, timeout=timeout)
        wait_settled(warm.pk)
    workflow = new_workflow(f"{endpoint}-{connections}-{time.monotonic_ns()}", definition)
    with server.sampler() as sampler:
        result = loadgen.load(server.url + path_for(endpoint, workflow.pk), body,
                              connections=connections, duration=duration, tool=tool,
                              timeout=timeout)
        counts = wait_settled(workflow.pk, timeout=max(120.0, timeout * 2))
    runs = sum(counts.values())
    in_flight = runs - result.ok
    succeeded = counts.get("succeeded", 0)
    shed = result.statuses.get(503, 0)
    # Answers in flight at the cut-off, or given up by the client (socket errors, timeouts),
    # may have their runs; a 5xx other than load shedding's 503 is never acceptable.
    consistent = (0 <= in_flight <= connections + result.socket_errors and succeeded == runs
                  and result.unexpected_5xx == 0)
    row = {
        "server": server.label(), "db": db, "endpoint": endpoint, "connections": connections,
        "rps": round(result.rps, 1), "p50_ms": round(result.p50_ms, 2),
        "p99_ms": round(result.p99_ms, 2), "requests": result.requests, "ok": result.ok,
        "errors": result.errors, "shed_503": shed, "unexpected_5xx": result.unexpected_5xx,
        "socket_errors": result.socket_errors, "runs": runs, "succeeded": succeeded,
        "logs_per_run": round(logs_per_run(workflow.pk), 2),
        "rss_mb": round(sampler.peak_rss), "pss_mb": round(sampler.peak_pss),
        "consistent": consistent, "tool": result.tool, "load": load_average(),
    }
    report.line(
        f"{row['server']:12} {db:8} {endpoint:8} c={connections:<3} {row['rps']:8.1f} req/s  "
        f"p50 {row['p50_ms']:7.2f} ms  p99 {row['p99_ms']:8.2f} ms  errors {row['errors']} "
        f"({shed} x 503, {result.unexpected_5xx} other 5xx, {result.socket_errors} client)  "
        f"RSS {row['rss_mb']} MB (PSS {row['pss_mb']})  runs {runs} / 2xx {result.ok} "
        f"(in flight at cut-off {in_flight}), succeeded {succeeded}, "
        f"logs/run {row['logs_per_run']}: {'ok' if consistent else 'MISMATCH'}; "
        f"load average {row['load']}"
    )
    report.figure("load", **row)
    return row


def exact_check(server: Server, endpoint: str, requests: int, db: str) -> dict[str, Any]:
    """A fixed number of requests, every answer read: runs in the DB must equal 2xx exactly."""
    workflow = new_workflow(f"check-{endpoint}-{time.monotonic_ns()}", definition_for(endpoint))
    result = loadgen.load_count(server.url + path_for(endpoint, workflow.pk),
                                orjson.dumps(hook_payload()), connections=16, requests=requests)
    counts = wait_settled(workflow.pk)
    runs = sum(counts.values())
    ok = runs == result.ok == requests and counts.get("succeeded", 0) == runs
    report.line(f"{server.label():12} {db:8} {endpoint:8} exact check: {requests} sent, "
                f"{result.ok} 2xx, {runs} runs in DB, {counts.get('succeeded', 0)} succeeded, "
                f"statuses {result.statuses}: {'ok' if ok else 'MISMATCH'}")
    return {"endpoint": endpoint, "sent": requests, "ok": result.ok, "runs": runs,
            "consistent": ok}


def async_point(server: Server, connections: int, duration: float, db: str,
                tool: str = "auto") -> dict[str, Any]:
    """Accept latency under load (?wait=false -> 202), then runs/s the executor completes."""
    from django.db.models import Max, Min

    from runs.models import Run

    body = orjson.dumps(hook_payload())
    workflow = new_workflow(f"async-{connections}")
    with server.sampler() as sampler:
        result = loadgen.load(server.url + path_for("async", workflow.pk), body,
                              connections=connections, duration=duration, tool=tool)
        counts = wait_settled(workflow.pk, timeout=300)
    runs = sum(counts.values())
    span = Run.objects.filter(workflow=workflow).aggregate(first=Min("created_at"),
                                                           last=Max("finished_at"))
    seconds = ((span["last"] - span["first"]).total_seconds()
               if span["first"] and span["last"] else 0.0)
    succeeded = counts.get("succeeded", 0)
    row = {
        "server": server.label(), "db": db, "endpoint": "async", "connections": connections,
        "accept_rps": round(result.rps, 1), "p50_ms": round(result.p50_ms, 2),
        "p99_ms": round(result.p99_ms, 2), "accepted": result.ok, "errors": result.errors,
        "runs": runs, "succeeded": succeeded,
        "completed_rps": round(succeeded / seconds, 1) if seconds else 0.0,
        "drain_seconds": round(seconds, 1), "rss_mb": round(sampler.peak_rss),
        "consistent": 0 <= runs - result.ok <= connections and succeeded == runs,
    }
    report.line(
        f"{row['server']:12} {db:8} async    c={connections:<3} accepted {result.ok} "
        f"({row['accept_rps']} req/s), p50 {row['p50_ms']} ms p99 {row['p99_ms']} ms, "
        f"errors {row['errors']}; {succeeded}/{runs} runs succeeded in {row['drain_seconds']} s "
        f"= {row['completed_rps']} runs/s; RSS {row['rss_mb']} MB: "
        f"{'ok' if row['consistent'] else 'MISMATCH'}"
    )
    return row


@contextlib.contextmanager
def celery_worker(env: dict[str, str], concurrency: int = 2, flush: bool = True,
                  pool: str = "prefork", name: str = "bench",
                  settle: float = 3.0) -> Iterator[subprocess.Popen]:
    """A Celery worker on the benchmark's broker (its Redis DB is flushed first, unless
    `flush` is False: bench/drain.py queues the runs before the worker starts); `name`
    tells several workers on this host apart. Yields after `settle` seconds (the worker
    connects and forks its pool), having checked that it is still running."""
    import redis

    if flush:
        redis.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()
    log = open(f"/tmp/wfaib_bench_celery_{os.getpid()}_{name}.log", "w")
    proc = subprocess.Popen(
        [str(BIN / "celery"), "-A", "wfaib", "worker", "--concurrency", str(concurrency),
         "--pool", pool, "-n", f"{name}@%h", "--loglevel", "warning", "--without-gossip",
         "--without-mingle", "--without-heartbeat"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        time.sleep(settle)
        if proc.poll() is not None:
            raise RuntimeError(f"celery worker exited: {open(log.name).read()[-2000:]}")
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        log.close()


def run_suite(*, db: str, server_kind: str, connections: list[int], duration: float,
              threads: int, workers: int | None, with_async: bool, check: int,
              endpoints: list[str], tool: str = "auto",
              executor: str = "inline", repeat: int = 1) -> dict[str, Any]:
    extra = {"WFAIB_EXECUTOR": executor}
    if executor == "celery":
        extra["CELERY_BROKER_URL"] = BENCH_REDIS
    env = prepare(db, f"http_{server_kind}_{executor}", **extra)
    rows: list[dict] = []
    checks: list[dict] = []
    with contextlib.ExitStack() as stack:
        worker = (stack.enter_context(celery_worker(env)) if executor == "celery" else None)
        server = stack.enter_context(Server(server_kind, env, workers=workers, threads=threads))
        servers = dict.fromkeys(endpoints, server)
        if "bare" in endpoints:  # the bare stack on the same database, the same way
            servers["bare"] = stack.enter_context(Server(
                server_kind, {**env, "DJANGO_SETTINGS_MODULE": "bench.bare_settings"},
                workers=workers, threads=threads, app=BARE_APP))
        report.line(f"server: {server.label()} on {db}, executor {executor}, load tool: "
                    f"{'wrk' if tool != 'httpx' and loadgen.have_wrk() else 'httpx'}; "
                    f"load average {load_average()}")
        for endpoint in endpoints:
            answer_wf = new_workflow(f"answer-check-{endpoint}", definition_for(endpoint))
            check_answer(servers[endpoint], endpoint, answer_wf.pk)
        for round_no in range(1, repeat + 1):
            for c in connections:
                here = [point(servers[e], e, c, duration, db, tool) for e in endpoints]
                for row in here:
                    row["round"] = round_no
                rows.extend(here)
                by = {r["endpoint"]: r for r in here}
                bare = by.get("bare", {}).get("rps")
                for e in endpoints:
                    if e != "bare" and bare:
                        report.line(f"round {round_no}: {e} / bare at c={c} on {db}: "
                                    f"{by[e]['rps'] / bare:.2f}x")
        if check:
            for endpoint in endpoints:
                checks.append(exact_check(servers[endpoint], endpoint, check, db))
        if with_async:
            row = async_point(server, connections[0], duration, db, tool)
            row["executor"] = executor
            if worker is not None:
                row["worker_rss_mb"] = round(memory_mb(worker.pid)[0])
                report.line(f"celery worker RSS after the runs: {row['worker_rss_mb']} MB")
            rows.append(row)
        idle_rss, idle_pss = server.memory_mb()
        report.line(f"server memory after the runs: RSS {idle_rss:.0f} MB, PSS {idle_pss:.0f} MB")
    return {"rows": rows, "checks": checks}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="bench throughput", description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--server", default="granian", choices=["granian", "gunicorn"])
    parser.add_argument("--connections", default="16,64")
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--threads", type=int, default=1, help="blocking threads per worker")
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    parser.add_argument("--endpoints", default="bare,webhook,respond",
                        help="of bare, floor, floor2, webhook, respond")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of all endpoints")
    parser.add_argument("--no-async", action="store_true")
    parser.add_argument("--check", type=int, default=200,
                        help="requests in the exact runs == 2xx pass (0: skip)")
    parser.add_argument("--tool", default="auto", choices=["auto", "wrk", "httpx"])
    parser.add_argument("--executor", default="inline", choices=["inline", "celery"])
    parser.add_argument("--warmup", type=float, default=2.0)
    args = parser.parse_args(argv)
    if args.server == "gunicorn" and not have_gunicorn():
        report.line("gunicorn is not installed: skipped (pip install gunicorn)")
        return {"rows": [], "checks": []}
    WARMUP[0] = args.warmup
    results = run_suite(
        db=args.db, server_kind=args.server,
        connections=[int(c) for c in args.connections.split(",")], duration=args.duration,
        threads=args.threads, workers=args.workers, with_async=not args.no_async,
        check=args.check, endpoints=[e for e in args.endpoints.split(",") if e],
        tool=args.tool, executor=args.executor, repeat=args.repeat,
    )
    bad = [r for r in results["rows"] + results["checks"] if not r["consistent"]]
    if bad:
        report.line(f"FAILED: {len(bad)} point(s) where the database and the answers disagree")
        raise SystemExit(1)
    return results


if __name__ == "__main__":
    main()
