// The one store of the workflow being edited: its name, nodes and edges, whether it changed
// since the last save, and the undo/redo history. Every edit is an action of this pure
// reducer, so undo and redo act on one state (restores and imports included) and the
// reducer is unit-tested without a browser (reducer.test.ts).
//
// Pinned test data (`pins`) lives here too, so pinning and unpinning are undoable steps of the
// same history: such a step holds only the pins (undoing it leaves the graph as it is, and
// undoing a graph edit leaves the pins). The pins are stored on the server at once
// (hooks/usePins.ts), which also writes back the pins an undo or redo brings back.
import { applyEdgeChanges, applyNodeChanges, type EdgeChange, type NodeChange } from '@xyflow/react'
import { fromDefinition, makeEdge, nodeFromDef, toDefinition, uniqueId } from '../lib/definition'
import { pastePositions, spotRightOf, type Point } from '../lib/placement'
import type { Config, Definition, Pin, WfEdge, WfNode } from '../types'

export const HISTORY_LIMIT = 100

export type Pins = Record<string, Pin>
/** A step of the undo history: the graph before an edit, or the pins before a pin change. */
export type Snapshot = { name: string; nodes: WfNode[]; edges: WfEdge[]; pins?: undefined } | { pins: Pins }

export interface EditorState {
  name: string
  nodes: WfNode[]
  edges: WfEdge[]
  extra: Record<string, unknown>
  /** Pinned test data by node id, as last stored on the server or brought back by undo/redo. */
  pins: Pins
  dirty: boolean
  past: Snapshot[]
  future: Snapshot[]
  coalesce: string | null
  /** The definition last loaded from or saved to the server (what a conflict is diffed against). */
  base: Definition | null
  /** Bumped when the view should be fitted to the nodes (load, layout, restore). */
  fitRequest: number
}

export type Action =
  | { type: 'load'; name: string; definition: Definition; nodes?: WfNode[] }
  | { type: 'replace'; name?: string; definition: Definition; nodes?: WfNode[] }
  | { type: 'checkpoint'; key?: string }
  | { type: 'nodesChange'; changes: NodeChange<WfNode>[] }
  | { type: 'edgesChange'; changes: EdgeChange<WfEdge>[] }
  | { type: 'addNode'; nodeType: string; position: Point; after?: { source: string; port: string } }
  | { type: 'connect'; source: string; port: string | null; target: string }
  | { type: 'setConfig'; nodeId: string; field: string; value: unknown }
  | { type: 'setSetting'; nodeId: string; field: string; value: unknown }
  | { type: 'rename'; from: string; to: string }
  | { type: 'setNodes'; nodes: WfNode[]; fit?: boolean }
  | { type: 'paste'; definition: Definition; cursor: Point | null }
  | { type: 'setName'; name: string }
  | { type: 'select'; id: string | null }
  | { type: 'saved'; definition: Definition }
  | { type: 'rebase'; definition: Definition }
  | { type: 'pinsLoaded'; pins: Pins }
  | { type: 'pin'; nodeId: string; pin: Pin }
  | { type: 'unpin'; nodeId: string }
  | { type: 'undo' }
  | { type: 'redo' }

export const initialState: EditorState = {
  name: '', nodes: [], edges: [], extra: {}, pins: {}, dirty: false,
  past: [], future: [], coalesce: null, base: null, fitRequest: 0,
}

const snap = (s: EditorState): Snapshot => ({ name: s.name, nodes: s.nodes, edges: s.edges })

/** The state with its current graph pushed onto the undo history (once per coalesce key). */
function record(s: EditorState, key: string | null = null): EditorState {
  if (key && s.coalesce === key) return s
  const past = [...s.past, snap(s)].slice(-HISTORY_LIMIT)
  return { ...s, past, future: [], coalesce: key }
}

/** The state with its current pins pushed onto the undo history. */
function recordPins(s: EditorState): EditorState {
  const past = [...s.past, { pins: s.pins }].slice(-HISTORY_LIMIT)
  return { ...s, past, future: [], coalesce: null }
}

const deselect = (nodes: WfNode[]) => nodes.map((n) => (n.selected ? { ...n, selected: false } : n))

function patchNode(nodes: WfNode[], id: string, fn: (n: WfNode) => WfNode): WfNode[] {
  return nodes.map((n) => (n.id === id ? fn(n) : n))
}

function setKey(obj: Config, key: string, value: unknown): Config {
  const next = { ...obj }
  if (value === undefined) delete next[key]
  else next[key] = value
  return next
}

