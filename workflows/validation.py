"""Definition validation: the one check every entry point uses (API, admin, CLI, import).

    errors = validate_definition(definition)   # [] when valid
    # [{"path": "nodes[2].config.url", "message": "not a valid URL ..."}]

Checks the JSON shape, unique node ids, known node types, edges naming existing nodes and ports,
no cycles (naming the nodes in the cycle), a trigger node to start from, each node's config
against its type's schema, the syntax of every expression and `{{ }}` template in it
(nodes.config_fields), each node's `settings` (retries, timeout, on_error; an `error` port
exists only with on_error "route"), and loop bodies: the nodes reachable from a loop's body port
may take inputs only from the loop's body port or from other nodes of the same body, and may not
wait (delay, wait for webhook), since a run waits only at the top level.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict

from pydantic import ValidationError as PydanticValidationError

from nodes.base import ERROR_PORT, NodeSettings
from nodes.config_fields import WHOLE_TEMPLATE, expression_problems
from nodes.registry import registry
from nodes.versions import node_config, version_problem
from wfaib.errors import DomainError

from .graph import DEFAULT_PORT, Edge, Graph, topological_order


class DefinitionError(TypedDict):
    path: str
    message: str


def error_text(error: DefinitionError) -> str:
    """`path: message`, or the message alone for the definition as a whole (path "")."""
    return f"{error['path']}: {error['message']}" if error["path"] else error["message"]


class InvalidDefinition(DomainError):
    code = "invalid_definition"

    def __init__(self, errors: list[DefinitionError]):
        super().__init__("; ".join(error_text(e) for e in errors))
        self.errors = errors

    @property
    def message(self) -> str:
        return "the workflow definition is invalid: " + str(self)

    def extra(self) -> dict[str, Any]:
        return {"errors": self.errors}


def _loc_to_path(prefix: str, loc: tuple[Any, ...]) -> str:
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _is_whole_template(value: Any) -> bool:
    whole = WHOLE_TEMPLATE.match(value) if isinstance(value, str) else None
    return whole is not None and "{{" not in whole.group(1)


def _holds_whole_template(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_holds_whole_template(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_whole_template(v) for v in value)
    return _is_whole_template(value)


def _decided_at_run_time(config: Any, loc: tuple[Any, ...]) -> bool:
    """True when a schema error is about a value one whole `{{ }}` template gives at run time
    (`"attachments": "{{ nodes.report.file }}"` in a list field): the engine renders it to
    the raw value and validates the rendered config then. Walks the error's location into
    the config; a union member's tag (`list[...]`) is no key and is stepped over, and an
    error on that member counts as decided when the value holds such a template."""
    value, skipped = config, False
    for part in loc:
        if _is_whole_template(value):
            return True
        if isinstance(value, dict) and part in value:
            value, skipped = value[part], False
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value, skipped = value[part], False
        else:
            skipped = True
    return _is_whole_template(value) or (skipped and _holds_whole_template(value))


def validate_config(node_type: str, config: Any, prefix: str = "config") -> list[DefinitionError]:
    cls = registry.get(node_type)
    try:
        cls.Config.model_validate(config)
    except PydanticValidationError as exc:
        errors: list[DefinitionError] = []
        for item in exc.errors(include_url=False):
            if item["type"] not in ("missing", "extra_forbidden") and _decided_at_run_time(
                    config, tuple(item["loc"])):
                continue
            msg = item["msg"].removeprefix("Value error, ")
            errors.append({"path": _loc_to_path(prefix, item["loc"]), "message": msg})
        return errors
    return []


@dataclass
class _Pass:
    """What the node pass learns and the edge and graph passes read: node ids by position,
    their types, which nodes have an `error` port, and the edges that name real nodes."""

    nodes: list[Any]
    errors: list[DefinitionError] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    routed: set[str] = field(default_factory=set)  # on_error "route": they have an error port
    edges: list[Edge] = field(default_factory=list)

    def err(self, path: str, message: str) -> None:
        self.errors.append({"path": path, "message": message})


def _validate_node_config(node: dict[str, Any], node_type: Any,
                          at: str) -> list[DefinitionError]:
    """The node's config against its type's schema, after upgrading it from the version it
    was saved with (nodes.versions)."""
    if not isinstance(node.get("config", {}), dict):
        return [{"path": f"{at}.config", "message": "must be an object"}]
    if not isinstance(node_type, str) or node_type not in registry:
        return []
    cls = registry.get(node_type)
    problem = version_problem(cls, node)
    if problem:
        return [{"path": f"{at}.version", "message": problem}]
    config = node_config(cls, node)
    errors = validate_config(node_type, config, f"{at}.config")
    settings = node.get("settings")
    errors.extend({"path": path, "message": message} for path, message in expression_problems(
        cls, config, settings if isinstance(settings, dict) else None, f"{at}.config"))
    return errors


def validate_definition(definition: Any) -> list[DefinitionError]:
    if not isinstance(definition, dict):
        return [{"path": "",
                 "message": "the definition must be a JSON object with nodes and edges"}]
    nodes, edges = definition.get("nodes"), definition.get("edges", [])
    state = _Pass(nodes=nodes if isinstance(nodes, list) else [])
    if "name" in definition and not isinstance(definition["name"], str):
        state.err("name", "must be a string")
    if not isinstance(nodes, list):
        state.err("nodes", "must be a list of nodes")
        return state.errors
    if not isinstance(edges, list):
        state.err("edges", "must be a list of edges")
        edges = []
    for i, node in enumerate(nodes):
        _check_node(state, i, node)
    for i, edge in enumerate(edges):
        _check_edge(state, i, edge)
    _check_graph(state)
    return state.errors


def _check_node(state: _Pass, i: int, node: Any) -> None:
    at = f"nodes[{i}]"
    if not isinstance(node, dict):
        state.err(at, "must be an object with id, type and config")
        return
    node_id, node_type = node.get("id"), node.get("type")
    if not isinstance(node_id, str) or not node_id.strip():
        state.err(f"{at}.id", "must be a non-empty string")
    elif len(node_id) > 100:
        state.err(f"{at}.id", "must be at most 100 characters")
    elif node_id in state.ids:
        state.err(f"{at}.id", f"duplicate node id {node_id!r} (also nodes[{state.ids[node_id]}])")
    else:
        state.ids[node_id] = i
    known = isinstance(node_type, str) and node_type in registry
    if not known:
        state.err(f"{at}.type",
                  f"unknown node type {node_type!r}; known: {', '.join(registry.names())}")
    elif isinstance(node_id, str):
        state.types[node_id] = node_type
    state.errors.extend(_validate_node_config(node, node_type, at))
    position = node.get("position")
    if position is not None and not (
        isinstance(position, dict)
        and all(isinstance(position.get(k), (int, float)) for k in ("x", "y"))
    ):
        state.err(f"{at}.position", "must be an object with numeric x and y")
    _check_settings(state, at, node_id, node.get("settings"))


def _check_settings(state: _Pass, at: str, node_id: Any, settings: Any) -> None:
    if settings is not None and not isinstance(settings, dict):
        state.err(f"{at}.settings", "must be an object")
        return
    if not settings:
        return
    try:
        parsed = NodeSettings.model_validate(settings)
    except PydanticValidationError as exc:
        for item in exc.errors(include_url=False):
            state.err(_loc_to_path(f"{at}.settings", item["loc"]),
                      item["msg"].removeprefix("Value error, "))
        return
    if parsed.on_error == "route" and isinstance(node_id, str):
        state.routed.add(node_id)


def _check_edge(state: _Pass, i: int, edge: Any) -> None:
    at = f"edges[{i}]"
    if not isinstance(edge, dict):
        state.err(at, "must be an object with from and to")
        return
    src, dst, port = edge.get("from"), edge.get("to"), edge.get("port") or DEFAULT_PORT
    missing = [(key, value) for key, value in (("from", src), ("to", dst))
               if not isinstance(value, str) or value not in state.ids]
    for key, value in missing:
        state.err(f"{at}.{key}", f"no node with id {value!r}")
    if missing:
        return
    if src == dst:
        state.err(at, f"a node cannot connect to itself (cycle: {src} -> {src})")
        return
    if src in state.types:
        _check_port(state, at, src, port)
    if dst in state.types and registry.get(state.types[dst]).is_trigger:
        state.err(f"{at}.to", f"{dst!r} is a trigger node and takes no inputs")
    state.edges.append(Edge(src, dst, port))


def _check_port(state: _Pass, at: str, src: str, port: str) -> None:
    src_config = state.nodes[state.ids[src]].get("config")
    outputs = registry.get(state.types[src]).output_ports(
        src_config if isinstance(src_config, dict) else {})
    if src in state.routed:
        outputs = [*outputs, ERROR_PORT]
    if port not in outputs:
        hint = (" (an `error` output needs settings.on_error \"route\")"
                if port == ERROR_PORT else "")
        state.err(f"{at}.port", f"node {src!r} ({state.types[src]}) has no output {port!r}; "
                  f"outputs: {', '.join(outputs)}{hint}")


def _check_graph(state: _Pass) -> None:
    """The whole graph: no cycle, closed loop bodies, a trigger to start from."""
    _, cycle = topological_order(list(state.ids), state.edges)
    if cycle:
        state.err("edges", f"the graph has a cycle: {' -> '.join(cycle)}")
    else:
        state.errors.extend(_check_loop_bodies(state.ids, state.types, state.edges))
    if state.ids and not any(registry.get(t).is_trigger for t in state.types.values()):
        trigger_types = [c.type for c in registry if c.is_trigger]
        state.err("nodes", f"needs a trigger node to start from ({', '.join(trigger_types)})")
    if not state.nodes:
        state.err("nodes", "needs at least one node")


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
    graph = Graph.from_edges(list(ids), edges)
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
