// The Switch node's `cases` list as the editor's case rows edit it: pure list operations and
// the checks the server makes on case names (nodes/types/switch.py), so a bad name is shown on
// its row before saving.
export interface Case { name: string; expression: string }

export const CASE_NAME = /^[A-Za-z0-9_-]{1,50}$/
export const RESERVED = ['default', 'error']
export const MAX_CASES = 50

/** The list as rows, or null when it does not fit them (then it is edited as raw JSON). */
export function toCases(value: unknown): Case[] | null {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) return null
  const rows: Case[] = []
  for (const item of value) {
    if (!item || typeof item !== 'object' || Array.isArray(item)) return null
    const { name, expression, ...rest } = item as Record<string, unknown>
    if (Object.keys(rest).length || typeof name !== 'string' || typeof expression !== 'string') return null
    rows.push({ name, expression })
  }
  return rows
}

/** A name not yet taken: case_1, case_2, ... */
export function freshName(cases: Case[]): string {
  const taken = new Set(cases.map((c) => c.name))
  let i = cases.length + 1
  while (taken.has(`case_${i}`)) i += 1
  return `case_${i}`
}

export function addCase<T>(list: T[], item: T): T[] {
  return list.length >= MAX_CASES ? list : [...list, item]
}

export function removeCase<T>(list: T[], i: number): T[] {
  return list.filter((_, j) => j !== i)
}

/** Moves item i by `by` (-1 up, +1 down); out of range leaves the list as it is. */
export function moveCase<T>(list: T[], i: number, by: number): T[] {
  const j = i + by
  if (i < 0 || i >= list.length || j < 0 || j >= list.length) return list
  const next = [...list]
  ;[next[i], next[j]] = [next[j], next[i]]
  return next
}

/** The problem with each row's name ('' when none), as the server would refuse it. */
export function nameErrors(cases: Case[]): string[] {
  return cases.map((c, i) => {
    const name = c.name.trim()
    if (!name) return 'the case needs a name'
    if (!CASE_NAME.test(c.name)) return `"${c.name}": use 1-50 letters, digits, _ or -`
    if (RESERVED.includes(c.name)) return `"${c.name}" is reserved (an output port of every switch)`
    if (cases.findIndex((o) => o.name === c.name) !== i) return `"${c.name}" is already the name of case ${cases.findIndex((o) => o.name === c.name) + 1}`
    return ''
  })
}

/** The first problem of the whole list, for blocking the save; null when it is fine. */
export function listError(cases: Case[]): string | null {
  if (!cases.length) return 'add at least one case'
  const names = nameErrors(cases)
  const i = names.findIndex(Boolean)
  if (i >= 0) return `case ${i + 1}: ${names[i]}`
  const e = cases.findIndex((c) => !c.expression.trim())
  return e >= 0 ? `case ${e + 1}: the case needs a condition` : null
}
