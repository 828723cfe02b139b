// A true/false expression field (schema "x-condition": If, Switch cases, Loop's break_if) as
// n8n shows it: a builder of (field, operator, value) rows joined by AND or OR, or the raw
// `{{ }}` expression, switched by two tabs. The builder writes the ordinary expression
// (lib/condition.ts) and reads back one of its shape; any other expression stays raw.
import { X } from 'lucide-react'
import { useState } from 'react'
import type { Scope, Shapes } from '../lib/completion'
import { fromExpression, OP_INFO, OPERATORS, toExpression, type Group, type Op, type Rule } from '../lib/condition'
import { PATH_MIME } from './JsonTree'
import CodeField from './CodeField'

interface Props {
  id: string
  label: string
  value: string
  onChange: (v: string) => void
  scope: Scope
  shapes?: Shapes
  language: 'python' | 'javascript'
  placeholder?: string
}

const KIND_LABEL = { string: 'Text', number: 'Number', boolean: 'Boolean', any: 'Any value' }
const EMPTY_RULE: Rule = { field: '', op: 'equals', value: '' }

export default function ConditionField({ id, label, value, onChange, scope, shapes, language, placeholder }: Props) {
  const parsed = fromExpression(value)
  const [mode, setMode] = useState<'builder' | 'expression'>(parsed ? 'builder' : 'expression')
  // The rows as typed (a row may be unfinished, so the expression cannot hold them).
  const [group, setGroup] = useState<Group>(() => (parsed?.rules.length ? parsed : { combinator: 'and', rules: [{ ...EMPTY_RULE }] }))
  // No row filled in: the field is empty (an optional field stays unset), and no error shows.
  const blank = (g: Group) => g.rules.every((r) => !r.field.trim() && !r.value)
  const result = blank(group) ? { error: '', row: -1 } : toExpression(group)
  const update = (next: Group) => {
    setGroup(next)
    const r = toExpression(next)
    if ('expression' in r) onChange(r.expression)
    else if (blank(next)) onChange('')
  }
  const setRule = (i: number, patch: Partial<Rule>) => update({ ...group, rules: group.rules.map((r, j) => (j === i ? { ...r, ...patch } : r)) })
  const toBuilder = () => {
    const g = fromExpression(value)
    if (!g) return
    if (g.rules.length) setGroup(g)
    setMode('builder')
  }
  return (
    <div className="wf-condition" data-testid={`condition-${id}`} data-mode={mode}>
      <div className="wf-cond-tabs" role="tablist" aria-label={`${label}: builder or expression`}>
        <button type="button" role="tab" aria-selected={mode === 'builder'} data-testid="cond-mode-builder"
          className={`wf-tab${mode === 'builder' ? ' wf-tab-on' : ''}`} disabled={!parsed && mode !== 'builder'}
          title={parsed ? 'Build the condition from rows' : 'This expression is not of the builder\'s shape: edit it as an expression'}
          onClick={toBuilder}>Builder</button>
        <button type="button" role="tab" aria-selected={mode === 'expression'} data-testid="cond-mode-expression"
          className={`wf-tab${mode === 'expression' ? ' wf-tab-on' : ''}`} onClick={() => setMode('expression')}>Expression</button>
      </div>
      {mode === 'expression' ? (
        <CodeField id={id} label={label} value={value} code={false} language={language} scope={scope} shapes={shapes}
          placeholder={placeholder} onChange={onChange} />
      ) : (
        <div className="wf-cond-builder" id={id}>
          {group.rules.map((rule, i) => {
            const info = OP_INFO[rule.op]
            const rowError = 'error' in result && result.row === i ? result.error : ''
            return (
              <div key={i} className="wf-cond-row" data-testid={`cond-row-${i}`}>
                {i > 0 && <span className="wf-cond-join" aria-hidden>{group.combinator.toUpperCase()}</span>}
                <input aria-label={`Condition ${i + 1} field`} placeholder="input.total" className="wf-expr" value={rule.field}
                  spellCheck={false} aria-invalid={!!rowError} title="A field path; a pasted {{ path }} is taken as the path"
                  onDragOver={(e) => { if (e.dataTransfer.types.includes(PATH_MIME)) e.preventDefault() }}
                  onDrop={(e) => {
                    const path = e.dataTransfer.getData(PATH_MIME)
                    if (path) { e.preventDefault(); setRule(i, { field: path }) }
                  }}
                  onChange={(e) => setRule(i, { field: e.target.value.replace(/^\s*\{\{\s*([\s\S]*?)\s*\}\}\s*$/, '$1') })} />
                <select aria-label={`Condition ${i + 1} operator`} value={rule.op}
                  onChange={(e) => setRule(i, { op: e.target.value as Op })}>
                  {(['string', 'number', 'boolean', 'any'] as const).map((kind) => (
                    <optgroup key={kind} label={KIND_LABEL[kind]}>
                      {OPERATORS.filter((o) => o.kind === kind).map((o) => (
                        <option key={o.op} value={o.op}>{kind === 'number' ? `number ${o.label}` : o.label}</option>
                      ))}
                    </optgroup>
                  ))}
                </select>
                {!info.unary && (
                  <input aria-label={`Condition ${i + 1} value`} value={rule.value} spellCheck={false}
                    inputMode={info.kind === 'number' ? 'decimal' : undefined}
                    placeholder={info.kind === 'number' ? '100' : 'text (taken literally)'}
                    onChange={(e) => setRule(i, { value: e.target.value })} />
                )}
                <button type="button" className="wf-icon-btn" title="Remove condition" aria-label={`Remove condition ${i + 1}`}
                  onClick={() => update({ ...group, rules: group.rules.length > 1 ? group.rules.filter((_, j) => j !== i) : [{ ...EMPTY_RULE }] })}>
                  <X size={14} />
                </button>
                {rowError && <div className="wf-field-error wf-cond-error" data-testid={`cond-error-${i}`}>{rowError}</div>}
              </div>
            )
          })}
          <div className="wf-cond-actions">
            <button type="button" className="wf-link-btn" data-testid="cond-add"
              onClick={() => setGroup({ ...group, rules: [...group.rules, { ...EMPTY_RULE }] })}>+ condition</button>
            {group.rules.length > 1 && (
              <label className="wf-cond-combinator">match
                <select aria-label="Combine conditions" data-testid="cond-combinator" value={group.combinator}
                  onChange={(e) => update({ ...group, combinator: e.target.value as 'and' | 'or' })}>
                  <option value="and">all (AND)</option>
                  <option value="or">any (OR)</option>
                </select>
              </label>
            )}
          </div>
          <div className="wf-cond-expression">
            <span className="wf-muted">expression</span>{' '}
            <code data-testid="cond-expression">{'expression' in result ? result.expression : value || '—'}</code>
          </div>
        </div>
      )}
    </div>
  )
}
