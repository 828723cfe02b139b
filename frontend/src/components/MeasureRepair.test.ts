import { describe, expect, it } from 'vitest'
import { unmeasured } from './MeasureRepair'

const node = (id: string, measured: { width?: number; height?: number } | undefined, handles: boolean) =>
  [id, { id, measured, internals: { handleBounds: handles ? { source: [], target: [] } : undefined } }] as const

describe('unmeasured', () => {
  it('names the nodes without a size or handle positions, and only those', () => {
    const nodeLookup = new Map([
      node('done', { width: 200, height: 60 }, true),
      node('no-size', undefined, false),
      node('zero', { width: 0, height: 60 }, true),
      node('no-handles', { width: 200, height: 60 }, false),
    ])
    expect(unmeasured({ nodeLookup } as never)).toBe('no-size\nzero\nno-handles')
  })

  it('is empty when every node is measured', () => {
    expect(unmeasured({ nodeLookup: new Map([node('a', { width: 1, height: 1 }, true)]) } as never)).toBe('')
  })
})
