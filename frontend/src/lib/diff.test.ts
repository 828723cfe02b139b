import { describe, expect, it } from 'vitest'
import { diffDefinitions, mergeOnTop } from './diff'
import type { Definition } from '../types'

const base: Definition = {
  name: 'wf',
  nodes: [
    { id: 'a', type: 'webhook', config: {} },
    { id: 'b', type: 'http', config: { url: 'u1', method: 'GET' } },
  ],
  edges: [{ from: 'a', to: 'b' }],
}

describe('diff', () => {
  it('names added, removed and changed parts', () => {
    const other: Definition = { ...base, nodes: [base.nodes[0], { ...base.nodes[1], config: { url: 'u2', method: 'GET' } }, { id: 'c', type: 'llm' }] }
    const text = diffDefinitions(base, other).map((l) => l.text)
    expect(text).toContain('node c (llm)')
    expect(text).toContain('node b: url: "u1" → "u2"')
  })
})

describe('merge on top', () => {
  it('applies my changes over theirs and reports keys both changed', () => {
    const mine: Definition = {
      ...base,
      nodes: [base.nodes[0], { ...base.nodes[1], config: { url: 'mine', method: 'GET' } }, { id: 'm', type: 'llm' }],
      edges: [...base.edges, { from: 'b', to: 'm' }],
    }
    const theirs: Definition = {
      ...base,
      nodes: [base.nodes[0], { ...base.nodes[1], config: { url: 'theirs', method: 'POST' } }, { id: 't', type: 'delay' }],
    }
    const { merged, overridden } = mergeOnTop(base, mine, theirs)
    expect(merged.nodes.map((n) => n.id)).toEqual(['a', 'b', 't', 'm'])
    expect(merged.nodes[1].config).toEqual({ url: 'mine', method: 'POST' })
    expect(merged.edges).toContainEqual({ from: 'b', to: 'm' })
    expect(overridden).toEqual(['b.url'])
  })
  it('drops a node I deleted and its edges', () => {
    const mine: Definition = { ...base, nodes: [base.nodes[0]], edges: [] }
    const { merged } = mergeOnTop(base, mine, base)
    expect(merged.nodes.map((n) => n.id)).toEqual(['a'])
    expect(merged.edges).toEqual([])
  })
})
