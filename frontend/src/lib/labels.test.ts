import { describe, expect, it } from 'vitest'
import { humanLabel } from './labels'

describe('labels', () => {
  it('keeps acronyms upper case and the rest in sentence case', () => {
    expect(humanLabel('Url', 'url')).toBe('URL')
    expect(humanLabel('Json Body', 'json_body')).toBe('JSON body')
    expect(humanLabel(undefined, 'fail_on_error_status')).toBe('Fail on error status')
    expect(humanLabel('Timeout', 'timeout')).toBe('Timeout')
  })
})
