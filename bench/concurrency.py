"""Many clients at once, and asynchronous accept: the load figures of issue #16.

    .venv/bin/python -m bench concurrency --db sqlite [--clients 64,1000] [--duration 10]
        [--requests 2000] [--endpoint respond] [--async-duration 10] [--no-async]

Serves the app (granian 2x1, inline executor) and the bare stack on one fresh database and,
for each client count, measures in the same round:

- the bare stack (bench/bare_settings.py) with that many connections, for the ratio;
- the workflow (default webhook -> transform -> respond) with that many connections for
  `--duration` seconds (wrk): req/s, p50/p99, 503s (load shedding's deliberate refusals) and
  any other 5xx, which must be none;
- the exact check: `--requests` requests over that many concurrent connections (every answer
  read, a long client timeout): runs in the database must equal the 2xx answers, every run
  succeeded, no 5xx except 503.

Then asynchronous accept (`?wait=false`, 202) on c16: accepted req/s over `--async-duration`
seconds, the runs/s the inline executor completes, and its own exact check (runs = 202s).

A thousand connections need more file descriptors than the usual soft limit of 1,024: the
limit is raised to the hard limit in this process first (the server and wrk inherit it).
Prints one line per figure; exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import time
from typing import Any

import orjson

from . import load as loadgen
from . import report
from .djangoenv import prepare
from .server import BARE_APP, Server
from .throughput import (
    WARMUP,
    async_point,
    definition_for,
    load_average,
    new_workflow,
    path_for,
    point,
    wait_settled,
)
from .workflows import hook_payload


def raise_open_files(wanted: int) -> int:
    """Raise this process's soft RLIMIT_NOFILE towards `wanted` (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def exact(server: Server, endpoint: str, clients: int, requests: int, db: str,
          timeout: float) -> dict[str, Any]:
    """`requests` requests over `clients` concurrent connections, every answer read."""
    workflow = new_workflow(f"exact-{endpoint}-{clients}-{time.monotonic_ns()}",
                            definition_for("respond" if endpoint == "respond" else "webhook"))
    t0 = time.perf_counter()
    result = loadgen.load_count(server.url + path_for(endpoint, workflow.pk),
                                orjson.dumps(hook_payload()), connections=clients,
                                requests=requests, timeout=timeout)
    counts = wait_settled(workflow.pk, timeout=600)
    seconds = time.perf_counter() - t0
    runs = sum(counts.values())
    succeeded = counts.get("succeeded", 0)
    shed = result.statuses.get(503, 0)
    ok = (runs == result.ok and succeeded == runs and result.unexpected_5xx == 0
          and result.socket_errors == 0 and result.ok + shed == requests)
    report.line(
        f"{server.label():12} {db:8} {endpoint:8} c={clients:<4} exact: {requests} sent, "
        f"{result.ok} 2xx, {shed} x 503, {result.unexpected_5xx} other 5xx, "
        f"{result.socket_errors} client errors; {runs} runs in DB, {succeeded} succeeded; "
        f"{result.rps:.1f} answers/s, p50 {result.p50_ms:.0f} ms, p99 {result.p99_ms:.0f} ms "
        f"({seconds:.1f} s in all): {'ok' if ok else 'MISMATCH'}; load average {load_average()}")
    report.figure("exact", server=server.label(), db=db, endpoint=endpoint,
                  connections=clients, rps=round(result.rps, 1), consistent=ok)
    return {"endpoint": endpoint, "clients": clients, "sent": requests, "ok": result.ok,
            "shed": shed, "unexpected_5xx": result.unexpected_5xx, "runs": runs,
            "succeeded": succeeded, "rps": round(result.rps, 1), "consistent": ok}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="bench concurrency",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--clients", default="64,1000")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--requests", type=int, default=2000,
                        help="requests of each exact check (at least the client count)")
    parser.add_argument("--endpoint", default="respond", choices=["webhook", "respond"])
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="client timeout of the exact checks, seconds")
    parser.add_argument("--async-duration", type=float, default=10.0)
    parser.add_argument("--no-async", action="store_true")
    args = parser.parse_args(argv)
    clients = [int(c) for c in args.clients.split(",") if c]
    limit = raise_open_files(max(clients, default=16) * 4 + 1024)
    env = prepare(args.db, f"concurrency_{args.endpoint}")
    rows: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(Server("granian", env))
        bare = stack.enter_context(Server(
            "granian", {**env, "DJANGO_SETTINGS_MODULE": "bench.bare_settings"}, app=BARE_APP))
        report.line(f"server: {server.label()} on {args.db}, open files limit {limit}, "
                    f"load average {load_average()}")
        for c in clients:
            # A client timeout past the longest queue wait: a slow answer is not an error here.
            # No warm-up at these counts: its abandoned requests (one per client) would keep
            # the server busy through the measured window (seen at 1,000 clients: 0 answers
            # in 10 s). The window is at least long enough to serve each client ~twice.
            WARMUP[0] = 0.0 if c > 64 else 2.0
            duration = max(args.duration, c / 10) if c > 64 else args.duration
            floor = point(bare, "bare", c, duration, args.db, timeout=args.timeout)
            row = point(server, args.endpoint, c, duration, args.db, timeout=args.timeout)
            report.line(f"{args.endpoint} / bare at c={c} on {args.db}: "
                        f"{row['rps'] / floor['rps']:.2f}x" if floor["rps"] else "bare: 0")
            rows += [floor, row]
            rows.append(exact(server, args.endpoint, c, max(args.requests, c), args.db,
                              args.timeout))
        if not args.no_async:
            rows.append(async_point(server, 16, args.async_duration, args.db))
            rows.append(exact(server, "async", 16, args.requests, args.db, args.timeout))
    bad = [r for r in rows if not r.get("consistent", True)]
    if bad:
        report.line(f"FAILED: {len(bad)} figure(s) where the database and the answers disagree "
                    f"or a 5xx other than 503 was answered")
        raise SystemExit(1)
    return {"rows": rows}


if __name__ == "__main__":
    main()
