"""Smoke runs of the benchmark commands as CI runs them: tiny sizes, correctness only.

Each command is run the way a developer runs it (`python -m bench ...`) in its own process
with its own fresh database, and must exit 0: the commands exit 1 when the database and the
answers disagree (runs != 2xx, a run not succeeded, a wrong result). No timing is asserted.
"""

import os
import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.slow


def bench(*args: str, timeout: float = 600) -> str:  # a hang guard, not a timing check
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "WFAIB_BENCH")}
    proc = subprocess.run([sys.executable, "-m", "bench", *args], cwd=settings.BASE_DIR,
                          env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


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


def test_memory_benchmark_runs_big_data_to_the_right_result():
    out = bench("memory", "--mb", "1", "--hops", "1")
    assert "memory: 1 MB of JSON through 3 nodes on sqlite: succeeded" in out
    assert out.rstrip().endswith(": ok")


def test_engine_command_prints_figures_and_targets():
    out = bench("engine", "--sizes", "20,40", "--repeat", "1")
    for mode in ("in-memory ", "persisted"):
        assert f"engine {mode}" in out
    assert out.count(" us/node (CPU ") == 8  # wall time and CPU time on each line
