"""Where the webhook hot path spends its time: py-spy on the granian workers under load.

    .venv/bin/python -m bench profile [--db sqlite|postgres]
        [--endpoint webhook|respond|floor|async] [--duration 8] [--connections 16] [--top 25]
        [--raw out.txt] [--gil]

Starts the server as `bench throughput` does, loads one endpoint with wrk, and samples every
worker thread with `py-spy record --subprocesses` (idle threads are not sampled). Prints the
share of samples per bucket (database driver, ORM, engine, expressions, nodes, webhook view,
Django request handling, waiting for the run), then the functions with the most samples,
inclusive and self. `--raw` keeps the collapsed stacks (flamegraph.pl / speedscope read them).
`async` is the asynchronous accept alone (`?wait=false` with `WFAIB_EXECUTOR=celery` and no
worker: each 202 a run committed and its task published to Redis, as `bench drain`'s first pass).
The samples are of threads, waiting ones included (a Redis reply, a lock): read them as where
the threads are, not as CPU time. `--gil` samples only the thread holding the GIL (py-spy's
`--gil`): where the Python CPU goes, without the waits (nor the C code that releases the GIL,
such as a database driver's network wait or SQLite's own work).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

import orjson

from . import load as loadgen
from . import report
from .djangoenv import BENCH_REDIS, prepare
from .server import BIN, Server
from .throughput import definition_for, new_workflow, path_for
from .workflows import hook_payload

# First match wins, checked from the innermost frame outwards.
BUCKETS: list[tuple[str, tuple[str, ...]]] = [
    ("waiting for the run (sleep/poll)", ("sleep (", "wait_for_run", "_worker (concurrent")),
    ("task publishing (celery/kombu/redis)", ("celery/", "kombu/", "redis/")),
    ("database driver (sqlite3/psycopg)", ("sqlite3", "psycopg", "execute (sqlite3")),
    ("expressions (asteval)", ("asteval", "runs/engine/expressions/")),
    ("node code", ("nodes/types/",)),
    ("engine (executor, graph, context)", ("runs/engine/",)),
    ("pydantic", ("pydantic",)),
    ("JSON (orjson/json)", ("orjson", "json/")),
    ("ORM (query building, model init)", ("django/db/",)),
    ("run services and dispatch", ("runs/services.py", "runs/dispatch.py",
                                   "workflows/services.py")),
    ("webhook view", ("runs/webhooks/", "bench/floor_views.py")),
    ("Django request/middleware/urls", ("django/core/handlers", "django/middleware",
                                        "django/contrib", "django/urls", "django/http",
                                        "django/utils", "django/dispatch")),
]


def spy_command(spy: str, pid: int, *, rate: int, duration: float, output: Path,
                gil: bool = False) -> list[str]:
    """py-spy sampling the server and its workers; with `gil`, only GIL-holding threads."""
    return [spy, "record", "--pid", str(pid), "--subprocesses", "--rate", str(rate),
            "--duration", str(int(duration)), "--format", "raw", "--output", str(output),
            "--nonblocking", *(["--gil"] if gil else [])]


def py_spy() -> str | None:
    exe = BIN / "py-spy"
    return str(exe) if exe.exists() else shutil.which("py-spy")


def parse_collapsed(text: str) -> list[tuple[list[str], int]]:
    stacks = []
    for line in text.splitlines():
        if not line.strip():
            continue
        frames, _, count = line.rpartition(" ")
        try:
            stacks.append((frames.split(";"), int(count)))
        except ValueError:
            continue
    return stacks


def bucket_of(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, needles in BUCKETS:
            if any(n in frame for n in needles):
                return name
    return "other (server, interpreter)"


def summarise(stacks: list[tuple[list[str], int]], top: int) -> dict:
    total = sum(n for _, n in stacks) or 1
    buckets: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    for frames, n in stacks:
        buckets[bucket_of(frames)] += n
        for frame in set(frames):
            inclusive[frame] += n
        if frames:
            self_time[frames[-1]] += n
    report.line(f"{total} samples")
    report.line("by bucket (innermost project-relevant frame):")
    for name, n in buckets.most_common():
        report.line(f"  {n / total:6.1%}  {name}")
    report.line(f"top {top} inclusive (share of samples with the function on the stack):")
    interesting = [(f, n) for f, n in inclusive.most_common()
                   if "/work/" in f or "django" in f or "site-packages" in f]
    for frame, n in interesting[:top]:
        report.line(f"  {n / total:6.1%}  {_short(frame)}")
    report.line(f"top {top} self (innermost frame):")
    for frame, n in self_time.most_common(top):
        report.line(f"  {n / total:6.1%}  {_short(frame)}")
    return {"samples": total, "buckets": {k: round(v / total, 3) for k, v in buckets.items()}}


def _short(frame: str) -> str:
    return (frame.replace(str(Path(sys.prefix)) + "/lib/python3.12/site-packages/", "")
            .replace("/work/main/", ""))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="bench profile", description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--endpoint", default="webhook",
                        choices=["webhook", "respond", "floor", "async"])
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--raw", help="keep the collapsed stacks in this file")
    parser.add_argument("--gil", action="store_true",
                        help="sample only the thread holding the GIL (CPU, not waiting)")
    args = parser.parse_args(argv)
    spy = py_spy()
    if spy is None:
        report.line("py-spy is not installed: skipped (pip install py-spy)")
        return {}
    if args.endpoint == "async":
        env = prepare(args.db, "profile", WFAIB_EXECUTOR="celery", CELERY_BROKER_URL=BENCH_REDIS)
    else:
        env = prepare(args.db, "profile")
    raw = Path(args.raw) if args.raw else Path(tempfile.mkdtemp()) / "pyspy.txt"
    with Server("granian", env, threads=args.threads) as server:
        workflow = new_workflow("profile", definition_for(args.endpoint))
        url = server.url + path_for(args.endpoint, workflow.pk)
        body = orjson.dumps(hook_payload())
        loadgen.load(url, body, connections=args.connections, duration=2)  # warm-up
        assert server.proc is not None
        spy_cmd = spy_command(spy, server.proc.pid, rate=args.rate, duration=args.duration,
                              output=raw, gil=args.gil)
        recorder = subprocess.Popen(spy_cmd, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True)
        result: list[loadgen.LoadResult] = []
        loader = threading.Thread(target=lambda: result.append(loadgen.load(
            url, body, connections=args.connections, duration=args.duration)))
        loader.start()
        _, err = recorder.communicate(timeout=args.duration + 60)
        loader.join()
        if recorder.returncode != 0 or not raw.exists():
            report.line(f"py-spy failed ({recorder.returncode}): {err[-1000:]}")
            return {}
    load_result = result[0]
    report.line(f"profile of {args.endpoint} on {args.db}, granian {server.workers}x"
                f"{args.threads}, c={args.connections}{', GIL holders only' if args.gil else ''}: "
                f"{load_result.rps:.0f} req/s, "
                f"p50 {load_result.p50_ms:.1f} ms while sampled")
    summary = summarise(parse_collapsed(raw.read_text()), args.top)
    if args.raw:
        report.line(f"collapsed stacks: {raw}")
    return summary


if __name__ == "__main__":
    main()
