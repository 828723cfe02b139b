import { describe, expect, it } from 'vitest'
import { parsePinJson, pinOf, pinsToSync } from './usePins'

describe('pinOf', () => {
  it('pins a plain output as it is', () => {
    expect(pinOf({ node_id: 'a', status: 'succeeded', output: { x: 1 } })).toEqual({ value: { x: 1 } })
  })
  it('pins the first port of a branching node', () => {
    expect(pinOf({ node_id: 'if', status: 'succeeded', ports: ['false'], output: { false: 3 } }))
      .toEqual({ value: 3, port: 'false' })
  })
})

describe('pinsToSync (what undo/redo writes back to the server)', () => {
  const a = { value: { x: 1 }, port: 'main', at: '2026-01-01' }
  it('nothing when the values and ports match (metadata aside)', () => {
    expect(pinsToSync({ n: a }, { n: { value: { x: 1 }, port: 'main' } })).toEqual({ put: [], remove: [] })
  })
  it('puts changed and new pins, removes the gone ones', () => {
    const b = { value: 2, port: 'true' }
    expect(pinsToSync({ n: a, m: b }, { n: { ...a, value: { x: 2 } }, k: b })).toEqual({
      put: [['n', { ...a, value: { x: 2 } }], ['k', b]], remove: ['m'],
    })
  })
  it('a different port is a change', () => {
    expect(pinsToSync({ n: a }, { n: { ...a, port: 'error' } }).put).toHaveLength(1)
  })
})

describe('parsePinJson', () => {
  it('parses JSON, null included', () => {
    expect(parsePinJson('{"a": [1, 2]}')).toEqual({ ok: true, value: { a: [1, 2] } })
    expect(parsePinJson('null')).toEqual({ ok: true, value: null })
  })
  it('says why text is not JSON, never giving a value', () => {
    const bad = parsePinJson('{"a": }')
    expect(bad.ok).toBe(false)
    expect(!bad.ok && bad.error).toMatch(/^Not valid JSON/)
    expect(parsePinJson('   ')).toEqual({ ok: false, error: 'Enter JSON (for nothing, type null).' })
  })
})
