"""A workflow definition as a graph: nodes by id, edges with ports, a topological order.

    graph = Graph.from_definition(definition)
    for node_id in graph.order: ...

Edges are `{from, to}` with an optional `port` (the source's output port, default "main").
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

DEFAULT_PORT = "main"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    port: str = DEFAULT_PORT


@dataclass
class Graph:
    nodes: dict[str, dict[str, Any]]
    edges: list[Edge]
    incoming: dict[str, list[Edge]] = field(default_factory=dict)
    outgoing: dict[str, list[Edge]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    @classmethod
    def from_definition(cls, definition: dict[str, Any]) -> Graph:
        nodes = {n["id"]: n for n in definition.get("nodes", [])}
        edges = [
            Edge(e["from"], e["to"], e.get("port") or DEFAULT_PORT)
            for e in definition.get("edges", [])
        ]
        graph = cls(nodes=nodes, edges=edges)
        incoming: dict[str, list[Edge]] = defaultdict(list)
        outgoing: dict[str, list[Edge]] = defaultdict(list)
        for edge in edges:
            incoming[edge.target].append(edge)
            outgoing[edge.source].append(edge)
        graph.incoming = {n: incoming.get(n, []) for n in nodes}
        graph.outgoing = {n: outgoing.get(n, []) for n in nodes}
        order, cycle = topological_order(list(nodes), edges)
        if cycle:
            raise ValueError(f"the graph has a cycle: {' -> '.join(cycle)}")
        graph.order = order
        return graph

    def descendants(self, node_id: str, port: str | None = None) -> set[str]:
        """Nodes reachable from `node_id` (only through `port` on the first hop, if given)."""
        seen: set[str] = set()
        stack = [e.target for e in self.outgoing[node_id] if port is None or e.port == port]
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(e.target for e in self.outgoing[current])
        return seen

    def loop_owners(self, bodies: dict[str, set[str]]) -> dict[str, str | None]:
        """For each node, the innermost loop whose body holds it (None at the top level).

        `bodies` maps each loop node id to its body (see `descendants(loop, body_port)`).
        Validated bodies nest properly, so the innermost loop is the one with the smallest body.
        """
        owners: dict[str, str | None] = dict.fromkeys(self.nodes)
        for loop_id, body in sorted(bodies.items(), key=lambda kv: -len(kv[1])):
            for node_id in body:
                owners[node_id] = loop_id
        return owners


def topological_order(node_ids: list[str], edges: list[Edge]) -> tuple[list[str], list[str]]:
    """Kahn's algorithm, stable in definition order. Returns (order, cycle); cycle is empty
    when there is none, else the node ids of one cycle, closed (a -> b -> a)."""
    position = {n: i for i, n in enumerate(node_ids)}
    indegree = dict.fromkeys(node_ids, 0)
    children: dict[str, list[str]] = defaultdict(list)
    for e in edges:
        if e.source in indegree and e.target in indegree:
            indegree[e.target] += 1
            children[e.source].append(e.target)
    # A heap keyed by definition position: stable order in O(n log n) (sorting the ready list
    # on every pop made wide fan-outs quadratic).
    ready = [(position[n], n) for n in node_ids if indegree[n] == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, current = heapq.heappop(ready)
        order.append(current)
        for child in children[current]:
            indegree[child] -= 1
            if indegree[child] == 0:
                heapq.heappush(ready, (position[child], child))
    if len(order) == len(node_ids):
        return order, []
    return order, _find_cycle([n for n in node_ids if indegree[n] > 0], children)


def _find_cycle(candidates: list[str], children: dict[str, list[str]]) -> list[str]:
    remaining = set(candidates)
    for start in candidates:
        path: list[str] = []
        on_path: dict[str, int] = {}
        node = start
        # Every remaining node has a remaining predecessor, so walking forward inside the
        # remaining set must revisit a node.
        while node not in on_path:
            on_path[node] = len(path)
            path.append(node)
            nxt = [c for c in children[node] if c in remaining]
            if not nxt:
                break
            node = nxt[0]
        else:
            cycle = path[on_path[node]:]
            return [*cycle, cycle[0]]
    return sorted(remaining)
