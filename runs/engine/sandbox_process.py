"""Run `code`-node Python in separate worker processes with operating-system limits.

    run_code("result = sum(input)", {"input": [1, 2]}, timeout=5)   -> 3

The sandbox itself (`runs.engine.expressions.execute`) bounds time and sizes, but some single
operations allocate in C before any check can run, and a bug in a sandbox is always possible.
So user code runs in a small pool of long-lived worker processes, each:
- started with `python -I` (no user site, PYTHON* variables ignored) from a clean environment
  (no SECRET_KEY, DATABASE_URL or API keys to read even after an escape), cwd `/`, its own
  session, no inherited file descriptors;
- limited by `setrlimit`: address space (WFAIB_CODE_MEMORY_MB), CPU seconds (raised per job to
  the time used so far plus the job's timeout), no core files, no file writes, no new
  processes;
- isolated (`isolate`): when started as root it moves into a network namespace of its own
  (only a loopback device that is down: no connection anywhere, loopback included) and a mount
  namespace where every mount is read-only, then drops to an unprivileged user
  (WFAIB_SANDBOX_USER, `nobody`), so RLIMIT_NPROC holds. Not root: it tries an unprivileged
  user namespace for the same; where the OS refuses, the worker runs with the caller's rights
  and network, and the pool logs that once (see README, Security);
- given input as JSON on stdin and answering JSON on stdout, one line per job.
The parent enforces the wall-clock timeout by killing the worker; a worker that dies (killed,
CPU or memory limit, crash) is replaced by a fresh one on the next job. Workers are started
lazily and per process (a forked server process builds its own pool).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from wfaib.conf import wfaib_settings

from .sandbox_worker import _set_cpu_budget, isolate, worker_main  # re-exported

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 30.0  # seconds a new worker may take to import and report ready
KILL_GRACE = 1.0  # seconds past the job's timeout before the parent kills the worker
MAX_REPLY = 128 * 1024 * 1024  # bytes of one answer
SLOT_WAIT = 300.0  # seconds a job waits for a free worker

_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from runs.engine.sandbox_worker import worker_main; "
    "worker_main(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5])"
)
LANGUAGES = ("python", "javascript")

__all__ = ["LANGUAGES", "CodeError", "WorkerPool", "_set_cpu_budget", "isolate", "pool",
           "run_code", "worker_main"]


class CodeError(Exception):
    """The code failed or hit a limit; `reason` (and `lineno` when known) say why."""

    def __init__(self, reason: str, lineno: int | None = None):
        super().__init__(f"line {lineno}: {reason}" if lineno else reason)
        self.reason = reason
        self.lineno = lineno


# --- the parent side -------------------------------------------------------------------------

class _WorkerDied(Exception):
    pass


def _death_reason(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        sig = -returncode
        if sig == signal.SIGXCPU:
            return "CPU time limit exceeded"
        if sig == signal.SIGKILL:
            return "killed (memory or time limit)"
        if sig == signal.SIGSEGV:
            return "the worker crashed"
        if sig == signal.SIGTRAP:  # V8's fatal out-of-memory
            return "memory limit exceeded (the JavaScript engine stopped)"
        return f"the worker was stopped by signal {sig}"
    return "the worker stopped unexpectedly (memory limit?)"


_warned = False


def _warn_if_exposed(isolation: dict[str, Any]) -> None:
    global _warned
    if _warned or (isolation.get("network") and isolation.get("uid") != 0):
        return
    _warned = True
    logging.getLogger("wfaib.sandbox").warning(
        "code workers run without full isolation here (%s): no network namespace or no "
        "unprivileged user; start the server as root (it drops to WFAIB_SANDBOX_USER) or in a "
        "container that allows namespaces", isolation)


class _Worker:
    def __init__(self, memory_mb: int, budget_mb: int, user: str = "nobody",
                 language: str = "python"):
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT, str(ROOT), str(memory_mb), str(budget_mb),
             user, language],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1"},
            cwd="/",
            close_fds=True,
            start_new_session=True,
        )
        self.buffer = b""
        reply = self.receive(time.monotonic() + STARTUP_TIMEOUT)
        if not reply.get("ready"):
            self.kill()
            raise _WorkerDied(reply.get("error") or "the code worker did not start")
        self.isolation: dict[str, Any] = reply.get("isolation") or {}
        _warn_if_exposed(self.isolation)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def send(self, job: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(job, default=str).encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise _WorkerDied(_death_reason(self.proc.wait())) from None

    def receive(self, deadline: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise _WorkerDied(_death_reason(self.proc.wait()))
            self.buffer += chunk
            if len(self.buffer) > MAX_REPLY:
                self.kill()
                raise CodeError("result too large")
        line, _, self.buffer = self.buffer.partition(b"\n")
        return json.loads(line)

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass


class WorkerPool:
    """Up to `size` workers; a job waits for a free one."""

    def __init__(self, *, size: int, memory_mb: int, budget_mb: int | None = None,
                 user: str = "nobody", language: str = "python"):
        self.size = max(1, size)
        self.language = language
        self.user = user
        self.memory_mb = memory_mb
        self.budget_mb = budget_mb if budget_mb is not None else max(memory_mb // 2, 1)
        self.pid = os.getpid()
        self._slots = threading.BoundedSemaphore(self.size)
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._all: set[_Worker] = set()
        self._held: dict[Any, int] = {}  # workers held (or asked for) per tenant
        self._shares_free = threading.Condition()

    def _enter_share(self, tenant: Any, share: int) -> bool:
        if tenant is None:
            return True
        deadline = time.monotonic() + SLOT_WAIT
        with self._shares_free:
            while self._held.get(tenant, 0) >= share:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._shares_free.wait(remaining)
            self._held[tenant] = self._held.get(tenant, 0) + 1
        return True

    def _leave_share(self, tenant: Any) -> None:
        if tenant is None:
            return
        with self._shares_free:
            self._held[tenant] -= 1
            if not self._held[tenant]:
                del self._held[tenant]
            self._shares_free.notify_all()

    def _take(self, fresh: bool = False) -> tuple[_Worker, bool]:
        with self._lock:
            while self._idle and not fresh:
                worker = self._idle.pop()
                if worker.alive:
                    return worker, True
                self._all.discard(worker)
        worker = _Worker(self.memory_mb, self.budget_mb, self.user, self.language)
        with self._lock:
            self._all.add(worker)
        return worker, False

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            if worker.alive:
                self._idle.append(worker)
            else:
                self._all.discard(worker)

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._all.discard(worker)

    def run(self, code: str, names: dict[str, Any], *, timeout: float,
            tenant: Any = None, tenant_share: int | None = None) -> Any:
        """Run one job. With a `tenant`, that tenant holds at most `tenant_share` workers at
        once (default: all but one), so one tenant's slow code cannot take every worker."""
        share = self.size if tenant is None else max(1, tenant_share or self.size - 1)
        if not self._enter_share(tenant, share):
            raise CodeError("this account's code workers are all busy; try again later")
        try:
            if not self._slots.acquire(timeout=SLOT_WAIT):
                raise CodeError("all code workers are busy; try again later")
            try:
                reply = self._attempt(code, names, timeout, fresh=False)
            finally:
                self._slots.release()
        finally:
            self._leave_share(tenant)
        if not reply.get("ok"):
            raise CodeError(reply.get("error") or "the code failed", reply.get("line"))
        return reply.get("result")

    def _attempt(self, code: str, names: dict[str, Any], timeout: float, *,
                 fresh: bool) -> dict[str, Any]:
        try:
            worker, reused = self._take(fresh)
        except _WorkerDied as exc:
            raise CodeError(str(exc)) from None
        try:
            worker.send({"code": code, "names": names, "timeout": timeout})
            reply = worker.receive(time.monotonic() + timeout + KILL_GRACE)
        except TimeoutError:
            self._discard(worker)
            raise CodeError(f"timed out after {timeout:g}s") from None
        except _WorkerDied as exc:
            self._discard(worker)
            if reused:  # it may have died while idle: the code is pure, run it once more
                return self._attempt(code, names, timeout, fresh=True)
            raise CodeError(str(exc)) from None
        except BaseException:
            self._discard(worker)
            raise
        if reply.get("recycle"):
            self._discard(worker)
        else:
            self._give_back(worker)
        return reply

    def close(self) -> None:
        with self._lock:
            workers, self._all, self._idle = list(self._all), set(), []
        for worker in workers:
            worker.kill()

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.proc.pid for w in self._all if w.alive]


