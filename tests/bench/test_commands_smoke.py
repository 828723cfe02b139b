"""Smoke runs of the benchmark commands as CI runs them: tiny sizes, correctness only.

Each command is run the way a developer runs it (`python -m bench ...`) in its own process
with its own fresh database, and must exit 0: the commands exit 1 when the database and the
answers disagree (runs != 2xx, a run not succeeded, a wrong result). No timing is asserted.
"""

import os
import shutil
import subprocess
import sys

import pytest
from django.conf import settings

from bench.report import FIGURES_ENV
from bench.report import figures as kept_figures

pytestmark = pytest.mark.slow


def bench(*args: str, timeout: float = 600, figures: str = "") -> str:  # a hang guard
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "WFAIB_BENCH", FIGURES_ENV)}
    if figures:  # where the command keeps its figures for the suite's verdict
        env[FIGURES_ENV] = figures
    proc = subprocess.run([sys.executable, "-m", "bench", *args], cwd=settings.BASE_DIR,
                          env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.own_database
def test_throughput_bare_webhook_respond_and_async_agree_with_the_database():
    out = bench("throughput", "--db", "sqlite", "--connections", "4", "--duration", "1",
                "--warmup", "0", "--check", "20", "--tool", "httpx", "--workers", "1")
    for endpoint in ("bare    ", "webhook ", "respond "):
        assert f"{endpoint} c=4" in out
        assert f"{endpoint} exact check: 20 sent, 20 2xx, 20 runs in DB, 20 succeeded" in out
    assert "granian 1x1 bare" in out  # the bare stack is its own server
    assert "webhook / bare at c=4" in out
    assert "respond / bare at c=4" in out
    assert "async    c=4" in out
    assert "MISMATCH" not in out


@pytest.mark.own_database
def test_memory_benchmark_runs_big_data_to_the_right_result():
    out = bench("memory", "--mb", "1", "--hops", "1")
    assert "memory: 1 MB of JSON through 3 nodes on sqlite: succeeded" in out
    assert out.rstrip().endswith(": ok")


@pytest.mark.own_database
def test_engine_command_prints_figures_and_targets(tmp_path):
    kept = str(tmp_path / "figures.jsonl")
    out = bench("engine", "--sizes", "20,40", "--repeat", "1", figures=kept)
    for mode in ("in-memory ", "persisted"):
        assert f"engine {mode}" in out
    assert out.count(" us/node (CPU ") == 8  # wall time and CPU time on each line
    engine = [f for f in kept_figures(kept) if f["kind"] == "engine"]
    assert sorted((f["mode"], f["shape"], f["nodes"]) for f in engine) == sorted(
        (mode, shape, n) for mode in ("in-memory", "persisted") for shape in ("chain", "fan")
        for n in (20, 40))
    assert all(f["us_per_node"] > 0 for f in engine)


@pytest.mark.own_database
def test_every_size_of_the_engine_gets_as_many_runs():
    """The 10,000 / 1,000 ratio compares like with like: a large graph is run as often as a
    small one (it once got half the runs)."""
    out = bench("engine", "--sizes", "20,2001", "--repeat", "2")
    lines = [text for text in out.splitlines() if " us/node (CPU " in text]
    assert len(lines) == 8
    assert all(text.endswith("best of 2)") for text in lines), lines


def test_drain_command_checks_every_queued_run_through_a_celery_worker(tmp_path):
    """Two real Celery workers (solo pools, side by side: the options' path) drain runs queued
    through the server; the command exits 1 unless runs = 202 answers = runs queued, all
    succeeded. Each suite of a parallel CI gets a Redis database of its own (the command
    flushes it)."""
    from django.db import connection

    suite = {"sqlite": "11", "postgresql": "12"}[connection.vendor]
    db = "postgres" if connection.vendor == "postgresql" else "sqlite"
    os.environ["BENCH_REDIS_URL"] = f"redis://127.0.0.1:6379/{suite}"
    kept = str(tmp_path / "figures.jsonl")
    try:
        out = bench("drain", "--db", db, "--runs", "20", "--workers", "2",
                    "--concurrency", "1", "--pool", "solo", "--accept-seconds", "1",
                    figures=kept)
    finally:
        del os.environ["BENCH_REDIS_URL"]
    figures = {f["kind"]: f for f in kept_figures(kept)}
    assert set(figures) == {"accept", "drain"}
    assert figures["accept"]["db"] == figures["drain"]["db"] == db
    assert figures["accept"]["rps"] > 0
    assert figures["accept"]["consistent"] is True
    assert figures["drain"]["runs_per_s"] > 0
    assert figures["drain"]["consistent"] is True
    accept = [line for line in out.splitlines() if "asynchronous accept alone" in line]
    assert len(accept) == 1
    assert ": ok; load average " in accept[0]
    assert "accepted 20 of 20 (statuses {202: 20})" in out
    assert f"celery 2 worker(s) solo x1 on {db}: 20/20 runs succeeded, 2.00 logs/run" in out
    assert "; ok;" in out


@pytest.mark.own_database
def test_concurrency_command_checks_runs_against_answers(tmp_path):
    kept = str(tmp_path / "figures.jsonl")
    out = bench("concurrency", "--db", "sqlite", "--clients", "8", "--duration", "1",
                "--requests", "16", "--async-duration", "1", figures=kept)
    figures = kept_figures(kept)
    # what the suite's verdict reads: each load point and each exact check, with its check
    assert {(f["kind"], f["endpoint"], f["connections"]) for f in figures} == {
        ("load", "bare", 8), ("load", "respond", 8), ("exact", "respond", 8),
        ("exact", "async", 16)}
    assert all(f["consistent"] is True and f["server"].startswith("granian") for f in figures)
    assert "respond / bare at c=8" in out
    exact = [line for line in out.splitlines() if " exact: " in line]
    assert len(exact) == 2, out[-2000:]  # the respond endpoint and asynchronous accept
    for line in exact:
        assert "16 sent, 16 2xx, 0 x 503, 0 other 5xx, 0 client errors; 16 runs in DB, " \
            "16 succeeded" in line
        assert ": ok" in line


@pytest.mark.own_database
def test_reads_compares_the_orm_and_the_prepared_read_of_the_same_run():
    out = bench("reads", "--db", "sqlite", "--reads", "5", "--rounds", "1")
    assert "results ok" in out


@pytest.mark.own_database
def test_handoff_stores_every_run_both_ways():
    out = bench("handoff", "--db", "sqlite", "--stores", "20", "--rounds", "2")
    assert "round 2 writer" in out
    assert "round 2 caller" in out
    assert "runs stored 100 of 100: ok" in out


def _cost(db: str, *args: str) -> str:
    """`bench cost` with the asynchronous endpoint publishing to a Redis database of this
    suite's own."""
    os.environ["BENCH_REDIS_URL"] = f"redis://127.0.0.1:6379/{14 if db == 'sqlite' else 15}"
    try:
        return bench("cost", "--db", db, "--requests", "5", "--warmup", "5", *args)
    finally:
        del os.environ["BENCH_REDIS_URL"]


def test_cost_measures_each_endpoint_and_checks_the_runs():
    """Each endpoint's figure (CPU time here: callgrind's instruments are below), its ratio to
    the bare stack, and runs = 2xx answers = requests sent."""
    from django.db import connection

    db = "postgres" if connection.vendor == "postgresql" else "sqlite"
    out = _cost(db, "--endpoints", "bare,respond,async", "--no-valgrind")
    for endpoint in ("bare    ", "respond ", "async   "):
        line = next(row for row in out.splitlines() if f"cost {db:8} {endpoint}" in row)
        assert "us CPU per request" in line
        assert line.endswith("runs 10 / 2xx 10 of 10, succeeded 10: ok"), line
    assert f"cost {db}: respond / bare " in out  # each endpoint's ratio to the bare stack
    assert f"cost {db}: async / bare " in out


@pytest.mark.skipif(not shutil.which("valgrind"), reason="needs valgrind")
def test_cost_counts_instructions_under_callgrind():
    """Once, on SQLite, the endpoint with the most threads in the window (request, group
    writer, Celery publisher): a process under callgrind is ~50x slower, one is enough."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("callgrind's counting does not depend on the database: run once, on SQLite")
    out = _cost("sqlite", "--endpoints", "async")
    line = next(row for row in out.splitlines() if "cost sqlite   async   " in row)
    assert "M instructions per request" in line
    assert line.endswith("runs 10 / 2xx 10 of 10, succeeded 10: ok"), line
