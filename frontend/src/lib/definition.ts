// Converts between a WFAIB workflow definition ({name, nodes, edges}) and React Flow's
// nodes/edges, and maps the server's validation error paths onto nodes and fields.
import type { DefNode, Definition, ErrorMap, WfEdge, WfNode } from '../types'

export const DEFAULT_PORT = 'main'

export function edgeId(source: string, port: string | null | undefined, target: string): string {
  return `${source}:${port || DEFAULT_PORT}->${target}`
}

export function makeEdge(source: string, port: string | null | undefined, target: string): WfEdge {
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

export function nodeFromDef(n: DefNode, fallbackIndex = 0): WfNode {
  const { id, type, config, position, ...rest } = n
  return {
    id,
    type: 'wfaib',
    position: position && typeof position.x === 'number'
      ? { x: position.x, y: position.y }
      : { x: 80 + fallbackIndex * 260, y: 120 },
    data: { nodeType: type, config: config || {}, extra: rest },
  }
}

export function fromDefinition(definition: Partial<Definition> | null | undefined) {
  const { nodes = [], edges = [], ...extra } = definition || {}
  const rfNodes = nodes.map((n, i) => nodeFromDef(n, i))
  const rfEdges = edges.map((e) => makeEdge(e.from, e.port, e.to))
  const missingPositions = nodes.some((n) => !n.position)
  delete extra.name
  return { nodes: rfNodes, edges: rfEdges, extra, missingPositions }
}

export function toDefinition(name: string, nodes: WfNode[], edges: WfEdge[], extra: Record<string, unknown> = {}): Definition {
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
      const edge: { from: string; to: string; port?: string } = { from: e.source, to: e.target }
      if (e.sourceHandle && e.sourceHandle !== DEFAULT_PORT) edge.port = e.sourceHandle
      return edge
    }),
  }
}

// [{path: "nodes[2].config.url", message}] -> {nodes: {nodeId: {fields: {url: [...]}, other: [...]}}, general: [...]}
export function mapErrors(errors: { path?: string; message: string }[], sent: Definition): ErrorMap {
  const result: ErrorMap = { nodes: {}, general: [] }
  for (const error of errors || []) {
    const path = error.path || ''
    const m = /^nodes\[(\d+)\](?:\.(.*))?$/.exec(path)
    const node = m && sent.nodes[Number(m[1])]
    if (!m || !node) {
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

export function uniqueId(base: string, taken: Set<string>): string {
  const clean = (base || 'node').replace(/[^A-Za-z0-9_-]/g, '_')
  if (!taken.has(clean)) return clean
  for (let i = 2; ; i++) {
    if (!taken.has(`${clean}_${i}`)) return `${clean}_${i}`
  }
}

/** The definition inside what a user pastes or imports: an export file
 * ({format, name, definition}), a bare definition ({nodes, edges}) or copied nodes. */
export function definitionIn(data: unknown): { name?: string; definition: Definition } | null {
  if (!data || typeof data !== 'object') return null
  const obj = data as Record<string, unknown>
  const inner = obj.definition && typeof obj.definition === 'object' ? obj.definition as Record<string, unknown> : obj
  if (!Array.isArray(inner.nodes)) return null
  const nodes = (inner.nodes as unknown[]).filter((n): n is DefNode =>
    !!n && typeof n === 'object' && typeof (n as DefNode).type === 'string' && typeof (n as DefNode).id === 'string')
  const edges = Array.isArray(inner.edges)
    ? (inner.edges as unknown[]).filter((e): e is { from: string; to: string; port?: string } =>
      !!e && typeof e === 'object' && typeof (e as { from: unknown }).from === 'string' && typeof (e as { to: unknown }).to === 'string')
    : []
  const name = typeof obj.name === 'string' ? obj.name : typeof inner.name === 'string' ? inner.name as string : undefined
  return { name, definition: { ...inner, nodes, edges } as Definition }
}

export const EXPORT_FORMAT = 'wfaib-workflow/1'
