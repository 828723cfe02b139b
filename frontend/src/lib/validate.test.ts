import { describe, expect, it } from 'vitest'
import { checkField } from './validate'

describe('inline field checks', () => {
  it('flags a missing required value, bad URL and out-of-range number', () => {
    expect(checkField({ type: 'string' }, '', true)).toBe('required')
    expect(checkField({ type: 'string', format: 'uri' }, 'not a url', true)).toMatch(/not a valid URL/)
    expect(checkField({ type: 'string', format: 'uri' }, 'https://ok.example/x', true)).toBeNull()
    expect(checkField({ type: 'integer', minimum: 1 }, 0, false)).toMatch(/at least 1/)
  })
  it('leaves templates to the server', () => {
    expect(checkField({ type: 'string', format: 'uri' }, '{{ input.url }}', true)).toBeNull()
  })
})
