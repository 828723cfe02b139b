import { describe, expect, it } from 'vitest'
import { pinOf } from './usePins'

describe('pinOf', () => {
  it('pins a plain output as it is', () => {
    expect(pinOf({ node_id: 'a', status: 'succeeded', output: { x: 1 } })).toEqual({ value: { x: 1 } })
  })
  it('pins the first port of a branching node', () => {
    expect(pinOf({ node_id: 'if', status: 'succeeded', ports: ['false'], output: { false: 3 } }))
      .toEqual({ value: 3, port: 'false' })
  })
})
