// The properties form of one node, generated from its type's config JSON Schema.
// No node type is known here: strings, numbers, booleans, enums (selects), string maps
// (key/value rows) and anything else (a JSON text area) come from the schema alone.
// Fields marked "x-expression" are flagged as expression fields ("x-condition" ones, true or
// false, get the condition builder beside the raw expression; "x-cases", a Switch's cases, get
// case rows beside the raw JSON list); secret fields
// ("x-secret" or format "password") are write-only: their stored value is never shown.
// Fields naming a stored credential ("x-credential": [kinds]) are a picker of the
// credentials of those kinds the user may use (GET /api/credentials?kind=...).
// Element ids carry the form's id (config and settings forms both have a `timeout`).
import { X } from 'lucide-react'
import { useEffect, useState } from 'react'
import { listOf, type CredentialOption } from '../lib/api'
import type { Scope, Shapes } from '../lib/completion'
import { humanLabel } from '../lib/labels'
import { checkField } from '../lib/validate'
import type { Config, JsonSchema } from '../types'
import CasesField from './CasesField'
import CodeField from './CodeField'
import ConditionField from './ConditionField'
import ExpressionPreview, { type Preview } from './ExpressionPreview'

export function resolveField(raw: JsonSchema): JsonSchema {
  if (!Array.isArray(raw.anyOf)) return raw
  const { anyOf, ...outer } = raw
  const branches = anyOf.filter((b) => b.type !== 'null')
  const base = branches.length === 1 ? branches[0] : {}
  return { ...base, ...outer, nullable: branches.length < anyOf.length }
}

export type FieldKind = 'credential' | 'secret' | 'select' | 'boolean' | 'number' | 'textarea' | 'text' | 'map' | 'json' | 'code' | 'condition' | 'cases'
export function fieldKind(field: JsonSchema, isSecret: boolean): FieldKind {
  if (Array.isArray(field['x-credential'])) return 'credential'
  if (field['x-cases'] && field.type === 'array') return 'cases'
  if (isSecret) return 'secret'
  if (Array.isArray(field.enum)) return 'select'
  if (field.type === 'boolean') return 'boolean'
  if (field.type === 'integer' || field.type === 'number') return 'number'
  if (field.type === 'string') {
    if (field['x-condition']) return 'condition'
    if (field.format === 'code' || (field.format === 'expression' && field['x-expression'])) return 'code'
    return ['textarea', 'expression'].includes(field.format || '') ? 'textarea' : 'text'
  }
  const ap = field.additionalProperties
  if (field.type === 'object' && ap && typeof ap === 'object' && ap.type === 'string' && !field.properties) return 'map'
  return 'json'
}

type Change = (value: unknown) => void

function KeyValueField({ name, value, onChange, expression }: { name: string; value: unknown; onChange: Change; expression: boolean }) {
  const [rows, setRows] = useState<[string, string][]>(() => {
    const entries = Object.entries((value as Record<string, string>) || {})
    return entries.length ? entries : [['', '']]
  })
  const emit = (next: [string, string][]) => {
    setRows(next)
    const obj: Record<string, string> = {}
    for (const [k, v] of next) if (k) obj[k] = v
    onChange(Object.keys(obj).length ? obj : undefined)
  }
  return (
    <div className="wf-kv" data-testid={`kv-${name}`}>
      {rows.map(([k, v], i) => (
        <div className="wf-kv-row" key={i}>
          <input aria-label={`${name} key ${i + 1}`} placeholder="key" value={k}
            onChange={(e) => emit(rows.map((r, j) => (j === i ? [e.target.value, r[1]] : r)))} />
          <input aria-label={`${name} value ${i + 1}`} placeholder={expression ? 'value or {{ expression }}' : 'value'}
            className={expression ? 'wf-expr' : ''} value={v}
            onChange={(e) => emit(rows.map((r, j) => (j === i ? [r[0], e.target.value] : r)))} />
          <button type="button" className="wf-icon-btn" title="Remove" aria-label={`Remove ${name} row ${i + 1}`}
            onClick={() => emit(rows.length > 1 ? rows.filter((_, j) => j !== i) : [['', '']])}><X size={14} /></button>
        </div>
      ))}
      <button type="button" className="wf-link-btn" onClick={() => setRows([...rows, ['', '']])}>+ add</button>
    </div>
  )
}

function JsonField({ id, name, value, onChange, onInvalid, expression }: {
  id: string; name: string; value: unknown; onChange: Change; onInvalid: (m: string | null) => void; expression: boolean
}) {
  const initial = value === undefined || value === null ? '' : (typeof value === 'string' && expression ? value : JSON.stringify(value, null, 2))
  const [text, setText] = useState(initial)
  const [error, setError] = useState('')
  // Checked on every keystroke: invalid JSON is shown at once and blocks saving (the old
  // value is never kept silently).
  const check = (t: string) => {
    const s = t.trim()
    if (!s) { setError(''); onInvalid(null); onChange(undefined); return }
    try {
      onChange(JSON.parse(s))
      setError(''); onInvalid(null)
    } catch (e) {
      if (expression && s.includes('{{')) { setError(''); onInvalid(null); onChange(s); return }
      const message = `not valid JSON: ${(e as Error).message}`
      setError(message); onInvalid(message)
    }
  }
  return (
    <>
      <textarea id={id} name={name} rows={4} spellCheck={false} className={expression ? 'wf-expr wf-mono' : 'wf-mono'}
        value={text} aria-invalid={!!error} onChange={(e) => { setText(e.target.value); check(e.target.value) }}
        placeholder={expression ? 'JSON or {{ expression }}' : 'JSON'} />
      {error && <div className="wf-field-error" data-testid={`json-error-${name}`}>{error}</div>}
    </>
  )
}

