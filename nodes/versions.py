"""Node type versions in saved definitions.

A definition node may carry `"version"`: the version of its type's config shape it was saved
with. A node without one was saved as version 1 (every type started there), so definitions
saved before a type changed shape keep working: `node_config` upgrades their config through
the type's `migrate_config` steps whenever it is read (validated or run). Saving stamps the
current version on nodes whose type is past version 1 (`stamp_versions`), so a client that
writes the current shape without naming a version is read right later too.

    config = node_config(registry.get(node["type"]), node)
"""

from __future__ import annotations

from typing import Any

from .base import NodeType
from .registry import registry


def saved_version(node: dict[str, Any]) -> int:
    version = node.get("version", 1)
    return version if isinstance(version, int) and not isinstance(version, bool) else 1


def version_problem(cls: type[NodeType], node: dict[str, Any]) -> str | None:
    """Why the node's `version` cannot be read, or None."""
    version = node.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return "must be a positive integer"
    if version > cls.version:
        return (f"{cls.type!r} is at version {cls.version} on this server; "
                f"this node was saved with version {version}")
    return None


def node_config(cls: type[NodeType], node: dict[str, Any]) -> dict[str, Any]:
    """The node's raw (unrendered) config in its type's current shape."""
    config = node.get("config") or {}
    if not isinstance(config, dict):
        return config
    return cls.upgrade_config(config, saved_version(node))


def stamp_versions(definition: Any) -> Any:
    """The definition with the current version on nodes of types past version 1 that name
    none (what a client writes without a version is the current shape)."""
    if not isinstance(definition, dict) or not isinstance(definition.get("nodes"), list):
        return definition
    nodes = []
    for node in definition["nodes"]:
        if isinstance(node, dict) and "version" not in node \
                and isinstance(node.get("type"), str) and node["type"] in registry:
            current = registry.get(node["type"]).version
            if current > 1:
                node = {**node, "version": current}
        nodes.append(node)
    return {**definition, "nodes": nodes}
