"""The worker side of the code sandbox (see `runs.engine.sandbox_process` for the whole
design): a process that isolates itself, applies its limits and answers jobs read from stdin.

    python -I -c "...; from runs.engine.sandbox_worker import worker_main; worker_main(...)"
"""

from __future__ import annotations

import collections
import ctypes
import datetime
import decimal
import json
import math
import os
import pwd
import resource
import sys
import uuid
from typing import Any

_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 32, 4096, 16384, 1 << 18
_KEPT_FLAGS = {"nosuid": _MS_NOSUID, "nodev": _MS_NODEV, "noexec": _MS_NOEXEC}


def _mount(libc: Any, target: str, flags: int) -> bool:
    return libc.mount(None, target.encode(), None, flags, None) == 0


def _read_only_mounts() -> bool:
    """In a private mount namespace: remount every mount read-only (keeping nosuid, nodev,
    noexec). True when all of them are."""
    libc = ctypes.CDLL(None, use_errno=True)
    if not _mount(libc, "/", _MS_REC | _MS_PRIVATE):  # nothing leaks back to the host
        return False
    every = True
    with open("/proc/self/mountinfo") as mountinfo:
        mounts = [line.split() for line in mountinfo]
    for fields in mounts:
        target = fields[4].replace("\\040", " ")
        kept = sum(flag for name, flag in _KEPT_FLAGS.items() if name in fields[5].split(","))
        if not _mount(libc, target, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | kept):
            every = False
    return every


def isolate(user: str) -> dict[str, Any]:
    """Take this process off the network and the writable filesystem and drop root; return
    what was achieved: {"uid", "network": isolated?, "readonly": read-only?}."""
    done: dict[str, bool | int] = {"network": False, "readonly": False}
    if os.getuid() == 0:
        try:
            os.unshare(os.CLONE_NEWNET | os.CLONE_NEWNS)
            done["network"] = True
            done["readonly"] = _read_only_mounts()
        except (OSError, AttributeError):
            pass  # no namespaces here (a container without CAP_SYS_ADMIN): rights drop still
        account = pwd.getpwnam(user)
        os.setgroups([])
        os.setgid(account.pw_gid)
        os.setuid(account.pw_uid)
    else:
        try:  # an unprivileged user namespace, where the OS allows one
            os.unshare(os.CLONE_NEWUSER | os.CLONE_NEWNET)
            done["network"] = True
        except (OSError, AttributeError):
            pass
    done["uid"] = os.getuid()
    return done

def _apply_limits(memory_mb: int, language: str = "python") -> None:
    """Python: address space and no new processes. JavaScript: V8 reserves terabytes of
    address space and runs threads, so RLIMIT_DATA (written memory) stands in for the first
    and the process limit is not set (see README, Security)."""
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    if language == "javascript":
        with open("/proc/self/status") as status:
            used = next(int(line.split()[1]) * 1024 for line in status
                        if line.startswith("VmData:"))
        limit = used + 2 * memory + (64 << 20)  # the heap, buffers beside it, and slack
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
        return
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    try:
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    except (ValueError, OSError):  # not permitted on every platform
        pass


def _set_cpu_budget(seconds: float) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    soft = int(math.ceil(used + seconds)) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _json_default(value: Any) -> Any:
    """JSON for what the importable modules return: sets and deques as lists, dates and
    times in ISO 8601, decimals and UUIDs as text, durations in seconds."""
    if isinstance(value, (set, frozenset, collections.deque)):
        return list(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    raise TypeError(f"the result holds a {type(value).__name__}, which is not JSON")


def _warm(limits: Any, language: str) -> None:
    """Import and load everything the jobs need now, while the files are readable."""
    from runs.engine.expressions import execute

    if language == "javascript":
        from runs.engine.javascript import warm

        warm()
        return
    execute("import datetime, decimal, json, re, uuid, hashlib, random, statistics, textwrap"
            "\nresult = [datetime.datetime.strptime('2020', '%Y'), re.compile('a'), "
            "uuid.uuid4(), hashlib.sha256(b''), json.loads('1'), decimal.Decimal('1')]",
            {}, timeout=30.0, limits=limits)


def _answer(job: dict[str, Any], limits: Any, language: str, memory_mb: int) -> dict[str, Any]:
    from runs.engine.expressions import execute

    if language == "javascript":
        from runs.engine.javascript import run_javascript

        return {"ok": True, "result": run_javascript(
            job["code"], job["names"], timeout=float(job["timeout"]), memory_mb=memory_mb,
            max_output=limits.max_output)}
    return {"ok": True, "result": execute(job["code"], job["names"],
                                          timeout=float(job["timeout"]), limits=limits)}


def worker_main(memory_mb: int, budget_mb: int, user: str = "nobody",
                language: str = "python") -> None:
    """Entry point of a worker process: read jobs from stdin, answer on stdout.

    `budget_mb` is the sandbox's own allocation estimate limit (for JavaScript: V8's heap
    limit); the address-space (data) limit from `memory_mb` catches whatever it misses.
    Everything the jobs need is loaded before `isolate` drops the rights to read the
    interpreter's own files."""
    from runs.engine.expressions import ExpressionError, code_limits
    from runs.engine.javascript import JavaScriptError

    sys.setrecursionlimit(5000)  # room for the sandbox's own call-depth limit
    protocol = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # nothing but answers goes to the protocol stream, not even V8's output
    sys.stdout = sys.stderr
    limits = code_limits(budget_mb * 1024 * 1024)
    _warm(limits, language)
    try:
        isolation = isolate(user)
    except (KeyError, OSError) as exc:  # unknown user, or the drop refused: do not run as root
        protocol.write(json.dumps({"ready": False, "error": f"isolation failed: {exc}"})
                       .encode() + b"\n")
        protocol.flush()
        return
    _apply_limits(memory_mb, language)
    protocol.write(json.dumps({"ready": True, "isolation": isolation}).encode() + b"\n")
    protocol.flush()
    for line in sys.stdin.buffer:
        recycle = False
        try:
            job = json.loads(line)
            _set_cpu_budget(float(job["timeout"]))
            answer = json.dumps(_answer(job, limits, language, budget_mb),
                                default=_json_default)
        except JavaScriptError as exc:
            recycle = exc.recycle
            answer = json.dumps({"ok": False, "error": exc.reason, "line": exc.lineno})
        except ExpressionError as exc:
            recycle = "MemoryError" in exc.reason
            answer = json.dumps({"ok": False, "error": exc.reason, "line": exc.lineno})
        except MemoryError:
            recycle = True
            answer = json.dumps({"ok": False, "error": "memory limit exceeded"})
        except Exception as exc:  # a result that is not JSON, a malformed job
            answer = json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]})
        if recycle:  # tell the parent not to reuse this process
            answer = answer[:-1] + ', "recycle": true}'
        protocol.write(answer.encode() + b"\n")
        protocol.flush()
        if recycle:  # after a MemoryError the process may be in a poor state: start afresh
            break
