// The condition builder's model: rows of (field, operator, value) joined by AND or OR, turned
// into the ordinary expression the node already evaluates (`{{ input.total > 100 and ... }}`)
// and read back from an expression of that shape. The engine needs no change and the saved
// definition stays runnable; an expression of any other shape stays raw text.
//
//   toExpression({ combinator: 'and', rules: [{ field: 'input.total', op: 'gt', value: '100' }] })
//     -> { expression: '{{ input.total > 100 }}' }
//   fromExpression('{{ input.total > 100 }}') -> the same group, or null when not of that shape
//
// Values are Python string literals (JSON escapes, which Python reads the same) with `{` and
// `}` written \x7b and \x7d, so no value can close or open a `{{ }}`.

export type ValueKind = 'string' | 'number' | 'boolean' | 'any'
export type Op =
  | 'equals' | 'not_equals' | 'contains' | 'starts_with' | 'ends_with' | 'is_empty' | 'regex'
  | 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'
  | 'is_true' | 'is_false'
  | 'exists' | 'not_exists'

export interface OpInfo { op: Op; kind: ValueKind; label: string; unary?: boolean }

export const OPERATORS: OpInfo[] = [
  { op: 'equals', kind: 'string', label: 'equals' },
  { op: 'not_equals', kind: 'string', label: 'does not equal' },
  { op: 'contains', kind: 'string', label: 'contains' },
  { op: 'starts_with', kind: 'string', label: 'starts with' },
  { op: 'ends_with', kind: 'string', label: 'ends with' },
  { op: 'is_empty', kind: 'string', label: 'is empty', unary: true },
  { op: 'regex', kind: 'string', label: 'matches regex' },
  { op: 'eq', kind: 'number', label: '=' },
  { op: 'ne', kind: 'number', label: '≠' },
  { op: 'gt', kind: 'number', label: '>' },
  { op: 'ge', kind: 'number', label: '≥' },
  { op: 'lt', kind: 'number', label: '<' },
  { op: 'le', kind: 'number', label: '≤' },
  { op: 'is_true', kind: 'boolean', label: 'is true', unary: true },
  { op: 'is_false', kind: 'boolean', label: 'is false', unary: true },
  { op: 'exists', kind: 'any', label: 'exists', unary: true },
  { op: 'not_exists', kind: 'any', label: 'does not exist', unary: true },
]
export const OP_INFO = Object.fromEntries(OPERATORS.map((o) => [o.op, o])) as Record<Op, OpInfo>

export interface Rule { field: string; op: Op; value: string }
export interface Group { combinator: 'and' | 'or'; rules: Rule[] }

const NUM_OPS: Partial<Record<Op, string>> = { eq: '==', ne: '!=', gt: '>', ge: '>=', lt: '<', le: '<=' }
const OP_BY_SYMBOL: Record<string, Op> = { '==': 'eq', '!=': 'ne', '>': 'gt', '>=': 'ge', '<': 'lt', '<=': 'le' }

// A field: a root name, then `.key`, `[index]` or `["any key"]` segments.
const STR = String.raw`"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'`
const IDENT = String.raw`[A-Za-z_]\w*`
const PATH = String.raw`${IDENT}(?:\.${IDENT}|\[\d+\]|\[(?:${STR})\])*`
const NUM = String.raw`-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?`
const FIELD_RE = new RegExp(`^${PATH}$`)
const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'None', 'True', 'False', 'if', 'else', 'lambda'])

/** A Python string literal holding exactly `value`. */
export function quote(value: string): string {
  return JSON.stringify(value).replace(/[{}]/g, (c) => (c === '{' ? '\\x7b' : '\\x7d'))
}

const SIMPLE_ESCAPES: Record<string, string> = { '\\': '\\', '"': '"', "'": "'", n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '/': '/' }

/** The value of a Python string literal (the escapes `quote` and people write); null for any
 * other escape. */
export function unquote(literal: string): string | null {
  const body = literal.slice(1, -1)
  let out = ''
  for (let i = 0; i < body.length; i++) {
    const c = body[i]
    if (c !== '\\') { out += c; continue }
    const e = body[++i]
    if (e in SIMPLE_ESCAPES && e !== '/') { out += SIMPLE_ESCAPES[e]; continue }
    const width = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0
    const hex = body.slice(i + 1, i + 1 + width)
    if (!width || !new RegExp(`^[0-9a-fA-F]{${width}}$`).test(hex)) return null
    const code = parseInt(hex, 16)
    if (code > 0x10ffff) return null
    out += width === 4 ? String.fromCharCode(code) : String.fromCodePoint(code)
    i += width
  }
  return out
}

