"""The `code` node: multi-line Python in worker processes with OS limits; the same escape and
exhaustion corpus; failures name the line; a dead worker is replaced."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings
from django.test import override_settings

from runs.engine import sandbox_process
from runs.engine.sandbox_process import CodeError, WorkerPool
from tests.factories import make_workflow, run_now, simple_definition
from tests.security.payloads import BOMBS, ESCAPES

pytestmark = pytest.mark.slow

NAMES = {"input": [3, 1, 2], "nodes": {}, "run": {"id": 1}, "trigger": {}, "now": "x"}


@pytest.fixture(scope="module")
def pool():
    p = WorkerPool(size=1, memory_mb=256)
    yield p
    p.close()


def test_code_runs_with_functions_loops_and_exceptions(pool):
    code = """
def score(x):
    return x * 10

total = 0
for value in input:
    total += score(value)
try:
    {}['missing']
except KeyError as exc:
    note = 'caught'
result = {'total': total, 'note': note, 'sorted': sorted(input, key=lambda v: -v)}
"""
    assert pool.run(code, NAMES, timeout=5) == {"total": 60, "note": "caught",
                                                "sorted": [3, 2, 1]}


def test_result_is_the_last_expression_when_result_is_not_set(pool):
    assert pool.run("x = sum(input)\nx * 2", NAMES, timeout=5) == 12
    assert pool.run("x = 1", NAMES, timeout=5) is None


def test_errors_name_the_line(pool):
    with pytest.raises(CodeError) as info:
        pool.run("a = 1\nb = 0\nc = a / b", NAMES, timeout=5)
    assert info.value.lineno == 3
    assert "division by zero" in info.value.reason
    with pytest.raises(CodeError, match="line 2: syntax error"):
        pool.run("x = 1\ny = (", NAMES, timeout=5)


@pytest.mark.parametrize("payload", ESCAPES)
def test_escape_payloads_fail_in_the_code_node(pool, payload):
    with pytest.raises(CodeError):
        pool.run(payload, NAMES, timeout=2)


@pytest.mark.parametrize("payload", [
    "try:\n    input.nope\nexcept AttributeError as e:\n    result = e.obj",
    "try:\n    input.nope\nexcept AttributeError as e:\n    result = e.__traceback__.tb_frame",
    "try:\n    1/0\nexcept Exception as e:\n    result = e.__class__",
    "def f():\n    return 1\nresult = f.__globals__",
    "def f():\n    return 1\nresult = [f.__code__, f.__body__]",
    "def f():\n    return 1\nf.name = 'x'",
    "def f():\n    return 1\nresult = f.__asteval__",
    "raise SystemExit",
    "raise KeyboardInterrupt",
    "import os\nresult = os.environ",
    "from os import environ",
    "with open('/proc/self/environ') as f:\n    result = f.read()",
    "del input.__class__",
])
def test_code_specific_escapes_fail(pool, payload):
    with pytest.raises(CodeError):
        pool.run(payload, NAMES, timeout=2)


@pytest.mark.parametrize("payload", BOMBS[:30])
def test_bombs_fail_in_the_code_node(pool, payload):
    with pytest.raises(CodeError):
        pool.run(f"result = {payload}", NAMES, timeout=2)


@pytest.mark.parametrize(("code", "reason"), [
    ("while True:\n    pass", "timed out after 0.5s"),
    ("try:\n    while True:\n        pass\nexcept Exception:\n    result = 'swallowed'",
     "timed out"),
    ("def f(n):\n    return f(n + 1)\nf(0)", "recursion deeper than"),
    ("x = []\nfor i in range(100000):\n    x = [x]\nresult = x", "nested too deeply"),
    ("l = []\nwhile True:\n    l.append(l)", "timed out"),
])
def test_code_bounds(pool, code, reason):
    with pytest.raises(CodeError, match=reason):
        pool.run(code, NAMES, timeout=0.5 if "timed out" in reason else 30)
    assert pool.run("result = 'healthy'", NAMES, timeout=5) == "healthy"


def test_address_space_limit_stops_what_the_estimate_misses():
    """With the sandbox's own allocation estimate effectively off, RLIMIT_AS still stops a
    program building ~400 MB; the worker is replaced and the pool keeps serving."""
    p = WorkerPool(size=1, memory_mb=200, budget_mb=100_000)
    try:
        first = p.run("result = 1", NAMES, timeout=5) and p.worker_pids()
        with pytest.raises(CodeError, match="(?i)memory"):
            p.run("l = ['a' * 9000000 + str(i) for i in range(45)]\nresult = len(l)", NAMES,
                  timeout=30)
        assert p.run("result = 'alive'", NAMES, timeout=5) == "alive"
        assert p.worker_pids() != first
    finally:
        p.close()


def test_a_stuck_worker_is_killed_at_the_deadline_and_replaced(pool):
    pool.run("result = 0", NAMES, timeout=5)
    [pid] = pool.worker_pids()
    errors = []

    def job():
        try:
            pool.run("while True:\n    pass", NAMES, timeout=0.5)
        except CodeError as exc:
            errors.append(str(exc))

    thread = threading.Thread(target=job)
    thread.start()
    os.kill(pid, signal.SIGSTOP)  # frozen like a worker stuck in C code
    thread.join(30)
    assert errors
    assert "timed out after 0.5s" in errors[0]
    assert pid not in pool.worker_pids()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert pool.run("result = 'replaced'", NAMES, timeout=5) == "replaced"


def test_a_crashed_worker_is_replaced(pool):
    pool.run("result = 0", NAMES, timeout=5)
    [pid] = pool.worker_pids()
    os.kill(pid, signal.SIGKILL)
    time.sleep(0)  # the pool notices on the next job, whenever the kill lands
    assert pool.run("result = 'fresh'", NAMES, timeout=5) == "fresh"
    assert pool.worker_pids() != [pid]


def test_worker_environment_carries_no_secrets(pool, monkeypatch):
    pool.run("result = 0", NAMES, timeout=5)
    [pid] = pool.worker_pids()
    with open(f"/proc/{pid}/environ", "rb") as fh:
        environ = fh.read().decode(errors="replace")
    assert os.environ.get("SECRET_KEY")
    assert "SECRET_KEY" not in environ
    assert "DATABASE_URL" not in environ
    assert "OPENAI_API_KEY" not in environ
    with open(f"/proc/{pid}/limits") as fh:
        limits = fh.read()
    assert "Max address space" in limits
    assert "unlimited" not in \
        next(line for line in limits.splitlines() if line.startswith("Max address space"))


def test_cpu_limit_kills_a_runaway_process():
    script = ("import sys; sys.path.insert(0, sys.argv[1]); "
              "from runs.engine.sandbox_process import _set_cpu_budget; _set_cpu_budget(0.1)\n"
              "while True: pass")
    proc = subprocess.run([sys.executable, "-c", script, str(sandbox_process.ROOT)],
                          timeout=60, check=False)
    assert proc.returncode == -signal.SIGXCPU
    assert sandbox_process._death_reason(proc.returncode) == "CPU time limit exceeded"


@pytest.mark.django_db
def test_code_node_in_a_workflow():
    code = {"id": "c", "type": "code", "config": {
        "code": "names = [u.name.upper() for u in input.users]\nresult = {'names': names}"}}
    run = run_now(make_workflow(definition=simple_definition(code)),
                  input={"users": [{"name": "ada"}, {"name": "alan"}]})
    assert run.status == "succeeded"
    assert run.logs.get(node_id="c").output == {"names": ["ADA", "ALAN"]}


@pytest.mark.django_db
def test_code_node_failure_fails_the_node_with_line_and_reason():
    code = {"id": "c", "type": "code", "config": {"code": "x = 1\ny = input.missing"}}
    run = run_now(make_workflow(definition=simple_definition(code)), input={})
    assert run.status == "failed"
    assert run.error_node_id == "c"
    assert "line 2" in run.error
    assert "no key 'missing'" in run.error


@pytest.mark.django_db
def test_code_node_timeout_setting_applies():
    code = {"id": "c", "type": "code", "config": {"code": "while True:\n    pass"}}
    with override_settings(WFAIB={**settings.WFAIB, "CODE_TIMEOUT": 0.3}):
        run = run_now(make_workflow(definition=simple_definition(code)), input={})
    assert run.status == "failed"
    assert "timed out after 0.3s" in run.error


def test_code_with_a_syntax_error_is_refused_at_save_time():
    from nodes.types.code import CodeConfig

    with pytest.raises(ValueError, match="line 2: syntax error"):
        CodeConfig(code="x = 1\nif x\n    y = 2")
