import { describe, expect, it } from 'vitest'
import { formatPreview, wantsPreview } from './ExpressionPreview'
import { webhookCommands } from './WebhookInfo'

describe('expression preview', () => {
  it('previews expression fields with text, template fields once they hold {{', () => {
    expect(wantsPreview('input', 'expression')).toBe(true)
    expect(wantsPreview('   ', 'expression')).toBe(false)
    expect(wantsPreview(undefined, 'expression')).toBe(false)
    expect(wantsPreview(42, 'template')).toBe(false)
    expect(wantsPreview('plain text', 'template')).toBe(false)
    expect(wantsPreview('Hi {{ input.name }}', 'template')).toBe(true)
  })
  it('shows values as JSON and marks a cut preview', () => {
    const base = { ok: true, kind: 'expression', error: null, truncated: false }
    expect(formatPreview({ ...base, value: 42, type: 'number' })).toBe('42')
    expect(formatPreview({ ...base, value: 'Ada', type: 'string' })).toBe('"Ada"')
    expect(formatPreview({ ...base, value: { a: [1] }, type: 'object' })).toBe('{"a":[1]}')
    expect(formatPreview({ ...base, value: '{"a": 1', type: 'object', truncated: true })).toBe('{"a": 1…')
  })
})

describe('webhook commands', () => {
  const wf = { id: 7, webhook_url: 'http://x/api/webhook/7', webhook_auth: 'none' }
  it('uses the id without a custom path', () => {
    const c = webhookCommands(wf, 'http://x')
    expect(c.production).toBe('http://x/api/webhook/7')
    expect(c.listen).toBe('http://x/hook/test/7')
    expect(c.listenCurl).toContain("curl -X POST 'http://x/hook/test/7'")
  })
  it('uses the custom path for production and test', () => {
    const c = webhookCommands({ ...wf, webhook_path: 'orders-in', webhook_auth: 'token' }, 'http://x')
    expect(c.production).toBe('http://x/hook/orders-in')
    expect(c.listen).toBe('http://x/hook/test/orders-in')
    expect(c.listenCurl).toContain('X-Webhook-Token')
  })
})
