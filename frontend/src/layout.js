// Auto-layout: a left-to-right layered layout computed with dagre.
import dagre from '@dagrejs/dagre'

export function autoLayout(nodes, edges) {
  const g = new dagre.graphlib.Graph()
  g.setGraph({ rankdir: 'LR', nodesep: 50, ranksep: 90, marginx: 20, marginy: 20 })
  g.setDefaultEdgeLabel(() => ({}))
  for (const n of nodes) {
    const width = n.measured?.width || 200
    const height = n.measured?.height || 80
    g.setNode(n.id, { width, height })
  }
  for (const e of edges) g.setEdge(e.source, e.target)
  dagre.layout(g)
  return nodes.map((n) => {
    const p = g.node(n.id)
    const width = n.measured?.width || 200
    const height = n.measured?.height || 80
    return { ...n, position: { x: p.x - width / 2, y: p.y - height / 2 } }
  })
}
