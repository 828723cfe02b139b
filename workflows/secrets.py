"""Secret config fields of nodes (a node type's `secret_fields`, e.g. the llm node's api_key):
masked wherever a definition is shown, kept when a masked definition is saved back.

    shown = mask_definition(workflow.definition)        # api_key: "********"
    saved = keep_secrets(edited_definition, stored)     # "********" -> the stored key
"""

from __future__ import annotations

import copy
from typing import Any

from nodes.registry import registry

SECRET_MASK = "********"


def _secret_fields(node: Any) -> tuple[str, ...]:
    if not isinstance(node, dict) or node.get("type") not in registry:
        return ()
    return registry.get(node["type"]).secret_fields


def mask_definition(definition: Any) -> Any:
    """A copy of `definition` with every non-empty secret config value replaced by the mask."""
    if not isinstance(definition, dict) or not isinstance(definition.get("nodes"), list):
        return definition
    if not any(_secret_fields(n) for n in definition["nodes"]):
        return definition
    masked = copy.deepcopy(definition)
    for node in masked["nodes"]:
        config = node.get("config") if isinstance(node, dict) else None
        if isinstance(config, dict):
            for name in _secret_fields(node):
                if config.get(name):
                    config[name] = SECRET_MASK
    return masked


def keep_secrets(new: Any, old: Any) -> Any:
    """`new` with each masked secret replaced by the stored value of the same node (same id and
    type) in `old`; a mask with nothing stored behind it becomes empty."""
    if not isinstance(new, dict) or not isinstance(new.get("nodes"), list):
        return new
    stored = {n.get("id"): n for n in (old or {}).get("nodes", []) if isinstance(n, dict)}
    result = None
    for index, node in enumerate(new["nodes"]):
        config = node.get("config") if isinstance(node, dict) else None
        if not isinstance(config, dict):
            continue
        for name in _secret_fields(node):
            if config.get(name) != SECRET_MASK:
                continue
            if result is None:
                result = copy.deepcopy(new)
            before = stored.get(node.get("id"))
            same = before is not None and before.get("type") == node.get("type")
            value = (before.get("config") or {}).get(name, "") if same else ""
            result["nodes"][index]["config"][name] = value
    return new if result is None else result
