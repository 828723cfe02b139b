// The properties form of one node, generated from its type's config JSON Schema.
// No node type is known here: strings, numbers, booleans, enums (selects), string maps
// (key/value rows) and anything else (a JSON text area) come from the schema alone.
// Fields marked "x-expression" are flagged as expression fields; secret fields
// ("x-secret" or format "password") are write-only: their stored value is never shown.
// Fields naming a stored credential ("x-credential": [kinds]) are a picker of the
// credentials of those kinds the user may use (GET /api/credentials?kind=...).
import { useEffect, useState } from 'react'
import { listOf } from './api.js'

// Resolve `anyOf: [X, {type: null}]` into X plus `nullable`, keeping the outer keywords.
export function resolveField(raw) {
  if (!Array.isArray(raw.anyOf)) return raw
  const { anyOf, ...outer } = raw
  const branches = anyOf.filter((b) => b.type !== 'null')
  const base = branches.length === 1 ? branches[0] : {}
  return { ...base, ...outer, nullable: branches.length < anyOf.length }
}

export function fieldKind(field, isSecret) {
  if (Array.isArray(field['x-credential'])) return 'credential'
  if (isSecret) return 'secret'
  if (Array.isArray(field.enum)) return 'select'
  if (field.type === 'boolean') return 'boolean'
  if (field.type === 'integer' || field.type === 'number') return 'number'
  if (field.type === 'string') {
    if (['textarea', 'expression'].includes(field.format)) return 'textarea'
    return 'text'
  }
  if (field.type === 'object' && field.additionalProperties
      && field.additionalProperties.type === 'string' && !field.properties) return 'map'
  return 'json'
}

function KeyValueField({ name, value, onChange, expression }) {
  const [rows, setRows] = useState(() => {
    const entries = Object.entries(value || {})
    return entries.length ? entries : [['', '']]
  })
  const emit = (next) => {
    setRows(next)
    const obj = {}
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
          <button type="button" className="wf-icon-btn" title="Remove"
            onClick={() => emit(rows.length > 1 ? rows.filter((_, j) => j !== i) : [['', '']])}>×</button>
        </div>
      ))}
      <button type="button" className="wf-link-btn" onClick={() => setRows([...rows, ['', '']])}>+ add</button>
    </div>
  )
}

function JsonField({ name, value, onChange, expression }) {
  const initial = value === undefined || value === null ? '' : (typeof value === 'string' && expression ? value : JSON.stringify(value, null, 2))
  const [text, setText] = useState(initial)
  const [error, setError] = useState('')
  const commit = () => {
    const t = text.trim()
    if (!t) { setError(''); onChange(undefined); return }
    try {
      onChange(JSON.parse(t))
      setError('')
    } catch {
      if (expression && t.includes('{{')) { setError(''); onChange(t); return }
      setError('not valid JSON')
    }
  }
  return (
    <>
      <textarea id={`f-${name}`} name={name} rows={4} spellCheck={false} className={expression ? 'wf-expr wf-mono' : 'wf-mono'}
        value={text} onChange={(e) => setText(e.target.value)} onBlur={commit}
        placeholder={expression ? 'JSON or {{ expression }}' : 'JSON'} />
      {error && <div className="wf-field-error">{error}</div>}
    </>
  )
}

function SecretField({ name, value, onChange }) {
  // The stored secret is never rendered; typing replaces it.
  const [typed, setTyped] = useState('')
  const isSet = typeof value === 'string' ? value !== '' : value != null
  return (
    <div className="wf-secret">
      <input id={`f-${name}`} name={name} type="password" autoComplete="new-password" value={typed}
        placeholder={isSet ? '•••••• (set; type to replace)' : 'not set'}
        onChange={(e) => { setTyped(e.target.value); onChange(e.target.value || (isSet ? value : undefined)) }} />
      {isSet && (
        <button type="button" className="wf-link-btn" onClick={() => { setTyped(''); onChange(undefined) }}>clear</button>
      )}
    </div>
  )
}

