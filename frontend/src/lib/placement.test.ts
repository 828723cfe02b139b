import { describe, expect, it } from 'vitest'
import { freeSpot, overlaps, spotRightOf, NODE_WIDTH } from './placement'

describe('free spots', () => {
  it('keeps the wanted spot when it is free', () => {
    expect(freeSpot({ x: 0, y: 0 }, [{ position: { x: 500, y: 500 } }])).toEqual({ x: 0, y: 0 })
  })
  it('moves down past taken spots', () => {
    const nodes = [{ position: { x: 0, y: 0 } }, { position: { x: 0, y: 96 } }]
    const p = freeSpot({ x: 0, y: 0 }, nodes)
    expect(nodes.some((n) => overlaps(n.position, p))).toBe(false)
    expect(p.x).toBe(0)
  })
  it('puts a follower to the right of its source', () => {
    const p = spotRightOf({ position: { x: 10, y: 20 } }, [{ position: { x: 10, y: 20 } }])
    expect(p).toEqual({ x: 10 + NODE_WIDTH + 80, y: 20 })
  })
})
