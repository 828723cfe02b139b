// "Run": the input payload, and, when the workflow could not be saved first, why.
import type { ErrorMap } from '../types'

export function errorLines(errors: ErrorMap, invalid: Record<string, string>): string[] {
  const lines: string[] = []
  for (const e of errors.general) lines.push(`${e.path || 'workflow'}: ${e.message}`)
  for (const [id, e] of Object.entries(errors.nodes)) {
    for (const [f, ms] of Object.entries(e.fields)) for (const m of ms) lines.push(`${id}.${f}: ${m}`)
    for (const [f, ms] of Object.entries(e.settings)) for (const m of ms) lines.push(`${id}.settings.${f}: ${m}`)
    for (const m of e.other) lines.push(`${id}: ${m}`)
  }
  for (const [key, m] of Object.entries(invalid)) lines.push(`${key.replace('|config.', '.').replace('|', '.')}: ${m}`)
  return lines
}

export default function RunDialog({ name, value, onChange, error, problems, dirty, pinned = [], onStart, onClose }: {
  name: string; value: string; onChange: (v: string) => void; error: string; problems: string[]; dirty: boolean
  pinned?: string[]; onStart: () => void; onClose: () => void
}) {
  return (
    <div className="wf-modal-backdrop" onClick={(e) => { if (e.target === e.currentTarget) onClose() }}>
      <div className="wf-modal" role="dialog" aria-label="Run workflow" data-testid="run-dialog">
        <h2>Run {name}</h2>
        <label htmlFor="run-input">Input payload (JSON)</label>
        <textarea id="run-input" className="wf-mono" rows={8} value={value} spellCheck={false} onChange={(e) => onChange(e.target.value)} />
        {error && <div className="wf-field-error" data-testid="run-dialog-error">{error}</div>}
        {problems.length > 0 && (
          <ul className="wf-field-error wf-problem-list" data-testid="run-dialog-problems">
            {problems.map((p, i) => <li key={i}>{p}</li>)}
          </ul>
        )}
        {dirty && <p className="wf-muted">Unsaved changes are saved first.</p>}
        {pinned.length > 0 && (
          <p className="wf-muted" data-testid="run-dialog-pinned">
            A test run: {pinned.join(', ')} {pinned.length > 1 ? 'give their' : 'gives its'} pinned data instead of running.
          </p>
        )}
        <div className="wf-modal-actions">
          <button type="button" className="button default" onClick={onStart} data-testid="start-run">Start run</button>
          <button type="button" className="button" onClick={onClose}>Cancel</button>
        </div>
      </div>
    </div>
  )
}
