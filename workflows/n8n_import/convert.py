"""An n8n workflow export (JSON) -> a WFAIB definition and a report.

    result = convert(json.loads(text), workflow_map={"aBc12": 7})
    result.definition    # {"name", "nodes", "edges"}: validated like any save
    result.report        # {"summary", "nodes", "expressions", "credentials", "notes"}

Nodes are converted one by one (`CONVERTERS`); a node without a converter, or one whose
settings have no equivalent, becomes a placeholder that fails when run and is listed with the
reason. Connections become edges on the converted ports; a loop's edge back into itself is
implicit here and dropped. A workflow left without a trigger gets a webhook trigger.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workflows.graph import Edge, Graph
from workflows.validation import validate_config

from . import nodes_core as core
from . import nodes_flow as flow
from .context import Context, N8nImportError, Report

MAX_NODES = 500
NOTE_TYPES = ("n8n-nodes-base.stickyNote",)

CONVERTERS: dict[str, Callable[[Context, dict[str, Any]], core.Out]] = {
    "n8n-nodes-base.webhook": core.webhook,
    "n8n-nodes-base.manualTrigger": core.manual_trigger,
    "n8n-nodes-base.executeWorkflowTrigger": core.execute_workflow_trigger,
    "n8n-nodes-base.httpRequest": core.http_request,
    "n8n-nodes-base.set": core.set_fields,
    "n8n-nodes-base.respondToWebhook": core.respond,
    "n8n-nodes-base.code": core.code,
    "n8n-nodes-base.function": core.code,
    "n8n-nodes-base.noOp": core.noop,
    "n8n-nodes-base.executeWorkflow": core.execute_workflow,
    "n8n-nodes-base.if": flow.if_node,
    "n8n-nodes-base.switch": flow.switch,
    "n8n-nodes-base.merge": flow.merge,
    "n8n-nodes-base.wait": flow.wait,
    "n8n-nodes-base.scheduleTrigger": flow.schedule,
    "n8n-nodes-base.splitInBatches": flow.split_in_batches,
}


SHAPES = {"n8n-nodes-base.webhook": "webhook", "n8n-nodes-base.httpRequest": "http"}


def _sources(data: dict[str, Any]) -> dict[str, set[str]]:
    """Each node's main-input source names, from n8n's connections."""
    sources: dict[str, set[str]] = {}
    for source, kinds in (data.get("connections") or {}).items():
        outputs = kinds.get("main") if isinstance(kinds, dict) else None
        for targets in outputs if isinstance(outputs, list) else []:
            for target in targets if isinstance(targets, list) else []:
                if isinstance(target, dict) and isinstance(target.get("node"), str):
                    sources.setdefault(target["node"], set()).add(source)
    return sources


PASS_THROUGH = {f"n8n-nodes-base.{t}" for t in ("if", "switch", "noOp", "wait", "filter")}


def _input_shapes(data: dict[str, Any], nodes: list[dict[str, Any]]
                  ) -> tuple[dict[str, str], dict[str, str]]:
    """(shape of each node's output, shape of each node's $json) for the nodes whose output
    differs from WFAIB's (webhook, HTTP Request), followed through nodes that pass their
    input on unchanged (If, Switch, NoOp, Wait)."""
    types = {n["name"]: n["type"] for n in nodes}
    sources = _sources(data)
    out = {name: SHAPES[t] for name, t in types.items() if t in SHAPES}
    for n in nodes:  # a wait resumed by a call outputs that call, as a webhook does
        if n["type"] == "n8n-nodes-base.wait" and (n.get("parameters") or {}).get(
                "resume") == "webhook":
            out[n["name"]] = "webhook"
    inputs: dict[str, str] = {}
    for _ in range(len(types)):  # a fixed point: shapes flow one node further per round
        changed = False
        for node, names in sources.items():
            kinds = {out.get(n) for n in names}
            shape = kinds.pop() if len(kinds) == 1 else None
            if shape and inputs.get(node) != shape:
                inputs[node], changed = shape, True
                if types.get(node) in PASS_THROUGH and node not in out:
                    out[node] = shape
        if not changed:
            break
    return out, inputs


@dataclass
class Conversion:
    definition: dict[str, Any]
    report: dict[str, Any]


def _node_id(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")[:60] or "node"
    if base[0].isdigit() or keyword.iskeyword(base):
        base = f"n_{base}"
    found, i = base, 2
    while found in taken:
        found, i = f"{base}_{i}", i + 1
    taken.add(found)
    return found


def unwrap_export(data: Any) -> Any:
    """`n8n export:workflow` writes a list of workflows: one of them is imported."""
    if isinstance(data, list) and len(data) == 1:
        return data[0]
    if isinstance(data, list) and data:
        raise N8nImportError("", f"the file holds {len(data)} workflows; import one at a time")
    return data


def _check_shape(data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, dict):
        raise N8nImportError("", "an n8n workflow export is a JSON object with nodes and "
                                 "connections")
    nodes = data.get("nodes")
    if not isinstance(nodes, list) or not nodes:
        raise N8nImportError("nodes", "must be a non-empty list of nodes")
    if len(nodes) > MAX_NODES:
        raise N8nImportError("nodes", f"at most {MAX_NODES} nodes")
    if not isinstance(data.get("connections", {}), dict):
        raise N8nImportError("connections", "must be an object")
    names: set[str] = set()
    for i, node in enumerate(nodes):
        if not isinstance(node, dict):
            raise N8nImportError(f"nodes[{i}]", "must be an object")
        for key in ("name", "type"):
            if not isinstance(node.get(key), str) or not node[key].strip():
                raise N8nImportError(f"nodes[{i}].{key}", "must be a non-empty string")
        if len(node["name"]) > 200:
            raise N8nImportError(f"nodes[{i}].name", "at most 200 characters")
        if node["name"] in names:
            raise N8nImportError(f"nodes[{i}].name", f"duplicate node name {node['name']!r}")
        names.add(node["name"])
        if not isinstance(node.get("parameters", {}), dict):
            raise N8nImportError(f"nodes[{i}].parameters", "must be an object")
    return nodes


def _position(node: dict[str, Any]) -> dict[str, float] | None:
    pos = node.get("position")
    if isinstance(pos, list) and len(pos) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in pos):
        return {"x": float(pos[0]), "y": float(pos[1])}
    return None


def _convert_node(ctx: Context, node: dict[str, Any], node_id: str) -> tuple[core.Out, str]:
    ctx.node, ctx.notes = node["name"], []
    converter = CONVERTERS.get(node["type"])
    status = "converted"
    try:
        if converter is None:
            raise core.NotConverted(f"no WFAIB node for {node['type']!r}")
        if node.get("disabled"):
            ctx.notes.append("disabled in n8n: passes its input on")
            out = core.noop(ctx, node)
        else:
            out = converter(ctx, node)
        problems = validate_config(out.type, out.config)
        if problems:
            raise core.NotConverted("its converted config is invalid: " + "; ".join(
                f"{p['path']}: {p['message']}" for p in problems))
    except core.NotConverted as exc:
        out, status = core.placeholder(str(exc), node["name"]), "not_converted"
        ctx.notes.insert(0, str(exc))
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        reason = f"its parameters could not be read ({type(exc).__name__})"
        out, status = core.placeholder(reason, node["name"]), "not_converted"
        ctx.notes.insert(0, reason)
    ctx.report.node(node["name"], node["type"], node_id, status, list(ctx.notes))
    return out, status


def _edges(data: dict[str, Any], ctx: Context, outs: dict[str, core.Out],
           placeholders: set[str]) -> list[dict[str, str]]:
    edges: list[dict[str, str]] = []
    for source, kinds in (data.get("connections") or {}).items():
        if source not in outs or not isinstance(kinds, dict):
            continue
        for kind, outputs in kinds.items():
            if kind != "main":
                ctx.report.notes.append(f"{source}: {kind} connections (AI sub-nodes) are "
                                        "not converted")
                continue
            for index, targets in enumerate(outputs if isinstance(outputs, list) else []):
                port = "main" if source in placeholders else outs[source].ports.get(index)
                for target in targets if isinstance(targets, list) else []:
                    name = target.get("node") if isinstance(target, dict) else None
                    if name not in outs:
                        continue
                    if port is None:
                        ctx.report.notes.append(f"{source}: output {index} has no WFAIB "
                                                f"port; its edge to {name} is dropped")
                        continue
                    edge = {"from": ctx.ids[source], "to": ctx.ids[name]}
                    if port != "main":
                        edge["port"] = port
                    if edge not in edges:
                        edges.append(edge)
    return edges


def _drop_loop_back_edges(nodes: list[dict[str, Any]], edges: list[dict[str, str]],
                          ctx: Context) -> list[dict[str, str]]:
    loops = {n["id"] for n in nodes if n["type"] == "loop"}
    if not loops:
        return edges
    graph = Graph.from_edges([n["id"] for n in nodes],
                             [Edge(e["from"], e["to"], e.get("port", "main")) for e in edges])
    drop = []
    for loop in loops:
        body = graph.descendants(loop, "each")
        drop += [e for e in edges if e["to"] == loop and e["from"] in body | {loop}]
    if drop:
        ctx.report.notes.append(f"{len(drop)} edge(s) back into a loop dropped (implicit here)")
    return [e for e in edges if e not in drop]


def _ensure_trigger(nodes: list[dict[str, Any]], edges: list[dict[str, str]],
                    ctx: Context) -> None:
    if any(n["type"] in ("webhook", "schedule") for n in nodes):
        return
    targets = {e["to"] for e in edges}
    roots = [n["id"] for n in nodes if n["id"] not in targets]
    start = _node_id("start", set(ctx.ids.values()))
    nodes.insert(0, {"id": start, "type": "webhook", "config": {"description": "Added on "
                     "import: the n8n workflow had no trigger WFAIB knows"}})
    edges[:0] = [{"from": start, "to": r} for r in roots]
    ctx.report.notes.append(f"no trigger: a webhook trigger {start!r} was added")


def convert(data: Any, *, workflow_map: dict[str, int] | None = None) -> Conversion:
    """Raises N8nImportError when `data` is not an n8n workflow export."""
    data = unwrap_export(data)
    n8n_nodes = _check_shape(data)
    taken: set[str] = set()
    report = Report(notes=[
        "n8n passes lists of items from node to node; WFAIB passes one value (a node's "
        "output, which may be a list)",
        "expressions are Python here: reading a missing field fails instead of giving "
        "undefined (use input.get('x')), and + does not join text and numbers (String(x) "
        "is translated to str(x))"])
    settings = data.get("settings") if isinstance(data.get("settings"), dict) else {}
    ctx = Context(ids={}, report=report, workflow_map=dict(workflow_map or {}),
                  timezone=str(settings.get("timezone") or "UTC"))
    kept = [n for n in n8n_nodes if n["type"] not in NOTE_TYPES]
    for node in n8n_nodes:
        if node["type"] in NOTE_TYPES:
            report.node(node["name"], node["type"], None, "dropped", ["a sticky note"])
    ctx.ids = {n["name"]: _node_id(n["name"], taken) for n in kept}
    ctx.shapes, ctx.input_shapes = _input_shapes(data, kept)
    outs: dict[str, core.Out] = {}
    placeholders: set[str] = set()
    nodes = []
    for node in kept:
        out, status = _convert_node(ctx, node, ctx.ids[node["name"]])
        outs[node["name"]] = out
        if status == "not_converted":
            placeholders.add(node["name"])
        ours: dict[str, Any] = {"id": ctx.ids[node["name"]], "type": out.type,
                                "config": out.config}
        if _position(node):
            ours["position"] = _position(node)
        if out.settings:
            ours["settings"] = out.settings
        nodes.append(ours)
    edges = _drop_loop_back_edges(nodes, _edges(data, ctx, outs, placeholders), ctx)
    _ensure_trigger(nodes, edges, ctx)
    name = data.get("name") if isinstance(data.get("name"), str) else "Imported from n8n"
    definition = {"name": name[:200] or "Imported from n8n", "nodes": nodes, "edges": edges}
    return Conversion(definition=definition, report=report.to_json())
