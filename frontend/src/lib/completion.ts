// Completion of expression paths from the last run's data: `input`, `trigger` and
// `nodes.<id>` at the top, then the keys of whatever the path before the cursor leads to
// (`input.customer.` offers the customer's keys as they were in that run).

export interface Scope { input?: unknown; trigger?: unknown; nodes?: Record<string, unknown> }
export interface Option { label: string; type: string; detail?: string }

const ROOTS: [keyof Scope, string][] = [['input', 'this node\'s input'], ['nodes', 'outputs by node id'], ['trigger', 'the run\'s payload']]

function describe(v: unknown): string {
  if (Array.isArray(v)) return `array[${v.length}]`
  if (v === null) return 'null'
  if (typeof v === 'object') return 'object'
  const s = JSON.stringify(v)
  return s.length > 24 ? `${s.slice(0, 23)}…` : s
}

/** What to offer for the text before the cursor: the position the completion replaces from,
 * and the options; null when the cursor is not at the end of a path. */
export function completePath(before: string, scope: Scope): { from: number; options: Option[] } | null {
  const m = /([A-Za-z_]\w*(?:\.\w*|\[\d+\])*)$/.exec(before)
  if (!m) return null
  const path = m[1]
  const parts = path.split('.')
  const partial = parts.pop() as string
  const from = before.length - partial.length
  if (!parts.length) {
    const options = ROOTS.filter(([name]) => name.startsWith(partial) && scope[name] !== undefined)
      .map(([name, detail]) => ({ label: name, type: 'variable', detail }))
    return options.length ? { from, options } : null
  }
  let value: unknown = scope
  for (const part of parts) {
    const seg = /^(\w+)((?:\[\d+\])*)$/.exec(part)
    if (!seg || value === null || typeof value !== 'object') return null
    value = (value as Record<string, unknown>)[seg[1]]
    for (const idx of seg[2].match(/\d+/g) || []) {
      if (!Array.isArray(value)) return null
      value = value[Number(idx)]
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null
  const options = Object.entries(value as Record<string, unknown>)
    .filter(([k]) => k.startsWith(partial) && /^[A-Za-z_]\w*$/.test(k))
    .map(([k, v]) => ({ label: k, type: 'property', detail: describe(v) }))
  return options.length ? { from, options } : null
}
