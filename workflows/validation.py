"""Definition validation: the one check every entry point uses (API, admin, CLI, import).

    errors = validate_definition(definition)   # [] when valid
    # [{"path": "nodes[2].config.url", "message": "not a valid URL ..."}]

Checks the JSON shape, unique node ids, known node types, edges naming existing nodes and ports,
no cycles (naming the nodes in the cycle), a trigger node to start from, each node's config
against its type's schema, each node's `settings` (retries, timeout, on_error; an `error` port
exists only with on_error "route"), and loop bodies: the nodes reachable from a loop's body port
may take inputs only from the loop's body port or from other nodes of the same body, and may not
wait (delay, wait for webhook), since a run waits only at the top level.
"""

from __future__ import annotations

from typing import Any, TypedDict

from pydantic import ValidationError as PydanticValidationError

from nodes.base import ERROR_PORT, NodeSettings
from nodes.registry import registry
from runs.engine.graph import DEFAULT_PORT, Edge, Graph, topological_order


class DefinitionError(TypedDict):
    path: str
    message: str


def error_text(error: DefinitionError) -> str:
    """`path: message`, or the message alone for the definition as a whole (path "")."""
    return f"{error['path']}: {error['message']}" if error["path"] else error["message"]


class InvalidDefinition(Exception):
    def __init__(self, errors: list[DefinitionError]):
        super().__init__("; ".join(error_text(e) for e in errors))
        self.errors = errors


def _loc_to_path(prefix: str, loc: tuple[Any, ...]) -> str:
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def validate_config(node_type: str, config: Any, prefix: str = "config") -> list[DefinitionError]:
    cls = registry.get(node_type)
    try:
        cls.Config.model_validate(config)
    except PydanticValidationError as exc:
        errors: list[DefinitionError] = []
        for item in exc.errors(include_url=False):
            msg = item["msg"].removeprefix("Value error, ")
            errors.append({"path": _loc_to_path(prefix, item["loc"]), "message": msg})
        return errors
    return []


def validate_definition(definition: Any) -> list[DefinitionError]:
    errors: list[DefinitionError] = []

    def err(path: str, message: str) -> None:
        errors.append({"path": path, "message": message})

    if not isinstance(definition, dict):
        err("", "the definition must be a JSON object with nodes and edges")
        return errors
    if "name" in definition and not isinstance(definition["name"], str):
        err("name", "must be a string")
    nodes = definition.get("nodes")
    edges = definition.get("edges", [])
    if not isinstance(nodes, list):
        err("nodes", "must be a list of nodes")
        return errors
    if not isinstance(edges, list):
        err("edges", "must be a list of edges")
        edges = []

    ids: dict[str, int] = {}
    types: dict[str, str] = {}
    routed: set[str] = set()  # nodes with on_error "route": they have an `error` port
    for i, node in enumerate(nodes):
        at = f"nodes[{i}]"
        if not isinstance(node, dict):
            err(at, "must be an object with id, type and config")
            continue
        node_id, node_type = node.get("id"), node.get("type")
        if not isinstance(node_id, str) or not node_id.strip():
            err(f"{at}.id", "must be a non-empty string")
        elif len(node_id) > 100:
            err(f"{at}.id", "must be at most 100 characters")
        elif node_id in ids:
            err(f"{at}.id", f"duplicate node id {node_id!r} (also nodes[{ids[node_id]}])")
        else:
            ids[node_id] = i
        if not isinstance(node_type, str) or node_type not in registry:
            err(f"{at}.type",
                f"unknown node type {node_type!r}; known: {', '.join(registry.names())}")
        elif isinstance(node_id, str):
            types[node_id] = node_type
        config = node.get("config", {})
        if not isinstance(config, dict):
            err(f"{at}.config", "must be an object")
        elif isinstance(node_type, str) and node_type in registry:
            errors.extend(validate_config(node_type, config, f"{at}.config"))
        position = node.get("position")
        if position is not None and not (
            isinstance(position, dict)
            and all(isinstance(position.get(k), (int, float)) for k in ("x", "y"))
        ):
            err(f"{at}.position", "must be an object with numeric x and y")
        settings = node.get("settings")
        if settings is not None and not isinstance(settings, dict):
            err(f"{at}.settings", "must be an object")
        elif settings:
            try:
                parsed = NodeSettings.model_validate(settings)
            except PydanticValidationError as exc:
                for item in exc.errors(include_url=False):
                    err(_loc_to_path(f"{at}.settings", item["loc"]),
                        item["msg"].removeprefix("Value error, "))
            else:
                if parsed.on_error == "route" and isinstance(node_id, str):
                    routed.add(node_id)

    graph_edges: list[Edge] = []
    for i, edge in enumerate(edges):
        at = f"edges[{i}]"
        if not isinstance(edge, dict):
            err(at, "must be an object with from and to")
            continue
        src, dst, port = edge.get("from"), edge.get("to"), edge.get("port") or DEFAULT_PORT
        ok = True
        for key, value in (("from", src), ("to", dst)):
            if not isinstance(value, str) or value not in ids:
                err(f"{at}.{key}", f"no node with id {value!r}")
                ok = False
        if not ok:
            continue
        if src == dst:
            err(at, f"a node cannot connect to itself (cycle: {src} -> {src})")
            continue
        if src in types:
            src_config = nodes[ids[src]].get("config")
            outputs = registry.get(types[src]).output_ports(
                src_config if isinstance(src_config, dict) else {})
            if src in routed:
                outputs = [*outputs, ERROR_PORT]
            if port not in outputs:
                hint = (" (an `error` output needs settings.on_error \"route\")"
                        if port == ERROR_PORT else "")
                err(f"{at}.port", f"node {src!r} ({types[src]}) has no output {port!r}; "
                    f"outputs: {', '.join(outputs)}{hint}")
        if dst in types and registry.get(types[dst]).is_trigger:
            err(f"{at}.to", f"{dst!r} is a trigger node and takes no inputs")
        graph_edges.append(Edge(src, dst, port))

    _, cycle = topological_order(list(ids), graph_edges)
    if cycle:
        err("edges", f"the graph has a cycle: {' -> '.join(cycle)}")
    else:
        errors.extend(_check_loop_bodies(ids, types, graph_edges))

    if ids and not any(registry.get(t).is_trigger for t in types.values()):
        trigger_types = [c.type for c in registry if c.is_trigger]
        err("nodes", f"needs a trigger node to start from ({', '.join(trigger_types)})")
    if not nodes:
        err("nodes", "needs at least one node")
    return errors