function CredentialField({ name, kinds, value, onChange, api }) {
  // A select of usable credentials (value: the id); a name or an expression typed before
  // stays selectable as it is.
  const [options, setOptions] = useState(null)
  const [failed, setFailed] = useState('')
  const kindKey = kinds.join(',')
  useEffect(() => {
    if (!api) return
    let alive = true
    api.credentials(kindKey.split(',')).then((data) => { if (alive) setOptions(listOf(data)) })
      .catch((e) => { if (alive) setFailed(e.message) })
    return () => { alive = false }
  }, [api, kindKey])
  const known = (options || []).some((c) => String(c.id) === String(value))
  return (
    <div className="wf-credential" data-testid={`credential-${name}`}>
      <select id={`f-${name}`} name={name} value={value ?? ''}
        onChange={(e) => {
          const v = e.target.value
          onChange(v === '' ? undefined : (/^\d+$/.test(v) ? parseInt(v, 10) : v))
        }}>
        <option value="">— none —</option>
        {value != null && value !== '' && !known && <option value={value}>{String(value)}</option>}
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

function Field({ name, field, required, value, onChange, isSecret, errors, api }) {
  const kind = fieldKind(field, isSecret)
  const expression = !!field['x-expression']
  const label = field.title || name
  let input
  const placeholder = field.default !== undefined && field.default !== null && field.default !== ''
    ? `default: ${typeof field.default === 'object' ? JSON.stringify(field.default) : field.default}`
    : (expression ? '{{ expression }} allowed' : '')
  if (kind === 'select') {
    input = (
      <select id={`f-${name}`} name={name} value={value ?? field.default ?? ''}
        onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)}>
        {!required && field.default === undefined && <option value="">—</option>}
        {field.enum.map((o) => <option key={String(o)} value={o}>{String(o)}</option>)}
      </select>
    )
  } else if (kind === 'boolean') {
    input = (
      <input id={`f-${name}`} name={name} type="checkbox" checked={value ?? field.default ?? false}
        onChange={(e) => onChange(e.target.checked)} />
    )
  } else if (kind === 'number') {
    input = (
      <input id={`f-${name}`} name={name} type="number" value={value ?? ''} placeholder={placeholder}
        step={field.type === 'integer' ? 1 : 'any'} min={field.minimum} max={field.maximum}
        onChange={(e) => {
          const v = e.target.value
          if (v === '') return onChange(undefined)
          const n = field.type === 'integer' ? parseInt(v, 10) : parseFloat(v)
          onChange(Number.isNaN(n) ? undefined : n)
        }} />
    )
  } else if (kind === 'text' || kind === 'textarea') {
    const props = {
      id: `f-${name}`, name, value: value ?? '', placeholder, spellCheck: false,
      className: expression ? 'wf-expr' : '',
      onChange: (e) => {
        const v = e.target.value
        onChange(v === '' && !required ? undefined : v)
      },
    }
    input = kind === 'textarea' ? <textarea rows={3} {...props} /> : <input type={field.format === 'uri' ? 'url' : 'text'} {...props} />
  } else if (kind === 'credential') {
    input = <CredentialField name={name} kinds={field['x-credential']} value={value}
      onChange={onChange} api={api} />
  } else if (kind === 'secret') {
    input = <SecretField name={name} value={value} onChange={onChange} />
  } else if (kind === 'map') {
    input = <KeyValueField name={name} value={value} onChange={onChange} expression={expression} />
  } else {
    input = <JsonField name={name} value={value} onChange={onChange} expression={expression} />
  }
  return (
    <div className={`wf-field wf-kind-${kind}${errors && errors.length ? ' wf-has-error' : ''}`} data-field={name}>
      <label htmlFor={`f-${name}`}>
        {label}{required && <span className="wf-required" title="required"> *</span>}
        {expression && <span className="wf-badge wf-badge-expr" title="Accepts {{ expressions }}">expr</span>}
        {kind === 'secret' && <span className="wf-badge" title="Never shown back">secret</span>}
      </label>
      {input}
      {field.description && <div className="wf-help">{field.description}</div>}
      {(errors || []).map((m, i) => (
        <div key={i} className="wf-field-error" data-testid={`field-error-${name}`}>{m}</div>
      ))}
    </div>
  )
}

export default function ConfigForm({ nodeId, typeInfo, config, onChange, errors, api }) {
  const schema = typeInfo.config_schema || {}
  const props = schema.properties || {}
  const required = new Set(schema.required || [])
  const secrets = new Set(typeInfo.secret_fields || [])
  const names = Object.keys(props)
  if (!names.length) return <p className="wf-muted">This node has no settings.</p>
  return (
    <div className="wf-form" data-testid="config-form">
      {names.map((name) => {
        const field = resolveField(props[name])
        const isSecret = secrets.has(name) || !!field['x-secret'] || field.format === 'password'
        return (
          <Field key={`${nodeId}:${name}`} name={name} field={field} required={required.has(name)}
            value={config[name]} isSecret={isSecret} errors={errors?.fields?.[name]} api={api}
            onChange={(v) => onChange(name, v)} />
        )
      })}
    </div>
  )
}
