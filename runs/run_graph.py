"""The run viewer's graph: the pinned version's nodes where the editor placed them, each
coloured by the status of its last log in the run, and the edges between them, as geometry
for a server-rendered SVG (templates/admin/runs/run/viewer.html).

    graph = run_graph(definition, logs)   # {"width", "height", "nodes": [...], "edges": [...]}

Nodes without a saved position are laid out in layers (longest path from a root), the way
the editor's auto-layout places them left to right. Sizes are the editor's (NODE_WIDTH x
NODE_HEIGHT in frontend/src/lib/placement.ts).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

NODE_WIDTH = 200
NODE_HEIGHT = 64
LAYER_GAP = 90
ROW_GAP = 50
MARGIN = 20
MIN_SCALE = 0.7  # below this the labels are too small to read: the graph pane scrolls


def _layers(ids: list[str], edges: list[tuple[str, str, str]]) -> dict[str, int]:
    """Layer of each node: the longest path from a root (cycles cut by a visit bound)."""
    depth = dict.fromkeys(ids, 0)
    for _ in range(len(ids)):
        changed = False
        for source, target, _port in edges:
            if source in depth and target in depth and depth[target] < depth[source] + 1:
                depth[target] = depth[source] + 1
                changed = True
        if not changed:
            break
    return depth


def _positions(nodes: list[dict[str, Any]],
               edges: list[tuple[str, str, str]]) -> dict[str, tuple[float, float]]:
    placed = {}
    for node in nodes:
        pos = node.get("position")
        if isinstance(pos, dict) and isinstance(pos.get("x"), int | float) \
                and isinstance(pos.get("y"), int | float):
            placed[node["id"]] = (float(pos["x"]), float(pos["y"]))
    if len(placed) == len(nodes):
        return placed
    layers = _layers([n["id"] for n in nodes], edges)
    rows: dict[int, int] = {}
    auto = {}
    for node in nodes:
        layer = layers[node["id"]]
        row = rows.get(layer, 0)
        rows[layer] = row + 1
        auto[node["id"]] = (layer * (NODE_WIDTH + LAYER_GAP), row * (NODE_HEIGHT + ROW_GAP))
    return auto


def run_graph(definition: dict[str, Any], logs: Iterable[Any]) -> dict[str, Any]:
    """Geometry of `definition` with each node's run status (`not-run` when it has no log)."""
    nodes = [n for n in (definition or {}).get("nodes", []) if isinstance(n, dict) and n.get("id")]
    edges = [(str(e.get("from")), str(e.get("to")), str(e.get("port") or "main"))
             for e in (definition or {}).get("edges", []) if isinstance(e, dict)]
    if not nodes:
        return {"width": 0, "height": 0, "nodes": [], "edges": []}
    status: dict[str, str] = {}
    for log in logs:  # in id order: the last attempt (or loop iteration) wins
        status[log.node_id] = log.status
    pos = _positions(nodes, edges)
    min_x = min(x for x, _ in pos.values())
    min_y = min(y for _, y in pos.values())
    boxes = {}
    out_nodes = []
    for node in nodes:
        x, y = pos[node["id"]]
        x, y = x - min_x + MARGIN, y - min_y + MARGIN
        boxes[node["id"]] = (x, y)
        out_nodes.append({"id": node["id"], "type": node.get("type", ""),
                          "status": status.get(node["id"], "not-run"),
                          "x": round(x, 1), "y": round(y, 1),
                          "label_x": round(x + 12, 1), "label_y": round(y + 26, 1),
                          "type_y": round(y + 46, 1)})
    out_edges = []
    for source, target, port in edges:
        if source not in boxes or target not in boxes:
            continue
        sx, sy = boxes[source][0] + NODE_WIDTH, boxes[source][1] + NODE_HEIGHT / 2
        tx, ty = boxes[target][0], boxes[target][1] + NODE_HEIGHT / 2
        bend = max(abs(tx - sx) / 2, 30)
        out_edges.append({
            "source": source, "target": target, "port": port,
            "taken": status.get(target) not in (None, "skipped", "not-run"),
            "path": f"M{sx:.1f},{sy:.1f} C{sx + bend:.1f},{sy:.1f} {tx - bend:.1f},{ty:.1f} "
                    f"{tx:.1f},{ty:.1f}",
        })
    width = max(x for x, _ in boxes.values()) + NODE_WIDTH + MARGIN
    height = max(y for _, y in boxes.values()) + NODE_HEIGHT + MARGIN
    return {"width": round(width), "height": round(height), "nodes": out_nodes,
            "min_width": round(width * MIN_SCALE),
            "edges": out_edges, "node_width": NODE_WIDTH, "node_height": NODE_HEIGHT}