def ensure_valid(definition: Any) -> None:
    errors = validate_definition(definition)
    if errors:
        raise InvalidDefinition(errors)


def _check_loop_bodies(ids: dict[str, int], types: dict[str, str],
                       edges: list[Edge]) -> list[DefinitionError]:
    """A loop's body (everything reachable from its body port) must be closed: its nodes take
    inputs only from the loop's body port or from each other (an input from outside, or from
    the loop's `done`, would have no value per iteration), and none of them may wait."""
    errors: list[DefinitionError] = []
    graph = Graph(nodes={n: {} for n in ids}, edges=edges,
                  incoming={n: [] for n in ids}, outgoing={n: [] for n in ids})
    for edge in edges:
        graph.incoming[edge.target].append(edge)
        graph.outgoing[edge.source].append(edge)
    for loop_id, node_type in types.items():
        body_port = registry.get(node_type).body_port
        if not body_port:
            continue
        body = graph.descendants(loop_id, body_port)
        for member in sorted(body, key=ids.__getitem__):
            at = f"nodes[{ids[member]}]"
            for edge in graph.incoming[member]:
                if edge.source == loop_id and edge.port == body_port:
                    continue
                if edge.source == loop_id:
                    errors.append({"path": at, "message": (
                        f"node {member!r} is in the body of loop {loop_id!r} (reachable from "
                        f"its {body_port!r} output) and also connected to its {edge.port!r} "
                        f"output; body nodes run once per item, nodes after {edge.port!r} "
                        f"once")})
                elif edge.source not in body:
                    errors.append({"path": at, "message": (
                        f"node {member!r} is in the body of loop {loop_id!r} but takes an "
                        f"input from {edge.source!r}, which is outside the body; connect "
                        f"outside nodes before the loop, or read them with nodes.<id>")})
            member_type = types.get(member)
            if member_type and registry.get(member_type).suspends:
                errors.append({"path": f"{at}.type", "message": (
                    f"node {member!r} ({member_type}) cannot be inside the body of loop "
                    f"{loop_id!r}: a run can only wait at the top level")})
    return errors
