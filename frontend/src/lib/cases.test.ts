import { describe, expect, it } from 'vitest'
import { addCase, freshName, listError, MAX_CASES, moveCase, nameErrors, removeCase, toCases } from './cases'

const two = [{ name: 'refund', expression: '{{ input.kind == "refund" }}' }, { name: 'order', expression: '{{ input.total > 0 }}' }]

describe('case rows', () => {
  it('reads a list of {name, expression} and nothing else', () => {
    expect(toCases(two)).toEqual(two)
    expect(toCases(undefined)).toEqual([])
    expect(toCases({ name: 'a' })).toBeNull()
    expect(toCases([{ name: 'a', expression: 'x', extra: 1 }])).toBeNull()
    expect(toCases([{ name: 1, expression: 'x' }])).toBeNull()
    expect(toCases(['a'])).toBeNull()
  })

  it('adds, removes and moves without changing the input', () => {
    expect(addCase(two, { name: 'c', expression: '' }).map((c) => c.name)).toEqual(['refund', 'order', 'c'])
    expect(removeCase(two, 0)).toEqual([two[1]])
    expect(moveCase(two, 1, -1)).toEqual([two[1], two[0]])
    expect(moveCase(two, 0, 1)).toEqual([two[1], two[0]])
    expect(moveCase(two, 0, -1)).toBe(two)
    expect(moveCase(two, 1, 1)).toBe(two)
    expect(two.map((c) => c.name)).toEqual(['refund', 'order'])
    const full = Array.from({ length: MAX_CASES }, (_, i) => i)
    expect(addCase(full, 99)).toBe(full)
  })

  it('proposes a name not yet taken', () => {
    expect(freshName([])).toBe('case_1')
    expect(freshName([{ name: 'case_2', expression: '' }])).toBe('case_3')
    expect(freshName([{ name: 'x', expression: '' }, { name: 'case_3', expression: '' }])).toBe('case_4')
  })

  it('names empty, bad, reserved and duplicate names on their row', () => {
    const errs = nameErrors([
      { name: 'ok', expression: 'x' }, { name: '', expression: 'x' }, { name: 'a b', expression: 'x' },
      { name: 'default', expression: 'x' }, { name: 'error', expression: 'x' }, { name: 'ok', expression: 'x' },
    ])
    expect(errs[0]).toBe('')
    expect(errs[1]).toMatch(/needs a name/)
    expect(errs[2]).toMatch(/letters, digits/)
    expect(errs[3]).toMatch(/reserved/)
    expect(errs[4]).toMatch(/reserved/)
    expect(errs[5]).toMatch(/already the name of case 1/)
  })

  it('blocks a list with no case, a bad name or an empty condition', () => {
    expect(listError(two)).toBeNull()
    expect(listError([])).toMatch(/at least one/)
    expect(listError([two[0], { ...two[1], name: 'refund' }])).toMatch(/^case 2: .*already/)
    expect(listError([two[0], { ...two[1], expression: ' ' }])).toBe('case 2: the case needs a condition')
  })
})
