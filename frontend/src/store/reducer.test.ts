import { describe, expect, it } from 'vitest'
import { currentDefinition, initialState, reducer, type Action, type EditorState } from './reducer'
import { NODE_HEIGHT, NODE_WIDTH, overlaps } from '../lib/placement'
import type { Definition } from '../types'

const def: Definition = {
  name: 'wf',
  nodes: [
    { id: 'hook', type: 'webhook', config: {}, position: { x: 0, y: 0 } },
    { id: 'http', type: 'http', config: { url: 'https://a.example' }, position: { x: 300, y: 0 } },
  ],
  edges: [{ from: 'hook', to: 'http' }],
}
const run = (s: EditorState, ...actions: Action[]) => actions.reduce(reducer, s)
const loaded = () => reducer(initialState, { type: 'load', name: 'wf', definition: def })

describe('undo and redo', () => {
  it('undoes and redoes a config change, coalescing typing into one step', () => {
    let s = run(loaded(),
      { type: 'setConfig', nodeId: 'http', field: 'url', value: 'https://b' },
      { type: 'setConfig', nodeId: 'http', field: 'url', value: 'https://b.example' })
    expect(s.past).toHaveLength(1)
    expect(s.dirty).toBe(true)
    s = reducer(s, { type: 'undo' })
    expect(s.nodes[1].data.config.url).toBe('https://a.example')
    expect(s.future).toHaveLength(1)
    s = reducer(s, { type: 'redo' })
    expect(s.nodes[1].data.config.url).toBe('https://b.example')
  })

  it('a new edit after an undo drops the redo history', () => {
    let s = run(loaded(), { type: 'rename', from: 'http', to: 'call' }, { type: 'undo' })
    expect(s.future).toHaveLength(1)
    s = reducer(s, { type: 'setName', name: 'other' })
    expect(s.future).toHaveLength(0)
  })

  it('undo with no history changes nothing', () => {
    const s = loaded()
    expect(reducer(s, { type: 'undo' })).toBe(s)
  })

  it('rename carries the edges along and is undoable', () => {
    let s = reducer(loaded(), { type: 'rename', from: 'http', to: 'call' })
    expect(currentDefinition(s).edges).toEqual([{ from: 'hook', to: 'call' }])
    s = reducer(s, { type: 'undo' })
    expect(currentDefinition(s).edges).toEqual([{ from: 'hook', to: 'http' }])
  })

  it('refuses a rename onto a taken id', () => {
    const s = loaded()
    expect(reducer(s, { type: 'rename', from: 'http', to: 'hook' })).toBe(s)
  })
})

describe('restore and import', () => {
  it('replacing the whole definition is one undoable step and keeps earlier history', () => {
    let s = reducer(loaded(), { type: 'setConfig', nodeId: 'http', field: 'url', value: 'https://c' })
    const restored: Definition = { name: 'v1', nodes: [{ id: 'only', type: 'webhook', position: { x: 0, y: 0 } }], edges: [] }
    s = reducer(s, { type: 'replace', definition: restored, name: 'v1' })
    expect(s.nodes.map((n) => n.id)).toEqual(['only'])
    expect(s.past).toHaveLength(2)
    s = reducer(s, { type: 'undo' })
    expect(s.nodes.map((n) => n.id)).toEqual(['hook', 'http'])
    expect(s.nodes[1].data.config.url).toBe('https://c')
    expect(s.name).toBe('wf')
    s = reducer(s, { type: 'redo' })
    expect(s.nodes.map((n) => n.id)).toEqual(['only'])
  })

  it('loading resets the history and the dirty flag', () => {
    const s = run(loaded(), { type: 'setName', name: 'x' }, { type: 'load', name: 'wf', definition: def })
    expect(s.past).toHaveLength(0)
    expect(s.dirty).toBe(false)
  })
})

