"""What one request costs the server in CPU instructions: a figure the machine's speed does not
move, for judging a change on a noisy machine.

    .venv/bin/python -m bench cost [--db sqlite|postgres]
        [--endpoints bare,webhook,respond,async] [--requests 300] [--no-valgrind]

Each endpoint is measured in a process of its own on a fresh database: the project's WSGI
application (`wfaib.wsgi`'s, production settings, without the embedded scheduler's loop; for
`bare`, the bare stack of bench/bare_settings.py writing the same rows as `bench
throughput`'s floor) is called directly with a WSGI environ like the one granian builds (over
a copy of the process's environment, as granian's is), for a warm-up of 50 requests
(`--warmup`) and then `--requests` timed ones; the
executor's work started by them (inline runs; the Celery publisher thread's tasks for `async`,
8 runs to a task as under load) is drained inside the window.
Under valgrind's callgrind (`--instr-atstart=no`, switched on and off around the window with
`callgrind_control`) every instruction of every thread in the window is counted, so the same
code gives the same figure within ~2 % when measured side by side (up to 4 % seen for `async`
on PostgreSQL, whose publisher and writer threads do work that depends on timing; up to 8 %
between sittings with a CI run beside them): measure A and B side by side, A B B A, and read
pairs. Two `--db postgres` runs at once share a database name: run those one after another.
Granian's own Rust side and the load tool are not in it.
Without valgrind (or with `--no-valgrind`) the
figure is CPU time per request, which moves with the machine.

Each line ends with the exact check: runs in the database = requests answered 2xx, every
inline run succeeded; with `bare` measured, each endpoint's ratio to it follows (the issue's
"ratio to the bare stack", in instructions: below 1 means cheaper than the bare stack).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import report
from .djangoenv import BENCH_REDIS, ROOT
from .server import APP, BARE_APP

TASK_RUNS = 8
ENDPOINTS = ("bare", "webhook", "respond", "async")
BODY = b'{"name": "Ada", "n": 7, "items": [1, 2, 3], "note": "a short webhook payload"}'


def environ(path: str, basic: dict[str, str]) -> dict[str, Any]:
    """A WSGI environ as granian builds it for a JSON POST from 127.0.0.1: over `basic`, the
    copy of the process's environment granian takes once at start (`basic_env | scope`)."""
    route, _, query = path.partition("?")
    return {
        **basic,
        "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": route, "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "50000", "HTTP_HOST": "127.0.0.1:8000",
        "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(BODY)),
        "HTTP_USER_AGENT": "wrk", "HTTP_ACCEPT": "*/*",
        "wsgi.input": io.BytesIO(BODY), "wsgi.errors": sys.stderr, "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0), "wsgi.multithread": True, "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def requester(application: Callable, path: str) -> Callable[[], int]:
    basic = dict(os.environ)

    def one() -> int:
        status: list[str] = []
        response = application(environ(path, basic),
                               lambda s, headers, exc=None: status.append(s))
        try:
            b"".join(response)
        finally:
            response.close()  # request_finished: what the server's close does
        return int(status[0].split()[0])
    return one


def _callgrind(switch: str) -> None:
    """Instrumentation on or off in this process, when it runs under callgrind."""
    if os.environ.get("BENCH_COST_CALLGRIND"):
        subprocess.run(["callgrind_control", "-i", switch, str(os.getpid())],
                       capture_output=True, check=True)


def child(db: str, endpoint: str, requests: int, warmup: int) -> None:
    """One endpoint measured in this process; prints `requests ok runs succeeded cpu_us`."""
    executor = "celery" if endpoint == "async" else "inline"
    from .djangoenv import prepare

    # Tasks of exactly TASK_RUNS runs: under callgrind a request takes ~50x as long, so the
    # publish interval would otherwise send one run per task, which a loaded server never does.
    bare = {"DJANGO_SETTINGS_MODULE": "bench.bare_settings"} if endpoint == "bare" else {}
    prepare(db, f"cost_{endpoint}", WFAIB_EXECUTOR=executor, WFAIB_SCHEDULER="off",
            WFAIB_CELERY_PUBLISH_INTERVAL="60", WFAIB_CELERY_TASK_RUNS=str(TASK_RUNS), **bare)
    if executor == "celery":
        import redis

        redis.Redis.from_url(BENCH_REDIS).flushdb()
    import importlib

    from runs.dispatch import executor as current_executor
    from wfaib.gc_tuning import freeze_startup

    from .throughput import definition_for, new_workflow, path_for, wait_settled

    # What granian serves (bench/server.py): wfaib.wsgi's application, or the bare stack's.
    module, _, name = (BARE_APP if endpoint == "bare" else APP).partition(":")
    application = getattr(importlib.import_module(module), name)
    freeze_startup()
    workflow = new_workflow(f"cost-{endpoint}", definition_for(endpoint))
    one = requester(application, path_for(endpoint, workflow.pk))
    answers = [one() for _ in range(warmup)]
    current_executor().drain(timeout=60)
    time.sleep(0.2)  # the writer and publisher threads are idle before the window opens
    _callgrind("on")
    cpu = time.process_time()
    answers += [one() for _ in range(requests)]
    current_executor().drain(timeout=60)
    cpu = time.process_time() - cpu
    _callgrind("off")
    ok = sum(200 <= status < 300 for status in answers)
    counts = wait_settled(workflow.pk) if executor == "inline" else {}
    runs = sum(counts.values()) if counts else _count_runs(workflow.pk)
    succeeded = counts.get("succeeded", runs) if counts else runs
    report.line(f"RESULT {warmup + requests} {ok} {runs} {succeeded} {cpu / requests * 1e6:.1f}")


def _count_runs(workflow_id: int) -> int:
    from runs.models import Run

    return Run.objects.filter(workflow_id=workflow_id).count()


def measure(db: str, endpoint: str, requests: int, warmup: int,
            valgrind: bool) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench", "cost", "--child", endpoint, "--db", db,
           "--requests", str(requests), "--warmup", str(warmup)]
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="wfaib_cost_") as scratch:
        if valgrind:
            cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                   f"--callgrind-out-file={Path(scratch) / 'callgrind.out'}", *cmd]
            env["BENCH_COST_CALLGRIND"] = "1"
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                              check=False)
    found = re.search(r"^RESULT (\d+) (\d+) (\d+) (\d+) ([\d.]+)$", proc.stdout, re.M)
    if proc.returncode or not found:
        raise RuntimeError(f"cost {endpoint}: exit {proc.returncode}\n{proc.stdout[-2000:]}\n"
                           f"{proc.stderr[-3000:]}")
    sent, ok, runs, succeeded = (int(found.group(i)) for i in range(1, 5))
    row: dict[str, Any] = {"endpoint": endpoint, "db": db, "requests": requests,
                           "cpu_us": float(found.group(5)), "sent": sent, "ok": ok,
                           "runs": runs, "succeeded": succeeded}
    if valgrind:
        total = re.search(r"Collected : (\d+)", proc.stderr)
        if not total:
            raise RuntimeError(f"cost {endpoint}: no callgrind total\n{proc.stderr[-2000:]}")
        row["instructions"] = int(total.group(1)) / requests
    return row


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(prog="bench cost", description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS))
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=50, help="untimed requests first")
    parser.add_argument("--no-valgrind", action="store_true",
                        help="CPU time per request instead of instructions (moves with the "
                             "machine)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.db, args.child, args.requests, args.warmup)
        return []
    valgrind = not args.no_valgrind and bool(shutil.which("valgrind"))
    if not valgrind and not args.no_valgrind:
        report.line("cost: valgrind not found; CPU time per request instead (moves with the "
                    "machine)")
    rows, failed = [], False
    for endpoint in [e for e in args.endpoints.split(",") if e]:
        if endpoint not in ENDPOINTS:
            raise SystemExit(f"unknown endpoint {endpoint!r} (one of {', '.join(ENDPOINTS)})")
        row = measure(args.db, endpoint, args.requests, args.warmup, valgrind)
        exact = row["runs"] == row["ok"] == row["sent"] and row["succeeded"] == row["runs"]
        failed |= not exact
        figure = (f"{row['instructions'] / 1e6:6.2f} M instructions per request"
                  if valgrind else f"{row['cpu_us']:7.0f} us CPU per request")
        report.line(f"cost {args.db:8} {endpoint:8} {figure} ({row['requests']} requests "
                    f"after {args.warmup}); runs {row['runs']} / 2xx {row['ok']} of {row['sent']}, "
                    f"succeeded {row['succeeded']}: {'ok' if exact else 'MISMATCH'}")
        rows.append(row)
    by = {row["endpoint"]: row for row in rows}
    if "bare" in by:
        key = "instructions" if valgrind else "cpu_us"
        for row in rows:
            if row["endpoint"] != "bare":
                report.line(f"cost {args.db}: {row['endpoint']} / bare "
                            f"{row[key] / by['bare'][key]:.2f}x")
    if failed:
        raise SystemExit(1)
    return rows
