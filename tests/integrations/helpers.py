"""Run one integration node on its own, the way the engine does (config rendered, then
validated), with a credential handed in."""

from __future__ import annotations

from typing import Any

from nodes.registry import registry
from runs.engine.context import EngineContext
from runs.engine.expressions import render_value


def run_node(node_type: str, config: dict[str, Any], *, credential: dict[str, Any],
             input: Any = None) -> Any:
    cls = registry.get(node_type)
    names = {"input": input, "trigger": input, "nodes": {}}
    raw = {k: v if k in cls.raw_fields else render_value(v, names) for k, v in config.items()}
    parsed = cls.Config.model_validate({"credential": "cred", **raw})

    def lookup(ref):
        return {"id": 1, "name": "cred", **credential}

    ctx = EngineContext(node_id="n1", node_type=node_type, names=names, credentials=lookup)
    return cls().run(ctx, parsed, input)
