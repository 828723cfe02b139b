"""The workflow definitions the benchmarks run, and what each must return.

    chain(1000)      trigger -> t1 -> t2 -> ... (each `input + 1`): result n - 1 for input 0
    fan(1000)        trigger -> n - 2 parallel transforms -> one join (`len(input)`): n - 2
    hook_pipeline()  webhook -> transform -> transform (the engine's webhook smoke test)
    hook_transform() webhook -> transform: the webhook benchmark's workflow
    hook_respond()   webhook -> transform -> respond: the same, answered by a respond node
    big_data(mb)     webhook -> transform that builds ~mb MB of JSON -> transforms passing it on
"""

from __future__ import annotations

from typing import Any


def _t(node_id: str, expression: str) -> dict[str, Any]:
    return {"id": node_id, "type": "transform", "config": {"expression": expression}}


def _trigger() -> dict[str, Any]:
    return {"id": "trigger", "type": "webhook", "config": {}}


def chain(n: int) -> dict[str, Any]:
    """`n` nodes in a line: the trigger and n - 1 transforms adding one each."""
    nodes = [_trigger(), *(_t(f"t{i}", "input + 1") for i in range(1, n))]
    edges = [{"from": a["id"], "to": b["id"]} for a, b in zip(nodes, nodes[1:], strict=False)]
    return {"name": f"chain-{n}", "nodes": nodes, "edges": edges}


def chain_result(n: int) -> int:
    return n - 1


def fan(n: int) -> dict[str, Any]:
    """`n` nodes: the trigger fans out to n - 2 transforms that all feed one join."""
    branches = [_t(f"b{i}", "input + 1") for i in range(n - 2)]
    join = _t("join", "len(input)")
    edges = [{"from": "trigger", "to": b["id"]} for b in branches]
    edges += [{"from": b["id"], "to": "join"} for b in branches]
    return {"name": f"fan-{n}", "nodes": [_trigger(), *branches, join], "edges": edges}


def fan_result(n: int) -> int:
    return n - 2


def hook_pipeline() -> dict[str, Any]:
    """The webhook benchmark: webhook -> transform -> transform, cheap expressions."""
    return {
        "name": "bench-hook",
        "nodes": [
            _trigger(),
            {"id": "shape", "type": "transform",
             "config": {"mapping": {"name": "input.name", "n": "input.n + 1"}}},
            _t("answer", "{'greeting': 'hello ' + input.name, 'n': input.n * 2}"),
        ],
        "edges": [{"from": "trigger", "to": "shape"}, {"from": "shape", "to": "answer"}],
    }


def _shape() -> dict[str, Any]:
    return {"id": "shape", "type": "transform",
            "config": {"mapping": {"greeting": "'hello ' + input.name", "n": "input.n * 2"}}}


def hook_transform() -> dict[str, Any]:
    """webhook -> transform (two fields): answered 200 {"run", "status", "result"}."""
    return {"name": "bench-transform", "nodes": [_trigger(), _shape()],
            "edges": [{"from": "trigger", "to": "shape"}]}


def hook_respond() -> dict[str, Any]:
    """webhook -> transform -> respond: answered with the transform's output as the body."""
    respond = {"id": "answer", "type": "respond", "config": {}}
    return {"name": "bench-respond", "nodes": [_trigger(), _shape(), respond],
            "edges": [{"from": "trigger", "to": "shape"}, {"from": "shape", "to": "answer"}]}


def hook_shape_result(payload: dict[str, Any]) -> dict[str, Any]:
    """What hook_transform and hook_respond answer for `payload`."""
    return {"greeting": "hello " + payload["name"], "n": payload["n"] * 2}


def hook_payload(i: int = 1) -> dict[str, Any]:
    return {"name": "ada", "n": i, "tags": ["bench", "wfaib"], "note": "x" * 16}


def hook_result(payload: dict[str, Any]) -> dict[str, Any]:
    return {"greeting": "hello " + payload["name"], "n": (payload["n"] + 1) * 2}


RECORD_JSON_BYTES = 100  # '{"i":123456,"name":"record","pad":"xx..."}' with a 64-char pad


def big_data(mb: int, hops: int = 3) -> dict[str, Any]:
    """A run whose nodes pass ~`mb` MB of JSON along: the trigger's payload (`big_payload`,
    given to run_start, as an API call or a file would) goes through `hops` transforms that hand
    the whole list on, and a last one counts it. (The sandbox caps what one expression may
    build, so the data comes in as the payload rather than from an expression.)"""
    nodes = [_trigger(), *(_t(f"pass{i}", "input") for i in range(hops)),
             _t("count", "len(input)")]
    edges = [{"from": a["id"], "to": b["id"]} for a, b in zip(nodes, nodes[1:], strict=False)]
    return {"name": f"big-{mb}mb", "nodes": nodes, "edges": edges}


def big_payload(mb: int) -> list[dict[str, Any]]:
    return [{"i": i, "name": "record", "pad": "x" * 64} for i in range(big_data_result(mb))]


def big_data_result(mb: int) -> int:
    """How many records make `mb` MB of JSON."""
    return mb * 1_000_000 // RECORD_JSON_BYTES