/** Why a field path cannot be used, or null. */
export function checkField(field: string): string | null {
  const f = field.trim()
  if (!f) return 'choose a field, e.g. input.total'
  if (!FIELD_RE.test(f)) return `${JSON.stringify(f)} is not a field path (e.g. input.customer.name or input.items[0])`
  if (KEYWORDS.has(f.split(/[.[]/)[0])) return `${JSON.stringify(f)} starts with a reserved word`
  return null
}

// The parent of a path and the key of its last segment (for exists), or null.
function splitLast(field: string): [string, string] | null {
  const m = new RegExp(`^(${PATH})(?:\\.(${IDENT})|\\[(${STR})\\])$`).exec(field)
  if (!m) return null
  const key = m[2] ?? unquote(m[3])
  return key === null ? null : [m[1], key]
}

/** One rule's expression, or the reason it has none. */
export function ruleExpression(rule: Rule): { text: string } | { error: string } {
  const bad = checkField(rule.field)
  if (bad) return { error: bad }
  const f = rule.field.trim()
  const v = quote(rule.value)
  switch (rule.op) {
    case 'equals': return { text: `${f} == ${v}` }
    case 'not_equals': return { text: `${f} != ${v}` }
    case 'contains': return { text: `${v} in ${f}` }
    case 'starts_with': return { text: `${f}.startswith(${v})` }
    case 'ends_with': return { text: `${f}.endswith(${v})` }
    case 'is_empty': return { text: `${f} == ""` }
    case 'regex': return { text: `matches(${v}, ${f})` }
    case 'is_true': return { text: `${f} is True` }
    case 'is_false': return { text: `${f} is False` }
    case 'exists':
    case 'not_exists': {
      const parts = splitLast(f)
      if (!parts) return { error: `${JSON.stringify(f)}: exists needs a key under an object, e.g. input.customer` }
      return { text: `${parts[0]}.get(${quote(parts[1])}) is ${rule.op === 'exists' ? 'not ' : ''}None` }
    }
    default: {
      const symbol = NUM_OPS[rule.op]
      if (!symbol) return { error: `unknown operator ${JSON.stringify(rule.op)}` }
      const n = rule.value.trim()
      if (!new RegExp(`^${NUM}$`).test(n) || !Number.isFinite(Number(n))) return { error: `${JSON.stringify(rule.value)} is not a number` }
      return { text: `${f} ${symbol} ${n}` }
    }
  }
}

/** The `{{ }}` expression of a group, or the first row's error (with its index). */
export function toExpression(group: Group): { expression: string } | { error: string; row: number } {
  const texts: string[] = []
  for (const [row, rule] of group.rules.entries()) {
    const r = ruleExpression(rule)
    if ('error' in r) return { error: r.error, row }
    texts.push(r.text)
  }
  if (!texts.length) return { error: 'add a condition', row: -1 }
  return { expression: `{{ ${texts.join(` ${group.combinator} `)} }}` }
}

// Splits at top-level ` and ` / ` or ` (outside string literals and brackets).
function splitTop(text: string): { parts: string[]; joins: string[] } | null {
  const parts: string[] = []
  const joins: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '"' || c === "'") {
      const m = new RegExp(STR, 'y')
      m.lastIndex = i
      if (!m.exec(text)) return null
      i = m.lastIndex - 1
    } else if ('([{'.includes(c)) depth++
    else if (')]}'.includes(c)) depth--
    else if (depth === 0 && /\s/.test(c)) {
      const j = /^\s+(and|or)\s+/.exec(text.slice(i))
      if (j) {
        parts.push(text.slice(start, i)); joins.push(j[1])
        i += j[0].length - 1; start = i + 1
      }
    }
  }
  parts.push(text.slice(start))
  return { parts: parts.map((p) => p.trim()), joins }
}

const S = String.raw`\s*`
const PATTERNS: [RegExp, (m: RegExpExecArray) => Rule | null][] = [
  [new RegExp(`^(${PATH})${S}(==|!=)${S}(${STR})$`), (m) => {
    const value = unquote(m[3])
    if (value === null) return null
    if (value === '' && m[2] === '==') return { field: m[1], op: 'is_empty', value: '' }
    return { field: m[1], op: m[2] === '==' ? 'equals' : 'not_equals', value }
  }],
  [new RegExp(`^(${STR})${S}in\\s+(${PATH})$`), (m) => str(m[2], 'contains', m[1])],
  [new RegExp(`^(${PATH})\\.(startswith|endswith)\\(${S}(${STR})${S}\\)$`), (m) => str(m[1], m[2] === 'startswith' ? 'starts_with' : 'ends_with', m[3])],
  [new RegExp(`^matches\\(${S}(${STR})${S},${S}(${PATH})${S}\\)$`), (m) => str(m[2], 'regex', m[1])],
  [new RegExp(`^(${PATH})${S}(==|!=|>=|<=|>|<)${S}(${NUM})$`), (m) => ({ field: m[1], op: OP_BY_SYMBOL[m[2]], value: m[3] })],
  [new RegExp(`^(${PATH})\\s+is\\s+(True|False)$`), (m) => ({ field: m[1], op: m[2] === 'True' ? 'is_true' : 'is_false', value: '' })],
  [new RegExp(`^(${PATH})\\.get\\(${S}(${STR})${S}\\)\\s+is\\s+(not\\s+)?None$`), (m) => {
    const key = unquote(m[2])
    if (key === null) return null
    const field = new RegExp(`^${IDENT}$`).test(key) ? `${m[1]}.${key}` : `${m[1]}[${quote(key)}]`
    return { field, op: m[3] ? 'exists' : 'not_exists', value: '' }
  }],
]

function str(field: string, op: Op, literal: string): Rule | null {
  const value = unquote(literal)
  return value === null ? null : { field, op, value }
}

/** The builder's group for an expression of its shape; null for anything else (which stays
 * raw). Empty text is an empty group. */
export function fromExpression(text: string | null | undefined): Group | null {
  const s = (text || '').trim()
  if (!s) return { combinator: 'and', rules: [] }
  const whole = /^\{\{([\s\S]+?)\}\}$/.exec(s)
  const inner = (whole ? whole[1] : s).trim()
  if (whole && inner.includes('{{')) return null
  const split = splitTop(inner)
  if (!split || new Set(split.joins).size > 1) return null
  const rules: Rule[] = []
  for (const part of split.parts) {
    let rule: Rule | null = null
    for (const [re, make] of PATTERNS) {
      const m = re.exec(part)
      if (m && (rule = make(m))) break
    }
    if (!rule || checkField(rule.field)) return null
    rules.push(rule)
  }
  return { combinator: (split.joins[0] as 'and' | 'or') || 'and', rules }
}
