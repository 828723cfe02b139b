// The Switch node's cases (schema "x-cases"): one row per case, its name (the output port) and
// its condition (ConditionField: builder or expression, as on If), with add, remove and move
// up/down; or the raw JSON list, for a list the rows cannot hold. Controlled: every edit writes
// the same `cases` list the node runs; a bad list is named on its row and blocks saving.
import { ArrowDown, ArrowUp, X } from 'lucide-react'
import { useRef, useState } from 'react'
import { addCase, freshName, listError, MAX_CASES, moveCase, nameErrors, removeCase, toCases, type Case } from '../lib/cases'
import type { Scope, Shapes } from '../lib/completion'
import ConditionField from './ConditionField'

interface Props {
  id: string
  value: unknown
  onChange: (v: unknown) => void
  onInvalid: (m: string | null) => void
  scope: Scope
  shapes?: Shapes
  language: 'python' | 'javascript'
}

export default function CasesField({ id, value, onChange, onInvalid, scope, shapes, language }: Props) {
  const cases = toCases(value)
  const [raw, setRaw] = useState(cases === null)
  const [text, setText] = useState('')
  const [error, setError] = useState('')
  // Stable row keys, so a moved row keeps its condition's state (builder or expression).
  const next = useRef(0)
  const keys = useRef<number[]>([])
  const rows = cases || []
  while (keys.current.length < rows.length) keys.current.push(next.current++)
  keys.current.length = rows.length
  const emit = (list: Case[], order: number[]) => {
    keys.current = order
    onInvalid(listError(list))
    setError(listError(list) || '')
    onChange(list)
  }
  const names = nameErrors(rows)
  const toRaw = () => { setText(JSON.stringify(value ?? [], null, 2)); setError(''); setRaw(true) }
  const typed = (t: string) => {
    setText(t)
    let parsed: unknown
    try { parsed = JSON.parse(t) } catch (e) {
      const m = `not valid JSON: ${(e as Error).message}`
      setError(m); onInvalid(m); return
    }
    const list = toCases(parsed)
    const m = list ? listError(list) : null
    setError(m || ''); onInvalid(m); onChange(parsed)
  }
  return (
    <div className="wf-cases" data-testid={`cases-${id}`} data-mode={raw ? 'json' : 'rows'}>
      <div className="wf-cond-tabs" role="tablist" aria-label="Cases: rows or JSON">
        <button type="button" role="tab" aria-selected={!raw} data-testid="cases-mode-rows" disabled={raw && cases === null}
          title={cases === null ? 'This list is not of the rows\' shape: edit it as JSON' : 'Edit the cases as rows'}
          className={`wf-tab${raw ? '' : ' wf-tab-on'}`} onClick={() => { setRaw(false); setError(''); onInvalid(listError(rows)) }}>Cases</button>
        <button type="button" role="tab" aria-selected={raw} data-testid="cases-mode-json"
          className={`wf-tab${raw ? ' wf-tab-on' : ''}`} onClick={toRaw}>JSON</button>
      </div>
      {raw ? (
        <textarea id={id} rows={8} spellCheck={false} className="wf-mono" aria-label="Cases as JSON"
          value={text} aria-invalid={!!error} onChange={(e) => typed(e.target.value)} />
      ) : (
        <ol className="wf-case-list" id={id}>
          {rows.map((c, i) => (
            <li key={keys.current[i]} className="wf-case" data-testid={`case-${i}`}>
              <div className="wf-case-head">
                <input aria-label={`Case ${i + 1} name`} value={c.name} spellCheck={false} aria-invalid={!!names[i]}
                  placeholder="port name"
                  onChange={(e) => emit(rows.map((r, j) => (j === i ? { ...r, name: e.target.value } : r)), keys.current)} />
                <button type="button" className="wf-icon-btn" title="Move up" aria-label={`Move case ${i + 1} up`} disabled={i === 0}
                  onClick={() => emit(moveCase(rows, i, -1), moveCase(keys.current, i, -1))}><ArrowUp size={14} /></button>
                <button type="button" className="wf-icon-btn" title="Move down" aria-label={`Move case ${i + 1} down`} disabled={i === rows.length - 1}
                  onClick={() => emit(moveCase(rows, i, 1), moveCase(keys.current, i, 1))}><ArrowDown size={14} /></button>
                <button type="button" className="wf-icon-btn" title="Remove case" aria-label={`Remove case ${i + 1}`}
                  onClick={() => emit(removeCase(rows, i), removeCase(keys.current, i))}><X size={14} /></button>
              </div>
              {names[i] && <div className="wf-field-error" data-testid={`case-error-${i}`}>{names[i]}</div>}
              <ConditionField id={`${id}-${i}`} label={`Case ${i + 1} condition`} value={c.expression} language={language}
                scope={scope} shapes={shapes} placeholder="{{ input.kind == 'refund' }}"
                onChange={(v) => emit(rows.map((r, j) => (j === i ? { ...r, expression: v } : r)), keys.current)} />
            </li>
          ))}
        </ol>
      )}
      {!raw && (
        <button type="button" className="wf-link-btn" data-testid="case-add" disabled={rows.length >= MAX_CASES}
          onClick={() => emit(addCase(rows, { name: freshName(rows), expression: '' }), addCase(keys.current, next.current++))}>+ case</button>
      )}
      {error && <div className="wf-field-error" data-testid="cases-error">{error}</div>}
    </div>
  )
}
