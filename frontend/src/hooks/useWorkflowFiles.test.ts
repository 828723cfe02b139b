import { describe, expect, it } from 'vitest'
import { exportFileName } from './useWorkflowFiles'

describe('exportFileName', () => {
  it('is the workflow name, lower case, with anything unsafe as a dash', () => {
    expect(exportFileName('Order Sync: v2')).toBe('order-sync-v2.json')
    expect(exportFileName('daily_report-3')).toBe('daily_report-3.json')
  })
  it('never carries a path or a hidden-file dot', () => {
    expect(exportFileName('../../etc/passwd')).toBe('-etc-passwd.json')
    expect(exportFileName('.env')).toBe('-env.json')
    expect(exportFileName('a\\b\u0000c')).toBe('a-b-c.json')
  })
  it('falls back to "workflow" for a workflow without a name', () => {
    expect(exportFileName('')).toBe('workflow.json')
  })
})
