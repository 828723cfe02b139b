"""Serve the app the production way for a benchmark, and measure its memory.

    with Server("granian", env, workers=2, threads=4) as server:
        ...  # server.url, server.rss_mb(), server.sampler() -> peak RSS while loading

granian (WSGI, the Dockerfile's server) with one worker per core; gunicorn (sync workers) for
comparison when it is installed. Memory is the RSS (and PSS, which counts shared pages once)
summed over the server process and all its descendants, read from /proc.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from .djangoenv import ROOT

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def have_gunicorn() -> bool:
    return (BIN / "gunicorn").exists() or shutil.which("gunicorn") is not None


APP = "wfaib.wsgi:application"
BARE_APP = "bench.bare_wsgi:application"  # bench/bare_settings.py: no middleware


def command(kind: str, port: int, workers: int, threads: int, app: str = APP) -> list[str]:
    if kind == "granian":
        return [str(BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1",
                "--port", str(port), "--workers", str(workers), "--blocking-threads",
                str(threads), "--no-ws", "--log-level", "warning",
                "--working-dir", str(ROOT), app]
    if kind == "gunicorn":
        exe = str(BIN / "gunicorn") if (BIN / "gunicorn").exists() else "gunicorn"
        # Threads > 1 switch gunicorn to its gthread worker; 1 keeps the classic sync worker.
        return [exe, "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                "--threads", str(threads), "--log-level", "warning", "--chdir", str(ROOT),
                app]
    raise ValueError(f"unknown server {kind!r}")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def process_tree(pid: int) -> list[int]:
    tree = _children()
    pids, stack = [], [pid]
    while stack:
        current = stack.pop()
        pids.append(current)
        stack.extend(tree.get(current, []))
    return pids


def _kb(path: str, key: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) in MB summed over `pid` and its descendants."""
    pids = process_tree(pid)
    rss = sum(_kb(f"/proc/{p}/status", "VmRSS:") for p in pids)
    pss = sum(_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids)
    return rss / 1024, pss / 1024


class PeakSampler:
    """Samples a process tree's memory every `interval` seconds; `.peak` is the highest."""

    def __init__(self, pid: int, interval: float = 0.5):
        self.pid, self.interval = pid, interval
        self.peak_rss = self.peak_pss = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            rss, pss = memory_mb(self.pid)
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class Server:
    def __init__(self, kind: str, env: dict[str, str], *, workers: int | None = None,
                 threads: int = 1, port: int | None = None, app: str = APP):
        self.kind = kind
        self.app = app
        self.env = env
        self.workers = workers or os.cpu_count() or 1
        self.threads = threads
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log = Path(f"/tmp/wfaib_bench_{kind}_{self.port}.log")

    def label(self) -> str:
        bare = " bare" if self.app == BARE_APP else ""
        return f"{self.kind} {self.workers}x{self.threads}{bare}"

    def start(self, timeout: float = 180.0) -> Server:  # slow on a busy shared machine
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                command(self.kind, self.port, self.workers, self.threads, self.app),
                env=self.env,
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/api/health", timeout=2).status_code == 200:
                    # Every worker must have loaded the app before the clock starts.
                    for _ in range(self.workers * 4):
                        httpx.get(self.url + "/api/health", timeout=5)
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.kind} did not answer within {timeout}s: "
                           f"{self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # The server was started in its own session: its process group is ours to end.
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)

    def memory_mb(self) -> tuple[float, float]:
        assert self.proc is not None
        return memory_mb(self.proc.pid)

    def sampler(self) -> PeakSampler:
        assert self.proc is not None
        return PeakSampler(self.proc.pid)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
