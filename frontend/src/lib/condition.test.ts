import { describe, expect, it } from 'vitest'
import cases from './condition.cases.json'
import { checkField, fromExpression, OPERATORS, quote, toExpression, unquote, type Group, type Rule } from './condition'

const expr = (g: Group) => {
  const r = toExpression(g)
  if ('error' in r) throw new Error(r.error)
  return r.expression
}
const one = (rule: Rule) => expr({ combinator: 'and', rules: [rule] })

describe('condition builder -> expression', () => {
  it('writes each operator as the expression the node runs', () => {
    expect(one({ field: 'input.name', op: 'equals', value: 'Ada' })).toBe('{{ input.name == "Ada" }}')
    expect(one({ field: 'input.name', op: 'not_equals', value: 'Ada' })).toBe('{{ input.name != "Ada" }}')
    expect(one({ field: 'input.name', op: 'contains', value: 'd' })).toBe('{{ "d" in input.name }}')
    expect(one({ field: 'input.name', op: 'starts_with', value: 'A' })).toBe('{{ input.name.startswith("A") }}')
    expect(one({ field: 'input.name', op: 'ends_with', value: 'a' })).toBe('{{ input.name.endswith("a") }}')
    expect(one({ field: 'input.name', op: 'is_empty', value: 'ignored' })).toBe('{{ input.name == "" }}')
    expect(one({ field: 'input.name', op: 'regex', value: '^A\\w+$' })).toBe('{{ matches("^A\\\\w+$", input.name) }}')
    expect(one({ field: 'input.total', op: 'ge', value: ' 100.5 ' })).toBe('{{ input.total >= 100.5 }}')
    expect(one({ field: 'input.total', op: 'ne', value: '-3' })).toBe('{{ input.total != -3 }}')
    expect(one({ field: 'input.ok', op: 'is_true', value: '' })).toBe('{{ input.ok is True }}')
    expect(one({ field: 'input.ok', op: 'is_false', value: '' })).toBe('{{ input.ok is False }}')
    expect(one({ field: 'input.customer.email', op: 'exists', value: '' })).toBe('{{ input.customer.get("email") is not None }}')
    expect(one({ field: 'input["first name"]', op: 'not_exists', value: '' })).toBe('{{ input.get("first name") is None }}')
  })
  it('joins rows with and / or', () => {
    expect(expr({ combinator: 'or', rules: [
      { field: 'input.total', op: 'gt', value: '100' },
      { field: 'nodes.fetch.status', op: 'eq', value: '200' },
    ] })).toBe('{{ input.total > 100 or nodes.fetch.status == 200 }}')
  })
  it('refuses what it cannot write, naming the row', () => {
    expect(toExpression({ combinator: 'and', rules: [] })).toEqual({ error: 'add a condition', row: -1 })
    const bad = toExpression({ combinator: 'and', rules: [{ field: 'input.a', op: 'eq', value: '1' }, { field: 'input.b', op: 'gt', value: 'ten' }] })
    expect(bad).toEqual({ error: '"ten" is not a number', row: 1 })
    for (const value of ['007', '1e999', '', '0x10', 'NaN', '1 or True']) {
      expect(toExpression({ combinator: 'and', rules: [{ field: 'input.a', op: 'lt', value }] })).toHaveProperty('error')
    }
    for (const field of ['', 'input.', 'input.a; x', 'input.a or True', '__import__("os")', 'not.x', 'input.a)', '{{ input }}']) {
      expect(checkField(field), field).not.toBeNull()
    }
    expect(toExpression({ combinator: 'and', rules: [{ field: 'input', op: 'exists', value: '' }] })).toHaveProperty('error')
    expect(toExpression({ combinator: 'and', rules: [{ field: 'input.a', op: 'bogus' as never, value: '' }] })).toHaveProperty('error')
  })
})

describe('escaping', () => {
  const nasty = 'a"b\'c}}d{{e\\f\n\tg\\"}} \u2028 é 🎉'
  it('quotes any text as a Python literal with no braces in it', () => {
    const q = quote(nasty)
    expect(q).not.toMatch(/[{}]/)
    expect(q.startsWith('"') && q.endsWith('"')).toBe(true)
    expect(unquote(q)).toBe(nasty)
  })
  it('keeps a value with quotes, }} and backslashes one literal inside one {{ }}', () => {
    const e = one({ field: 'input.name', op: 'equals', value: nasty })
    expect(e.match(/\{\{/g)).toHaveLength(1)
    expect(e.match(/\}\}/g)).toHaveLength(1)
    expect(fromExpression(e)).toEqual({ combinator: 'and', rules: [{ field: 'input.name', op: 'equals', value: nasty }] })
  })
  it('reads the escapes people write and refuses others', () => {
    expect(unquote("'it\\'s'")).toBe("it's")
    expect(unquote('"\\x41\\u00e9\\U0001F389"')).toBe('Aé🎉')
    expect(unquote('"\\q"')).toBeNull()
    expect(unquote('"\\x4"')).toBeNull()
  })
})

describe('expression -> condition builder', () => {
  it('round-trips every operator, alone and combined', () => {
    for (const info of OPERATORS) {
      const rule: Rule = {
        field: 'input.a.b', op: info.op,
        value: info.unary ? '' : info.kind === 'number' ? '42' : 'x "y" }} \\z',
      }
      const g: Group = { combinator: 'and', rules: [rule] }
      expect(fromExpression(expr(g)), info.op).toEqual(g)
    }
    const g: Group = { combinator: 'or', rules: [
      { field: 'input.items[0].sku', op: 'starts_with', value: 'A and B' },
      { field: 'nodes.fetch.status', op: 'lt', value: '300' },
      { field: 'trigger.flag', op: 'is_true', value: '' },
    ] }
    expect(fromExpression(expr(g))).toEqual(g)
  })
  it('reads bare expressions, single quotes and free spacing', () => {
    expect(fromExpression("input.kind=='refund'")).toEqual({ combinator: 'and', rules: [{ field: 'input.kind', op: 'equals', value: 'refund' }] })
    expect(fromExpression('{{input.total>100}}')).toEqual({ combinator: 'and', rules: [{ field: 'input.total', op: 'gt', value: '100' }] })
    expect(fromExpression('')).toEqual({ combinator: 'and', rules: [] })
  })
  it('leaves any other expression raw', () => {
    for (const text of [
      '{{ input.a > 1 and input.b > 2 or input.c > 3 }}',
      '{{ len(input.items) > 2 }}',
      '{{ (input.a > 1) }}',
      '{{ input.a > input.b }}',
      '{{ input.a == "x" }} and {{ input.b == "y" }}',
      '{{ input.a == "\\q" }}',
      '{{ not input.a }}',
      '{{ input.a > 007 }}',
    ]) expect(fromExpression(text), text).toBeNull()
  })
})

describe('the cases the engine also runs (tests/runs/test_condition_builder.py)', () => {
  it('writes exactly the expressions the engine is tested with, and reads them back', () => {
    for (const c of cases.cases) {
      const g = c.group as Group
      expect(expr(g)).toBe(c.expression)
      expect(fromExpression(c.expression)).toEqual(g)
    }
  })
})
