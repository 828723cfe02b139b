import { describe, expect, it } from 'vitest'
import { completePath, graphShapes, shapeOf, type GraphInfo } from './completion'

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

const graph: GraphInfo = {
  nodes: [
    { id: 'hook', type: 'webhook', config: { input_schema: { type: 'object', properties: {
      customer: { type: 'object', properties: { email: { type: 'string' } } },
      items: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' } } } },
    } } } },
    { id: 'fetch', type: 'http', config: { url: 'https://example.com' } },
    { id: 'if', type: 'condition', config: {} },
    { id: 'note', type: 'code', config: {} },
  ],
  edges: [{ source: 'hook', target: 'fetch' }, { source: 'fetch', target: 'if' }],
  types: {
    webhook: { label: 'Webhook', is_trigger: true },
    http: { label: 'HTTP Request', output_schema: { type: 'object', properties: { status: { type: 'integer' }, body: {} } } },
    condition: { label: 'If' },
    code: { label: 'Code' },
  },
}
const labels = (r: ReturnType<typeof completePath>) => r?.options.map((o) => o.label)

describe('expression completion from the node types\' schemas', () => {
  it('offers every node id and the declared outputs before any run', () => {
    const shapes = graphShapes('if', graph)
    expect(completePath('{{ ', {}, shapes)).toBeNull()
    expect(labels(completePath('{{ n', {}, shapes))).toEqual(['nodes'])
    expect(labels(completePath('{{ i', {}, shapes))).toEqual(['input'])
    expect(labels(completePath('nodes.', {}, shapes))).toEqual(['hook', 'fetch', 'if', 'note'])
    expect(completePath('nodes.f', {}, shapes)?.options[0].detail).toBe('HTTP Request output')
    expect(labels(completePath('nodes.fetch.', {}, shapes))).toEqual(['status', 'body'])
    expect(completePath('nodes.fetch.st', {}, shapes)?.options[0].detail).toBe('integer')
    expect(labels(completePath('input.', {}, shapes))).toEqual(['status', 'body'])
    expect(completePath('nodes.note.', {}, shapes)).toBeNull()
  })
  it('offers the trigger\'s input_schema under trigger, nodes.<trigger> and input below it', () => {
    const shapes = graphShapes('fetch', graph)
    expect(labels(completePath('trigger.', {}, shapes))).toEqual(['customer', 'items'])
    expect(labels(completePath('trigger.customer.', {}, shapes))).toEqual(['email'])
    expect(labels(completePath('input.items[0].', {}, shapes))).toEqual(['sku'])
    expect(labels(completePath('nodes.hook.cu', {}, shapes))).toEqual(['customer'])
    expect(graphShapes('hook', graph).input).toBeUndefined()
  })
  it('merges with the run data, the run first, without repeats', () => {
    const shapes = graphShapes('if', graph)
    const run = { input: { status: 200, extra: true }, nodes: { fetch: { status: 200, extra: true } } }
    const r = completePath('nodes.fetch.', run, shapes)!
    expect(r.options.map((o) => [o.label, o.detail])).toEqual([['status', '200'], ['extra', 'true'], ['body', 'any']])
  })
  it('reads odd schemas without failing', () => {
    expect(shapeOf('{{ not a schema }}', 'x')).toEqual({ detail: 'x' })
    expect(shapeOf({ type: ['string', 'null'] }).detail).toBe('string | null')
    const deep: Record<string, unknown> = {}
    let cur = deep
    for (let i = 0; i < 50; i++) { const next = {}; cur.type = 'object'; cur.properties = { a: next }; cur = next }
    let s = shapeOf(deep)
    let depth = 0
    while (s.keys?.a) { s = s.keys.a; depth++ }
    expect(depth).toBe(8)
    const odd = graphShapes('x', { nodes: [{ id: 'x', type: 'unknown' }], edges: [{ source: 'gone', target: 'x' }], types: {} })
    expect(odd.input).toBeUndefined()
    expect(labels(completePath('nodes.', {}, odd))).toEqual(['x'])
  })
})
