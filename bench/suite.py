"""The whole suite: `.venv/bin/python -m bench all [--quick]`.

Runs each benchmark in its own process (Django is configured once per process, and a fresh
process gives the memory benchmark a clean peak RSS), streaming their figures, and ends with
the verdict on issue #16's targets from the figures of this run (bench/targets.py). About ten
minutes on 2 cores; `--quick` shortens every load and size (three to four minutes) for a look,
not for the record. Needs PostgreSQL at 127.0.0.1:5432 (user postgres) and Redis at 127.0.0.1:6379
for the PostgreSQL and Celery parts; wrk, gunicorn and py-spy are used when installed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import report
from .djangoenv import ROOT
from .server import have_gunicorn
from .targets import speed_line, verdict


def steps(quick: bool) -> list[list[str]]:
    d = "3" if quick else "8"
    sizes = "200,2000" if quick else "1000,10000"
    return [
        ["engine", "--sizes", sizes, "--repeat", "1" if quick else "5"],
        ["throughput", "--db", "sqlite", "--duration", d],
        ["throughput", "--db", "postgres", "--duration", d],
        ["throughput", "--db", "sqlite", "--executor", "celery", "--endpoints", "",
         "--duration", d, "--check", "0", "--connections", "16"],
        *([["throughput", "--db", "sqlite", "--server", "gunicorn", "--connections", "16",
            "--duration", d, "--no-async", "--check", "0"]] if have_gunicorn() else []),
        ["concurrency", "--db", "sqlite", "--duration", d, "--async-duration", d,
         *(["--clients", "64", "--requests", "200"] if quick else [])],
        ["drain", "--db", "postgres", "--runs", "300" if quick else "3000"],
        # The accept target is SQLite's: accept alone, granian 2x4 (steadier than 2x1
        # or 2x8 in the 2026-12-03 sitting); its drain on SQLite is short, a smoke of it.
        ["drain", "--db", "sqlite", "--runs", "200", "--accept-seconds", d, "--threads", "4"],
        ["reads", "--db", "postgres", "--reads", "100" if quick else "300"],
        ["reads", "--db", "sqlite", "--reads", "100" if quick else "300"],
        ["handoff", "--db", "sqlite", "--stores", "300" if quick else "2000"],
        ["memory", "--mb", "10" if quick else "100"],
        ["cost", "--db", "sqlite", "--requests", "100" if quick else "300"],
        ["profile", "--endpoint", "webhook", "--db", "sqlite", "--duration", "4" if quick else "8",
         "--top", "15"],
    ]


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()
    return (f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
            f"load average before the run {load[0]:.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench all", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    started = time.monotonic()
    report.line(f"# WFAIB benchmark suite, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    report.line(f"# machine: {machine()}")
    failed = []
    with tempfile.TemporaryDirectory(prefix="wfaib_suite_") as scratch:
        kept = str(Path(scratch) / "figures.jsonl")
        env = {**os.environ, report.FIGURES_ENV: kept}
        for step in steps(args.quick):
            cmd = [sys.executable, "-m", "bench", *step]
            shown = " ".join(a or '""' for a in step)
            report.line(f"\n$ .venv/bin/python -m bench {shown}")
            t0 = time.monotonic()
            code = subprocess.call(cmd, cwd=ROOT, env=env)
            report.line(f"({time.monotonic() - t0:.0f} s{'' if code == 0 else f', EXIT {code}'})")
            if code:
                failed.append(step[0])
        report.line(f"\nsuite finished in {time.monotonic() - started:.0f} s"
                    + (f"; FAILED: {', '.join(failed)}" if failed else ""))
        report.line("\nissue #16's targets in this run"
                    + (" (--quick: shortened loads, not for the record)" if args.quick else "")
                    + ":")
        figures = report.figures(kept)
        report.line(f"  {speed_line(figures)}")
        for text in verdict(figures):
            report.line(f"  {text}")
    if failed:
        raise SystemExit(1)