export function reducer(s: EditorState, a: Action): EditorState {
  switch (a.type) {
    case 'load': {
      const loaded = fromDefinition(a.definition)
      return {
        ...s, name: a.name, nodes: a.nodes || loaded.nodes, edges: loaded.edges, extra: loaded.extra,
        dirty: false, past: [], future: [], coalesce: null, base: a.definition, fitRequest: s.fitRequest + 1,
      }
    }
    case 'replace': {
      // A restore, an import, a template or a merge: one undoable step.
      const loaded = fromDefinition(a.definition)
      const r = record(s)
      return {
        ...r, name: a.name ?? s.name, nodes: a.nodes || loaded.nodes, edges: loaded.edges,
        extra: loaded.extra, dirty: true, fitRequest: s.fitRequest + 1,
      }
    }
    case 'checkpoint':
      return record(s, a.key ?? null)
    case 'nodesChange': {
      const dirty = s.dirty || a.changes.some((c) => c.type === 'remove' || c.type === 'add'
        || (c.type === 'position' && c.dragging === false))
      return { ...s, nodes: applyNodeChanges(a.changes, s.nodes), dirty }
    }
    case 'edgesChange': {
      const dirty = s.dirty || a.changes.some((c) => c.type === 'remove')
      return { ...s, edges: applyEdgeChanges(a.changes, s.edges), dirty }
    }
    case 'addNode': {
      const r = record(s)
      const id = uniqueId(a.nodeType, new Set(s.nodes.map((n) => n.id)))
      const node: WfNode = {
        id, type: 'wfaib', position: a.position, selected: true,
        data: { nodeType: a.nodeType, config: {}, extra: {} },
      }
      const edges = a.after ? [...s.edges, makeEdge(a.after.source, a.after.port, id)] : s.edges
      return { ...r, nodes: [...deselect(s.nodes), node], edges, dirty: true }
    }
    case 'connect': {
      const edge = makeEdge(a.source, a.port, a.target)
      if (s.edges.some((e) => e.id === edge.id)) return s
      return { ...record(s), edges: [...s.edges, edge], dirty: true }
    }
    case 'setConfig': {
      const r = record(s, `${a.nodeId}.config.${a.field}`)
      const nodes = patchNode(s.nodes, a.nodeId, (n) => ({ ...n, data: { ...n.data, config: setKey(n.data.config, a.field, a.value) } }))
      return { ...r, nodes, dirty: true }
    }
    case 'setSetting': {
      const r = record(s, `${a.nodeId}.settings.${a.field}`)
      const nodes = patchNode(s.nodes, a.nodeId, (n) => {
        const { settings = {}, ...rest } = n.data.extra || {}
        const next = setKey(settings, a.field, a.value)
        const extra = Object.keys(next).length ? { ...rest, settings: next } : rest
        return { ...n, data: { ...n.data, extra } }
      })
      return { ...r, nodes, dirty: true }
    }
    case 'rename': {
      const to = a.to.trim()
      if (!to || to === a.from || s.nodes.some((n) => n.id === to)) return s
      const r = record(s)
      return {
        ...r,
        nodes: patchNode(s.nodes, a.from, (n) => ({ ...n, id: to })),
        edges: s.edges.map((e) => (e.source !== a.from && e.target !== a.from ? e
          : makeEdge(e.source === a.from ? to : e.source, e.sourceHandle, e.target === a.from ? to : e.target))),
        dirty: true,
      }
    }
    case 'setNodes':
      return { ...record(s), nodes: a.nodes, dirty: true, fitRequest: s.fitRequest + (a.fit ? 1 : 0) }
    case 'paste': {
      const taken = new Set(s.nodes.map((n) => n.id))
      const rename: Record<string, string> = {}
      const positions = pastePositions(a.definition.nodes, s.nodes, a.cursor)
      const pasted = a.definition.nodes.map((n, i) => {
        const id = uniqueId(n.id || n.type, taken)
        taken.add(id)
        rename[n.id] = id
        return { ...nodeFromDef({ ...n, id, position: positions[i] }), selected: true }
      })
      if (!pasted.length) return s
      const edges = a.definition.edges.filter((e) => rename[e.from] && rename[e.to])
        .map((e) => makeEdge(rename[e.from], e.port, rename[e.to]))
      const r = record(s)
      return { ...r, nodes: [...deselect(s.nodes), ...pasted], edges: [...s.edges, ...edges], dirty: true }
    }
    case 'setName':
      return { ...record(s, 'name'), name: a.name, dirty: true }
    case 'select':
      return { ...s, nodes: s.nodes.map((n) => ((n.id === a.id) === !!n.selected ? n : { ...n, selected: n.id === a.id })) }
    case 'saved':
      return { ...s, dirty: false, base: a.definition, coalesce: null }
    case 'rebase':
      return { ...s, base: a.definition }
    case 'pinsLoaded':
      return { ...s, pins: a.pins }
    case 'pin':
      return { ...recordPins(s), pins: { ...s.pins, [a.nodeId]: a.pin } }
    case 'unpin': {
      if (!(a.nodeId in s.pins)) return s
      const pins = { ...s.pins }
      delete pins[a.nodeId]
      return { ...recordPins(s), pins }
    }
    case 'undo':
    case 'redo': {
      const from = a.type === 'undo' ? s.past : s.future
      const entry = from[from.length - 1]
      if (!entry) return s
      const rest = from.slice(0, -1)
      const pinStep = entry.pins !== undefined
      const other = [...(a.type === 'undo' ? s.future : s.past), pinStep ? { pins: s.pins } : snap(s)]
      const moved = {
        ...s, coalesce: null,
        past: a.type === 'undo' ? rest : other,
        future: a.type === 'undo' ? other : rest,
      }
      // A pin step changes no graph: the workflow is no more "unsaved" than it was.
      if (pinStep) return { ...moved, pins: entry.pins }
      return { ...moved, name: entry.name, nodes: entry.nodes, edges: entry.edges, dirty: true }
    }
    default:
      return s
  }
}

// ---- derived values -------------------------------------------------------------------------
export const currentDefinition = (s: EditorState): Definition => toDefinition(s.name, s.nodes, s.edges, s.extra)
export const selectedNode = (s: EditorState): WfNode | undefined => {
  const sel = s.nodes.filter((n) => n.selected)
  return sel.length === 1 ? sel[0] : undefined
}
export { spotRightOf }
