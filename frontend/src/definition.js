// Converts between a WFAIB workflow definition ({name, nodes, edges}) and React Flow's
// nodes/edges, and maps the server's validation error paths onto nodes and fields.

export const DEFAULT_PORT = 'main'

export function edgeId(source, port, target) {
  return `${source}:${port || DEFAULT_PORT}->${target}`
}

export function makeEdge(source, port, target) {
  const p = port || DEFAULT_PORT
  return {
    id: edgeId(source, p, target),
    source,
    target,
    sourceHandle: p,
    targetHandle: DEFAULT_PORT,
    label: p === DEFAULT_PORT ? undefined : p,
  }
}

export function fromDefinition(definition) {
  const def = definition || {}
  const { nodes = [], edges = [], ...extra } = def
  const rfNodes = nodes.map((n, i) => {
    const { id, type, config, position, ...rest } = n
    return {
      id,
      type: 'wfaib',
      position: position && typeof position.x === 'number'
        ? { x: position.x, y: position.y }
        : { x: 80 + i * 260, y: 120 },
      data: { nodeType: type, config: config || {}, extra: rest },
    }
  })
  const rfEdges = edges.map((e) => makeEdge(e.from, e.port, e.to))
  const missingPositions = nodes.some((n) => !n.position)
  return { nodes: rfNodes, edges: rfEdges, extra, missingPositions }
}

export function toDefinition(name, nodes, edges, extra = {}) {
  return {
    ...extra,
    name,
    nodes: nodes.map((n) => ({
      ...(n.data.extra || {}),
      id: n.id,
      type: n.data.nodeType,
      config: n.data.config || {},
      position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
    })),
    edges: edges.map((e) => {
      const edge = { from: e.source, to: e.target }
      if (e.sourceHandle && e.sourceHandle !== DEFAULT_PORT) edge.port = e.sourceHandle
      return edge
    }),
  }
}

// [{path: "nodes[2].config.url", message}] -> {nodes: {nodeId: {fields: {url: [...]}, other: [...]}}, general: [...]}
export function mapErrors(errors, sentDefinition) {
  const result = { nodes: {}, general: [] }
  for (const error of errors || []) {
    const path = error.path || ''
    const m = /^nodes\[(\d+)\](?:\.(.*))?$/.exec(path)
    const node = m && sentDefinition.nodes[Number(m[1])]
    if (!node) {
      result.general.push(error)
      continue
    }
    const entry = (result.nodes[node.id] ||= { fields: {}, settings: {}, other: [] })
    const rest = m[2] || ''
    const cm = /^(config|settings)(?:[.[]([^.[\]]+)\]?)?/.exec(rest)
    if (cm && cm[2]) {
      const bucket = cm[1] === 'config' ? entry.fields : entry.settings
      ;(bucket[cm[2]] ||= []).push(error.message)
    } else {
      entry.other.push(rest ? `${rest}: ${error.message}` : error.message)
    }
  }
  return result
}

export function uniqueId(base, taken) {
  const clean = (base || 'node').replace(/[^A-Za-z0-9_-]/g, '_')
  if (!taken.has(clean)) return clean
  for (let i = 2; ; i++) {
    if (!taken.has(`${clean}_${i}`)) return `${clean}_${i}`
  }
}
