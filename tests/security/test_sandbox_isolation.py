"""The code worker's isolation (runs/engine/sandbox_process.py `isolate`): started as root, it
drops to an unprivileged user, has no network (not even loopback) and sees a read-only
filesystem. The code node itself cannot even name a socket or a file (the sandbox), so the
isolation is checked on the worker process and by running `isolate` in a process of its own
that then tries what an escaped payload would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from runs.engine.sandbox_process import ROOT, WorkerPool

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.getuid() != 0, reason="the server runs as root only in some set-ups"),
]

ESCAPED = """
import json, os, socket, sys
from runs.engine.sandbox_process import isolate
done = isolate("nobody")
report = {"isolation": done, "uid": os.getuid(), "euid": os.geteuid()}
try:
    probe = socket.socket()
    probe.settimeout(5)
    probe.connect(("127.0.0.1", int(sys.argv[1])))
    report["connect"] = "connected"
except OSError as exc:
    report["connect"] = f"{type(exc).__name__}: {exc}"
try:
    with open(os.path.join(sys.argv[2], "planted"), "w") as out:
        out.write("x")
    report["write"] = "written"
except OSError as exc:
    report["write"] = f"{type(exc).__name__}: {exc}"
print(json.dumps(report))
"""


def test_the_code_worker_runs_unprivileged_in_its_own_network_namespace():
    pool = WorkerPool(size=1, memory_mb=256)
    try:
        assert pool.run("result = 1 + 1", {}, timeout=5) == 2
        (pid,) = pool.worker_pids()
        uids = next(line for line in open(f"/proc/{pid}/status")
                    if line.startswith("Uid:")).split()[1:]
        assert uids
        assert all(uid != "0" for uid in uids)
        assert os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net")
        assert os.readlink(f"/proc/{pid}/ns/mnt") != os.readlink("/proc/self/ns/mnt")
        (worker,) = pool._all
        assert worker.isolation["network"] is True
        assert worker.isolation["readonly"] is True
    finally:
        pool.close()


@pytest.fixture
def writable():
    """A world-writable folder anyone can reach: only the read-only mount can stop a write."""
    path = Path(tempfile.mkdtemp(prefix="wfaib-rel-", dir="/tmp"))
    os.chmod(path, 0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_an_escaped_payload_can_neither_connect_nor_write(api_server, writable):
    api_server.json("GET", "/canary", {"reached": True})
    port = api_server.url.rsplit(":", 1)[1].split("/")[0]
    done = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r})\n" + ESCAPED,
         port, str(writable)],
        capture_output=True, text=True, timeout=60, cwd="/", check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["uid"] != 0
    assert report["euid"] != 0
    assert report["connect"] != "connected"
    assert "unreachable" in report["connect"].lower()
    assert report["write"] != "written"
    assert "Read-only file system" in report["write"]
    assert not (writable / "planted").exists()
    assert api_server.count("/canary") == 0
