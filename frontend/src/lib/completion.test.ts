import { describe, expect, it } from 'vitest'
import { completePath } from './completion'

const scope = {
  input: { customer: { name: 'Ada', tags: ['a'] }, total: 3 },
  trigger: { id: 7 },
  nodes: { fetch: { status: 200, body: { items: [{ sku: 'x' }] } } },
}

describe('expression completion from run data', () => {
  it('offers the roots', () => {
    expect(completePath('{{ in', scope)?.options.map((o) => o.label)).toEqual(['input'])
    expect(completePath('', scope)).toBeNull()
    expect(completePath('x', scope)).toBeNull()
  })
  it('offers the keys under a path, replacing the partial word', () => {
    const r = completePath('{{ input.cu', scope)!
    expect(r.options.map((o) => o.label)).toEqual(['customer'])
    expect(r.from).toBe('{{ input.'.length)
    expect(completePath('input.customer.', scope)?.options.map((o) => o.label)).toEqual(['name', 'tags'])
    expect(completePath('input.customer.', scope)?.options[0].detail).toBe('"Ada"')
  })
  it('walks nodes by id and array indexes', () => {
    expect(completePath('nodes.', scope)?.options.map((o) => o.label)).toEqual(['fetch'])
    expect(completePath('nodes.fetch.body.items[0].', scope)?.options.map((o) => o.label)).toEqual(['sku'])
  })
  it('offers nothing past a value that is no object', () => {
    expect(completePath('input.total.', scope)).toBeNull()
    expect(completePath('input.nope.', scope)).toBeNull()
  })
})
