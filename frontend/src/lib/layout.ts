// Auto-layout: a left-to-right layered layout computed with dagre.
import dagre from '@dagrejs/dagre'
import type { WfEdge, WfNode } from '../types'
import { NODE_HEIGHT, NODE_WIDTH } from './placement'

export function autoLayout(nodes: WfNode[], edges: WfEdge[]): WfNode[] {
  const g = new dagre.graphlib.Graph()
  g.setGraph({ rankdir: 'LR', nodesep: 50, ranksep: 90, marginx: 20, marginy: 20 })
  g.setDefaultEdgeLabel(() => ({}))
  for (const n of nodes) g.setNode(n.id, { width: NODE_WIDTH, height: n.measured?.height || NODE_HEIGHT })
  for (const e of edges) g.setEdge(e.source, e.target)
  dagre.layout(g)
  return nodes.map((n) => {
    const p = g.node(n.id)
    const height = n.measured?.height || NODE_HEIGHT
    return { ...n, position: { x: p.x - NODE_WIDTH / 2, y: p.y - height / 2 } }
  })
}
