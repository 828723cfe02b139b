"""The run's state in memory: node states, frames (the top level or one loop iteration), the
signals that stop a pass, and the JSON helpers every part of the engine shares.

    states = StateTable()                 # node id -> NodeState; `states.outputs` is `nodes`
    states["a"] = NodeState("succeeded", {"main": 1})
    top = Frame(scope="", owner=None, states=states)

Nothing here touches the database (see journal.py for that).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from nodes.base import NodeError, NodeType
from workflows.graph import DEFAULT_PORT

from .expressions import ReadOnlyDict, safe_str

SUPERSEDED = "superseded"  # what execute() returns then; the run's row is the other's now
TRUNCATED = "__wfaib_truncated__"


class RunCancelled(Exception):
    """Cancellation was requested: the pass stops and the run ends `cancelled`."""


class ParkForRetry(Exception):
    """A node's retry is due in `delay` seconds: park the run (waiting) instead of holding
    this thread; when it resumes, the failed node runs again with its next attempt number."""

    def __init__(self, delay: float):
        super().__init__(delay)
        self.delay = delay


class RunSuperseded(Exception):
    """Another execution claimed this run (the watchdog took this one for dead): stop writing."""


class BodyFailure(NodeError):
    """A node inside a loop body failed (and its on_error was `stop`): the loop fails with it."""


@dataclass
class NodeState:
    status: str  # succeeded | skipped | failed | waiting
    outputs: dict[str, Any] = field(default_factory=dict)  # port -> value

    @property
    def value(self) -> Any:
        if not self.outputs:
            return None
        return next(iter(self.outputs.values()))


class NodeValues(ReadOnlyDict):
    """The `nodes` name of expressions: read without a copy per evaluation, never mutated."""


class StateTable(dict):
    """Node states by id that also keeps `outputs`: the outputs of the succeeded nodes, which
    expressions read as `nodes`. Kept up to date on every change, so building the expression
    names costs nothing per node (rebuilding it made long runs quadratic)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.outputs = NodeValues(
            (nid, state.value) for nid, state in self.items() if state.status == "succeeded"
        )

    def __setitem__(self, node_id: str, state: NodeState) -> None:
        super().__setitem__(node_id, state)
        if state.status == "succeeded":
            self.outputs[node_id] = state.value
        else:
            self.outputs.pop(node_id, None)

    def pop(self, node_id: str, *default: Any) -> Any:
        self.outputs.pop(node_id, None)
        return super().pop(node_id, *default)


@dataclass
class Frame:
    """Where nodes run: the top level (scope "", owner None) or one loop iteration."""

    scope: str
    owner: str | None  # the loop whose body this frame runs
    states: StateTable
    extra: dict[str, Any] = field(default_factory=dict)  # item, index
    threaded: bool = False  # in a worker thread: no database access, no cancel checks
    logs: list[Any] = field(default_factory=list)  # buffered RunLogs (loop frames only)
    last_value: Any = None
    has_value: bool = False

    def succeeded(self, state: NodeState) -> None:
        self.last_value, self.has_value = state.value, True


_STRICT = (orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
           | orjson.OPT_PASSTHROUGH_SUBCLASS)


def _refuse(obj: Any) -> Any:
    raise TypeError


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    return safe_str(obj)  # a function's text without its heap address


def jsonable(value: Any) -> Any:
    """`value` itself when it is plain JSON data (no copy: outputs of big data are passed on,
    not duplicated per node), else a JSON-safe copy (sets become lists, other objects
    strings)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    try:
        orjson.dumps(value, default=_refuse, option=_STRICT)
        return value
    except (TypeError, orjson.JSONEncodeError):
        pass
    try:
        return orjson.loads(orjson.dumps(value, default=_json_default,
                                         option=orjson.OPT_NON_STR_KEYS))
    except (TypeError, orjson.JSONEncodeError):
        return str(value)


def log_copy(value: Any, limit: int) -> Any:
    """What a RunLog stores of a value: a JSON-safe copy, or past `limit` bytes of JSON a
    marker with its size and a preview (big data is passed along in memory, not copied into
    every log)."""
    if value is None or isinstance(value, (int, float, bool)):
        return value
    try:
        data = orjson.dumps(value, default=_json_default, option=orjson.OPT_NON_STR_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return str(value)[:limit]
    if len(data) <= limit:
        return value if isinstance(value, str) else orjson.loads(data)
    return {TRUNCATED: True, "bytes": len(data),
            "preview": data[:2000].decode("utf-8", errors="ignore")}


def is_truncated(value: Any) -> bool:
    return isinstance(value, dict) and value.get(TRUNCATED) is True


def first_port(cls: type[NodeType], node: dict[str, Any]) -> str:
    ports = cls.output_ports(node.get("config") or {})
    return ports[0] if ports else DEFAULT_PORT


def failure_message(exc: BaseException) -> str:
    if isinstance(exc, NodeError):
        return exc.message
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
