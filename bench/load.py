"""Load generators: `wrk` (Debian package) when installed, else a bounded httpx client.

    result = load(url, body, connections=16, duration=10)        # fixed time
    result = load_count(url, body, connections=16, requests=500)  # fixed count, all answers read

Both return a `LoadResult`: requests answered, 2xx and other answers, socket errors, requests/s,
latency p50/p99 (ms). The fixed-count client waits for every answer, so "2xx == runs in the
database" can be checked exactly; with a fixed time, up to `connections` requests may still be
in flight at the cut-off (the server finishes them, the generator no longer counts them).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

_WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = %s

local threads = {}
setup = function(thread) table.insert(threads, thread) end
init = function(args) ok = 0; other = 0; shed = 0; err5xx = 0 end
response = function(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 else other = other + 1 end
  if status == 503 then shed = shed + 1 elseif status >= 500 then err5xx = err5xx + 1 end
end
done = function(summary, latency, requests)
  local n2xx, nother, n503, n5xx = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    n2xx = n2xx + t:get("ok"); nother = nother + t:get("other")
    n503 = n503 + t:get("shed"); n5xx = n5xx + t:get("err5xx")
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "ok": %%d, "other": %%d, ' ..
    '"socket_errors": %%d, "timeouts": %%d, "p50_us": %%d, "p99_us": %%d, "max_us": %%d, ' ..
    '"s503": %%d, "s5xx": %%d}\\n',
    summary.requests, summary.duration, n2xx, nother,
    e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, n503, n5xx))
end
"""


@dataclass
class LoadResult:
    tool: str
    connections: int
    seconds: float
    requests: int  # answers received
    ok: int  # 2xx answers
    other: int  # non-2xx answers
    socket_errors: int
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def unexpected_5xx(self) -> int:
        """5xx answers other than 503 (load shedding's deliberate refusal)."""
        return sum(n for s, n in self.statuses.items() if s >= 500 and s != 503)

    @property
    def errors(self) -> int:
        return self.other + self.socket_errors

    def as_dict(self) -> dict:
        return {**asdict(self), "rps": round(self.rps, 1), "errors": self.errors}


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def wrk(url: str, body: bytes, *, connections: int, duration: float,
        threads: int = 1, timeout: float = 10.0) -> LoadResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT % _lua_string(body.decode()))
    try:
        proc = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s",
             f"--timeout={timeout:g}s", "-s", script.name, url],
            capture_output=True, text=True, timeout=duration + timeout + 30, check=False,
        )
    finally:
        Path(script.name).unlink(missing_ok=True)
    marker = [ln for ln in proc.stdout.splitlines() if ln.startswith("WRKJSON ")]
    if proc.returncode != 0 or not marker:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")
    data = json.loads(marker[-1].removeprefix("WRKJSON "))
    return LoadResult(
        tool="wrk", connections=connections, seconds=data["duration_us"] / 1e6,
        requests=data["requests"], ok=data["ok"], other=data["other"],
        socket_errors=data["socket_errors"] + data["timeouts"],
        p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000,
        # wrk counts by class: 503 (load shedding's deliberate answer) and other 5xx (as 500)
        statuses={k: v for k, v in ((503, data["s503"]), (500, data["s5xx"])) if v},
    )


def _percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


async def _httpx_load(url: str, body: bytes, connections: int, duration: float | None,
                      requests: int | None, timeout: float) -> LoadResult:
    import httpx

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    socket_errors = 0
    remaining = [requests if requests is not None else -1]
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    start = time.perf_counter()
    deadline = start + duration if duration is not None else float("inf")

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal socket_errors
        while time.perf_counter() < deadline:
            if remaining[0] == 0:
                return
            if remaining[0] > 0:
                remaining[0] -= 1
            t0 = time.perf_counter()
            try:
                resp = await client.post(url, content=body,
                                         headers={"Content-Type": "application/json"})
            except httpx.HTTPError:
                socket_errors += 1
                continue
            latencies.append(time.perf_counter() - t0)
            statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1

    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        await asyncio.gather(*(worker(client) for _ in range(connections)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    ok = sum(n for s, n in statuses.items() if 200 <= s < 300)
    return LoadResult(
        tool="httpx", connections=connections, seconds=elapsed, requests=len(latencies), ok=ok,
        other=len(latencies) - ok, socket_errors=socket_errors,
        p50_ms=_percentile(latencies, 50) * 1000, p99_ms=_percentile(latencies, 99) * 1000,
        statuses=statuses,
    )


def _run(coro: Any) -> LoadResult:
    """asyncio.run, in a thread of its own when this thread already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def load(url: str, body: bytes, *, connections: int, duration: float,
         timeout: float = 10.0, tool: str = "auto") -> LoadResult:
    """Keep `connections` requests in flight for `duration` seconds."""
    if tool == "wrk" or (tool == "auto" and have_wrk()):
        return wrk(url, body, connections=connections, duration=duration, timeout=timeout)
    return _run(_httpx_load(url, body, connections, duration, None, timeout))


def load_count(url: str, body: bytes, *, connections: int, requests: int,
               timeout: float = 30.0) -> LoadResult:
    """Send exactly `requests` requests over `connections` connections; read every answer."""
    return _run(_httpx_load(url, body, connections, None, requests, timeout))
