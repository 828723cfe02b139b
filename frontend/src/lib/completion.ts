// Completion of expression paths: `input`, `trigger` and `nodes.<id>` at the top, then the
// keys of whatever the path before the cursor leads to. Two sources, merged: the last run's
// data (`input.customer.` offers the customer's keys as they were in that run), and the shapes
// the graph declares before any run (graphShapes): every node id, the trigger's `input_schema`
// and the output schemas node types declare (/api/node-types `output_schema`).

export interface Scope { input?: unknown; trigger?: unknown; nodes?: Record<string, unknown> }
export interface Option { label: string; type: string; detail?: string }
/** A declared shape: what a value is (detail), its keys, its array items. */
export interface Shape { detail: string; keys?: Record<string, Shape>; items?: Shape }
export type Shapes = Partial<Record<keyof Scope, Shape>>

const ROOTS: [keyof Scope, string][] = [['input', 'this node\'s input'], ['nodes', 'outputs by node id'], ['trigger', 'the run\'s payload']]
const IDENT = /^[A-Za-z_]\w*$/

function describe(v: unknown): string {
  if (Array.isArray(v)) return `array[${v.length}]`
  if (v === null) return 'null'
  if (typeof v === 'object') return 'object'
  const s = JSON.stringify(v)
  return s.length > 24 ? `${s.slice(0, 23)}…` : s
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

/** The shape a JSON Schema declares (properties and items, a few levels deep). */
export function shapeOf(schema: unknown, detail?: string, depth = 0): Shape {
  const s = isObject(schema) ? schema : {}
  const type = typeof s.type === 'string' ? s.type : (Array.isArray(s.type) ? s.type.join(' | ') : (isObject(s.properties) ? 'object' : 'any'))
  const shape: Shape = { detail: detail || type }
  if (depth >= 8) return shape
  if (isObject(s.properties)) shape.keys = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, shapeOf(v, undefined, depth + 1)]))
  if (isObject(s.items)) shape.items = shapeOf(s.items, undefined, depth + 1)
  return shape
}

export interface GraphInfo {
  nodes: { id: string; type: string; config?: Record<string, unknown> }[]
  edges: { source: string; target: string }[]
  types: Record<string, { label?: string; is_trigger?: boolean; output_schema?: unknown } | undefined>
}

/** What the graph declares for the expressions of node `nodeId`, before any run. */
export function graphShapes(nodeId: string, g: GraphInfo): Shapes {
  const byId = Object.fromEntries(g.nodes.map((n) => [n.id, n]))
  const shapeOfNode = (id: string): Shape => {
    const n = byId[id]
    const t = g.types[n.type]
    const label = t?.label || n.type
    if (t?.is_trigger) return shapeOf(n.config?.input_schema, `${label} payload`)
    return shapeOf(t?.output_schema, `${label} output`)
  }
  const shapes: Shapes = {}
  if (g.nodes.length) shapes.nodes = { detail: 'outputs by node id', keys: Object.fromEntries(g.nodes.map((n) => [n.id, shapeOfNode(n.id)])) }
  const trigger = g.nodes.find((n) => g.types[n.type]?.is_trigger)
  if (trigger) shapes.trigger = shapeOfNode(trigger.id)
  const upstream = [...new Set(g.edges.filter((e) => e.target === nodeId).map((e) => e.source))].filter((id) => byId[id])
  if (upstream.length === 1) shapes.input = shapeOfNode(upstream[0])
  return shapes
}

type Seg = { key: string; indexes: number[] }

function walkData(segs: Seg[], scope: Scope): unknown {
  let value: unknown = scope
  for (const { key, indexes } of segs) {
    if (!isObject(value)) return undefined
    value = value[key]
    for (const i of indexes) value = Array.isArray(value) ? value[i] : undefined
  }
  return value
}

function walkShape(segs: Seg[], shapes: Shapes): Shape | undefined {
  let shape: Shape | undefined = { detail: '', keys: shapes as Record<string, Shape> }
  for (const { key, indexes } of segs) {
    shape = shape?.keys?.[key]
    for (let i = 0; i < indexes.length; i++) shape = shape?.items
  }
  return shape
}

/** What to offer for the text before the cursor: the position the completion replaces from,
 * and the options; null when the cursor is not at the end of a path. */
export function completePath(before: string, scope: Scope, shapes: Shapes = {}): { from: number; options: Option[] } | null {
  const m = /([A-Za-z_]\w*(?:\.\w*|\[\d+\])*)$/.exec(before)
  if (!m) return null
  const parts = m[1].split('.')
  const partial = parts.pop() as string
  const from = before.length - partial.length
  if (!parts.length) {
    const options = ROOTS.filter(([name]) => name.startsWith(partial) && (scope[name] !== undefined || shapes[name] !== undefined))
      .map(([name, detail]) => ({ label: name, type: 'variable', detail }))
    return options.length ? { from, options } : null
  }
  const segs: Seg[] = []
  for (const part of parts) {
    const seg = /^(\w+)((?:\[\d+\])*)$/.exec(part)
    if (!seg) return null
    segs.push({ key: seg[1], indexes: (seg[2].match(/\d+/g) || []).map(Number) })
  }
  const options: Option[] = []
  const value = walkData(segs, scope)
  if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) options.push({ label: k, type: 'property', detail: describe(v) })
  }
  const seen = new Set(options.map((o) => o.label))
  for (const [k, s] of Object.entries(walkShape(segs, shapes)?.keys || {})) {
    if (!seen.has(k)) options.push({ label: k, type: 'property', detail: s.detail })
  }
  const shown = options.filter((o) => o.label.startsWith(partial) && IDENT.test(o.label))
  return shown.length ? { from, options: shown } : null
}