_pools: dict[str, WorkerPool] = {}
_pool_lock = threading.Lock()


def _pool_settings(language: str) -> tuple[int, int, int | None]:
    """(workers, memory limit MB, sandbox budget MB) of a language's pool. For JavaScript
    the budget is V8's heap limit (WFAIB_CODE_JS_MEMORY_MB)."""
    size = int(wfaib_settings.CODE_WORKERS)
    if language == "javascript":
        heap = int(wfaib_settings.CODE_JS_MEMORY_MB)
        return size, heap, heap
    return size, int(wfaib_settings.CODE_MEMORY_MB), None


def pool(language: str = "python") -> WorkerPool:
    """This process's pool for `language`, built from the current settings (rebuilt when
    they change)."""
    if language not in LANGUAGES:
        raise CodeError(f"unknown language {language!r} (expected one of {LANGUAGES})")
    size, memory, budget = _pool_settings(language)
    user = str(wfaib_settings.SANDBOX_USER)
    with _pool_lock:
        current = _pools.get(language)
        if current is None or current.pid != os.getpid() or \
                (current.size, current.memory_mb, current.user) != (size, memory, user):
            if current is not None and current.pid == os.getpid():
                current.close()
            current = WorkerPool(size=size, memory_mb=memory, budget_mb=budget, user=user,
                                 language=language)
            _pools[language] = current
    return current


def run_code(code: str, names: dict[str, Any], *, timeout: float | None = None,
             tenant: Any = None, language: str = "python") -> Any:
    """Run code-node source (Python or JavaScript) in a worker; return its JSON result or
    raise CodeError.

    `timeout` (default WFAIB_CODE_TIMEOUT) is capped by WFAIB_MAX_NODE_TIMEOUT; `tenant`
    (runs.tenancy.tenant_of) holds at most WFAIB_TENANT_CODE_WORKERS workers at once."""
    if timeout is None:
        timeout = float(wfaib_settings.CODE_TIMEOUT)
    cap = float(wfaib_settings.MAX_NODE_TIMEOUT or 0)
    if cap:
        timeout = min(timeout, cap)
    share = int(wfaib_settings.TENANT_CODE_WORKERS or 0) or None
    return pool(language).run(code, names, timeout=timeout, tenant=tenant,
                              tenant_share=share)


@atexit.register
def _shutdown() -> None:
    for current in list(_pools.values()):
        if current.pid == os.getpid():
            current.close()