function SecretField({ id, name, value, onChange }: { id: string; name: string; value: unknown; onChange: Change }) {
  const [typed, setTyped] = useState('')
  const isSet = typeof value === 'string' ? value !== '' : value != null
  return (
    <div className="wf-secret">
      <input id={id} name={name} type="password" autoComplete="new-password" value={typed}
        placeholder={isSet ? '•••••• (set; type to replace)' : 'not set'}
        onChange={(e) => { setTyped(e.target.value); onChange(e.target.value || (isSet ? value : undefined)) }} />
      {isSet && <button type="button" className="wf-link-btn" onClick={() => { setTyped(''); onChange(undefined) }}>clear</button>}
    </div>
  )
}

export type LoadCredentials = (kinds: string[]) => Promise<unknown>

function CredentialField({ id, name, kinds, value, onChange, load }: {
  id: string; name: string; kinds: string[]; value: unknown; onChange: Change; load?: LoadCredentials
}) {
  // A select of usable credentials (value: the id); a name or an expression typed before
  // stays selectable as it is.
  const [options, setOptions] = useState<CredentialOption[] | null>(null)
  const [failed, setFailed] = useState('')
  const kindKey = kinds.join(',')
  useEffect(() => {
    if (!load) return
    let alive = true
    load(kindKey.split(','))
      .then((data) => { if (alive) setOptions(listOf(data as CredentialOption[])) })
      .catch((e: Error) => { if (alive) setFailed(e.message) })
    return () => { alive = false }
  }, [load, kindKey])
  const known = (options || []).some((c) => String(c.id) === String(value))
  return (
    <div className="wf-credential" data-testid={`credential-${name}`}>
      <select id={id} name={name} value={value == null ? '' : String(value)}
        onChange={(e) => {
          const v = e.target.value
          onChange(v === '' ? undefined : (/^\d+$/.test(v) ? parseInt(v, 10) : v))
        }}>
        <option value="">— none —</option>
        {value != null && value !== '' && !known && <option value={String(value)}>{String(value)}</option>}
        {(options || []).map((c) => (
          <option key={c.id} value={c.id}>{c.name} ({c.kind})</option>
        ))}
      </select>
      {options && !options.length && (
        <div className="wf-help">No credential of kind {kinds.join(' or ')} yet: add one in the admin (Credentials).</div>
      )}
      {failed && <div className="wf-field-error">{failed}</div>}
    </div>
  )
}

interface FieldProps {
  id: string; name: string; field: JsonSchema; required: boolean; value: unknown; isSecret: boolean
  scope: Scope; shapes?: Shapes; language: 'python' | 'javascript'
  errors?: string[]; onChange: Change; onInvalid: (m: string | null) => void
  loadCredentials?: LoadCredentials
  preview?: Preview
}