describe('placement', () => {
  it('pastes at the cursor with fresh ids and the edges between the pasted nodes', () => {
    const s = reducer(loaded(), { type: 'paste', definition: def, cursor: { x: 1000, y: 500 } })
    const pasted = s.nodes.slice(2)
    expect(pasted.map((n) => n.id)).toEqual(['hook_2', 'http_2'])
    expect(pasted[0].position).toEqual({ x: 1000, y: 500 })
    expect(pasted[1].position).toEqual({ x: 1300, y: 500 })
    expect(currentDefinition(s).edges).toContainEqual({ from: 'hook_2', to: 'http_2' })
    expect(s.nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(['hook_2', 'http_2'])
  })

  it('pastes without a cursor next to, never on top of, existing nodes; repeated pastes do not stack', () => {
    let s = loaded()
    const one: Definition = { nodes: [def.nodes[1]], edges: [] }
    for (let i = 0; i < 3; i++) s = reducer(s, { type: 'paste', definition: one, cursor: null })
    const positions = s.nodes.map((n) => n.position)
    for (let i = 0; i < positions.length; i++) {
      for (let j = i + 1; j < positions.length; j++) expect(overlaps(positions[i], positions[j])).toBe(false)
    }
    expect(s.past).toHaveLength(3)
  })

  it('a node added after an output port goes to its right and is connected', () => {
    const s = reducer(loaded(), { type: 'addNode', nodeType: 'transform', position: { x: 300 + NODE_WIDTH + 80, y: 0 }, after: { source: 'http', port: 'main' } })
    const added = s.nodes[2]
    expect(added.id).toBe('transform')
    expect(added.position.x).toBeGreaterThan(300 + NODE_WIDTH)
    expect(currentDefinition(s).edges).toContainEqual({ from: 'http', to: 'transform' })
    expect(NODE_HEIGHT).toBeGreaterThan(0)
  })
})

describe('pins in the undo history', () => {
  const stored = { value: { a: 1 }, port: 'main' }
  const withPins = () => run(loaded(), { type: 'pinsLoaded', pins: { http: stored } })

  it('loading the pins is no step', () => {
    const s = withPins()
    expect(s.pins).toEqual({ http: stored })
    expect(s.past).toHaveLength(0)
  })

  it('pinning is one undoable step that leaves the graph and its saved state alone', () => {
    let s = run(withPins(), { type: 'pin', nodeId: 'hook', pin: { value: [1, 2], port: 'main' } })
    expect(s.past).toHaveLength(1)
    expect(Object.keys(s.pins).sort()).toEqual(['hook', 'http'])
    const nodes = s.nodes
    s = reducer(s, { type: 'undo' })
    expect(s.pins).toEqual({ http: stored })
    expect(s.nodes).toBe(nodes)
    expect(s.dirty).toBe(false)
    s = reducer(s, { type: 'redo' })
    expect(s.pins.hook).toEqual({ value: [1, 2], port: 'main' })
    expect(s.dirty).toBe(false)
  })

  it('unpinning and re-pinning (an edited value) undo in order', () => {
    let s = run(withPins(),
      { type: 'pin', nodeId: 'http', pin: { value: { a: 2 }, port: 'main' } },
      { type: 'unpin', nodeId: 'http' })
    expect(s.pins).toEqual({})
    s = reducer(s, { type: 'undo' })
    expect(s.pins.http.value).toEqual({ a: 2 })
    s = reducer(s, { type: 'undo' })
    expect(s.pins.http).toEqual(stored)
    s = run(s, { type: 'redo' }, { type: 'redo' })
    expect(s.pins).toEqual({})
  })

  it('unpinning a node without a pin is no step', () => {
    const s = withPins()
    expect(reducer(s, { type: 'unpin', nodeId: 'hook' })).toBe(s)
  })

  it('graph steps and pin steps interleave without touching each other', () => {
    let s = run(withPins(),
      { type: 'setName', name: 'renamed' },
      { type: 'unpin', nodeId: 'http' },
      { type: 'rename', from: 'hook', to: 'start' })
    s = reducer(s, { type: 'undo' }) // the rename
    expect(s.nodes.map((n) => n.id)).toEqual(['hook', 'http'])
    expect(s.pins).toEqual({})
    s = reducer(s, { type: 'undo' }) // the unpin
    expect(s.pins).toEqual({ http: stored })
    expect(s.name).toBe('renamed')
    s = reducer(s, { type: 'undo' }) // the name
    expect(s.name).toBe('wf')
    expect(s.pins).toEqual({ http: stored })
    s = run(s, { type: 'redo' }, { type: 'redo' })
    expect(s.name).toBe('renamed')
    expect(s.pins).toEqual({})
  })

  it('a pin step drops the redo history like any edit', () => {
    let s = run(loaded(), { type: 'setName', name: 'x' }, { type: 'undo' })
    expect(s.future).toHaveLength(1)
    s = reducer(s, { type: 'pin', nodeId: 'hook', pin: { value: 1, port: 'main' } })
    expect(s.future).toHaveLength(0)
  })
})
