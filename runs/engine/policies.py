"""Per-node error-handling policies: retry delays (backoff with jitter) and node timeouts.

    retry_delay(settings, attempt=2, rng=random.Random())   # seconds to wait before attempt 3
    call_with_timeout(fn, 5.0, name="wfaib-node-x")         # fn() or NodeTimeout after 5 s
    call_with_timeout(fn, 5.0, name=..., watch=check)       # check() raising interrupts it

A node that runs over its timeout is abandoned, not stopped: Python cannot kill a thread, so the
worker thread keeps running until its own work ends (the http node passes its timeout to httpx,
so its thread ends soon after). The run moves on at once and the thread's result is discarded.
Nodes that run in the worker thread must therefore not write to the database. The same holds
for a cancellation noticed while the node works (`watch`): the run stops waiting for the node
at once.
"""

from __future__ import annotations

import contextvars
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from nodes.base import NodeError, NodeSettings
from wfaib.conf import wfaib_settings


class NodeTimeout(NodeError):
    """The node ran longer than its timeout; its thread was abandoned."""


def retry_delay(settings: NodeSettings, attempt: int, rng: random.Random) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based) before the next one.

    Fixed: retry_delay each time; exponential: retry_delay * 2**(attempt-1). Capped at
    max_retry_delay. Jitter ("equal jitter") keeps at least half the delay and randomises the
    rest, so many runs failing together do not retry in lockstep."""
    base = settings.retry_delay
    if settings.backoff == "exponential":
        base = settings.retry_delay * (2 ** min(attempt - 1, 30))
    base = min(base, settings.max_retry_delay)
    if settings.jitter and base > 0:
        return base / 2 + rng.uniform(0, base / 2)
    return base


def max_node_timeout(timeout: float) -> float:
    """A node's configured timeout, capped by WFAIB_MAX_NODE_TIMEOUT (0: no cap)."""
    cap = float(wfaib_settings.MAX_NODE_TIMEOUT or 0)
    return min(timeout, cap) if cap else timeout


def call_with_timeout(fn: Callable[[], Any], timeout: float | None, *, name: str,
                      watch: Callable[[], None] | None = None, every: float = 0.5) -> Any:
    """Call `fn` in a daemon thread and wait at most `timeout` seconds (None: call inline),
    never more than the operator's WFAIB_MAX_NODE_TIMEOUT.

    `watch()` is called every `every` seconds while `fn` works; whatever it raises (say, the
    run was cancelled) abandons the thread like a timeout and is raised here."""
    if timeout is None:
        return fn()
    timeout = max_node_timeout(timeout)
    box: dict[str, Any] = {}
    done = threading.Event()
    # The node's thread sees this thread's context variables (its trace span, log context).
    context = contextvars.copy_context()

    def target() -> None:
        try:
            box["value"] = context.run(fn)
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc
        finally:
            done.set()

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not done.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise NodeTimeout(f"timed out after {timeout:g}s (the node's work was abandoned)")
        if done.wait(min(remaining, every) if watch is not None else remaining):
            break
        if watch is not None:
            watch()
    if "error" in box:
        raise box["error"]
    return box["value"]
