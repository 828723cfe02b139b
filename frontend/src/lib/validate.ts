// Checks a field's value against its JSON Schema while the user types, so the common
// mistakes show at once instead of at save time (the server's validation stays the judge).
import type { JsonSchema } from '../types'

const isTemplate = (v: unknown) => typeof v === 'string' && v.includes('{{')

export function checkField(field: JsonSchema, value: unknown, required: boolean): string | null {
  if (value === undefined || value === null || value === '') {
    return required && field.default === undefined ? 'required' : null
  }
  if (isTemplate(value)) return null
  if ((field.type === 'integer' || field.type === 'number') && typeof value === 'number') {
    if (field.minimum !== undefined && value < field.minimum) return `must be at least ${field.minimum}`
    if (field.maximum !== undefined && value > field.maximum) return `must be at most ${field.maximum}`
  }
  if (field.type === 'string' && typeof value === 'string') {
    if (field.minLength !== undefined && value.length < field.minLength) return `must be at least ${field.minLength} characters`
    if (field.maxLength !== undefined && value.length > field.maxLength) return `must be at most ${field.maxLength} characters`
    if (field.format === 'uri' && !/^https?:\/\/[^\s/]+/i.test(value)) return 'not a valid URL (http:// or https://)'
    if (field.pattern) {
      try { if (!new RegExp(field.pattern).test(value)) return `does not match ${field.pattern}` } catch { /* the server checks */ }
    }
  }
  if (Array.isArray(field.enum) && !field.enum.includes(value)) return `must be one of ${field.enum.join(', ')}`
  return null
}