function Field({ id, name, field, required, value, onChange, onInvalid, isSecret, errors, scope, shapes, language, loadCredentials, preview }: FieldProps) {
  const kind = fieldKind(field, isSecret)
  const expression = !!field['x-expression']
  const label = humanLabel(field.title, name)
  const [touched, setTouched] = useState(false)
  const change: Change = (v) => { setTouched(true); onChange(v) }
  const inline = touched && kind !== 'json' && kind !== 'secret' && kind !== 'cases' ? checkField(field, value, required) : null
  const hasDefault = field.default !== undefined && field.default !== null && field.default !== ''
  const placeholder = hasDefault
    ? `default: ${typeof field.default === 'object' ? JSON.stringify(field.default) : String(field.default)}`
    : (expression ? '{{ expression }} allowed' : '')
  let input
  if (kind === 'select') {
    input = (
      <select id={id} name={name} value={String(value ?? field.default ?? '')}
        onChange={(e) => change(e.target.value === '' ? undefined : e.target.value)}>
        {!required && field.default === undefined && <option value="">—</option>}
        {field.enum!.map((o) => <option key={String(o)} value={String(o)}>{String(o)}</option>)}
      </select>
    )
  } else if (kind === 'boolean') {
    input = <input id={id} name={name} type="checkbox" checked={Boolean(value ?? field.default ?? false)} onChange={(e) => change(e.target.checked)} />
  } else if (kind === 'number') {
    input = (
      <input id={id} name={name} type="number" value={value === undefined || value === null ? '' : String(value)} placeholder={placeholder}
        step={field.type === 'integer' ? 1 : 'any'} min={field.minimum} max={field.maximum}
        onChange={(e) => {
          const v = e.target.value
          if (v === '') return change(undefined)
          const n = field.type === 'integer' ? parseInt(v, 10) : parseFloat(v)
          change(Number.isNaN(n) ? undefined : n)
        }} />
    )
  } else if (kind === 'text' || kind === 'textarea') {
    const props = {
      id, name, value: typeof value === 'string' ? value : (value == null ? '' : JSON.stringify(value)), placeholder, spellCheck: false,
      className: expression ? 'wf-expr' : '', 'aria-invalid': !!inline,
      onChange: (e: { target: { value: string } }) => change(e.target.value === '' && !required ? undefined : e.target.value),
    }
    input = kind === 'textarea' ? <textarea rows={3} {...props} /> : <input type={field.format === 'uri' ? 'url' : 'text'} {...props} />
  } else if (kind === 'code') {
    input = (
      <CodeField id={id} label={label} value={typeof value === 'string' ? value : ''} code={field.format === 'code'}
        language={language} scope={scope} shapes={shapes} placeholder={placeholder}
        onChange={(v) => change(v === '' && !required ? undefined : v)} />
    )
  } else if (kind === 'condition') {
    input = (
      <ConditionField id={id} label={label} value={typeof value === 'string' ? value : ''} language={language} scope={scope} shapes={shapes}
        placeholder={placeholder} onChange={(v) => change(v === '' && !required ? undefined : v)} />
    )
  } else if (kind === 'cases') {
    input = <CasesField id={id} value={value} onChange={change} onInvalid={onInvalid} scope={scope} shapes={shapes} language={language} />
  } else if (kind === 'credential') {
    input = <CredentialField id={id} name={name} kinds={field['x-credential'] as string[]} value={value}
      onChange={change} load={loadCredentials} />
  } else if (kind === 'secret') {
    input = <SecretField id={id} name={name} value={value} onChange={change} />
  } else if (kind === 'map') {
    input = <KeyValueField name={name} value={value} onChange={change} expression={expression} />
  } else {
    input = <JsonField id={id} name={name} value={value} onChange={change} onInvalid={onInvalid} expression={expression} />
  }
  const shown = [...(inline ? [inline] : []), ...(errors || []).filter((m) => m !== inline)]
  return (
    <div className={`wf-field wf-kind-${kind}${shown.length ? ' wf-has-error' : ''}`} data-field={name}>
      <label htmlFor={id}>
        {label}{required && <span className="wf-required" title="required"> *</span>}
        {expression && <span className="wf-badge wf-badge-expr" title="Accepts {{ expressions }}">expr</span>}
        {kind === 'secret' && <span className="wf-badge" title="Never shown back">secret</span>}
      </label>
      {input}
      {preview && expression && (kind === 'code' || kind === 'condition' || kind === 'text' || kind === 'textarea') && field.format !== 'code' && (
        <ExpressionPreview name={name} text={value} kind={field.format === 'expression' ? 'expression' : 'template'}
          preview={preview} hasRun={Object.keys(scope).length > 0} />
      )}
      {field.description && <div className="wf-help">{field.description}</div>}
      {inline && <div className="wf-field-error" data-testid={`field-check-${name}`}>{inline}</div>}
      {(errors || []).filter((m) => m !== inline).map((m, i) => (
        <div key={i} className="wf-field-error" data-testid={`field-error-${name}`}>{m}</div>
      ))}
    </div>
  )
}

export interface ConfigFormProps {
  formId: string
  nodeId: string
  schema: JsonSchema
  secretFields?: string[]
  config: Config
  errors?: Record<string, string[]>
  onChange: (field: string, value: unknown) => void
  onInvalid?: (field: string, message: string | null) => void
  /** The last run's data, for completing expressions. */
  scope?: Scope
  /** What the graph declares before a run, for completing expressions. */
  shapes?: Shapes
  /** Lists the credentials of some kinds the user may use (the picker's options). */
  loadCredentials?: LoadCredentials
  /** Evaluates an expression field's text for its live preview. */
  preview?: Preview
}

export default function ConfigForm({ formId, nodeId, schema, secretFields, config, onChange, onInvalid, errors, scope, shapes, loadCredentials, preview }: ConfigFormProps) {
  const props = schema.properties || {}
  const required = new Set(schema.required || [])
  const secrets = new Set(secretFields || [])
  const names = Object.keys(props)
  if (!names.length) return <p className="wf-muted">This node has no settings.</p>
  return (
    <div className="wf-form" data-testid="config-form">
      {names.map((name) => {
        const field = resolveField(props[name])
        const isSecret = secrets.has(name) || !!field['x-secret'] || field.format === 'password'
        return (
          <Field key={`${nodeId}:${name}`} id={`${formId}-${name}`} name={name} field={field} required={required.has(name)}
            value={config[name]} isSecret={isSecret} errors={errors?.[name]} scope={scope || {}} shapes={shapes}
            language={config.language === 'javascript' || (config.language === undefined && field['x-language'] === 'javascript') ? 'javascript' : 'python'}
            loadCredentials={loadCredentials} preview={preview}
            onChange={(v) => onChange(name, v)} onInvalid={(m) => onInvalid?.(name, m)} />
        )
      })}
    </div>
  )
}
