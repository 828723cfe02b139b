// The live preview under an expression or template field: what the text evaluates to with the
// last run's data (POST /api/expressions/check with `run` and `node`), debounced while typing,
// or the error inline. Nothing runs outside the server's sandbox and nothing is stored.
import { useEffect, useState } from 'react'
import type { ExpressionCheck } from '../lib/api'

export type PreviewKind = 'template' | 'expression'
export type Preview = (text: string, kind: PreviewKind) => Promise<ExpressionCheck>

export const PREVIEW_DELAY_MS = 350

/** Whether a field's text is worth previewing: an expression field with any text, a
 * template field only once it holds `{{`. */
export function wantsPreview(text: unknown, kind: PreviewKind): text is string {
  if (typeof text !== 'string' || !text.trim()) return false
  return kind === 'expression' || text.includes('{{')
}

export function formatPreview(result: ExpressionCheck): string {
  if (result.truncated) return `${String(result.value)}…`
  return JSON.stringify(result.value)
}

type State = { status: 'idle' } | { status: 'busy' } | { status: 'done'; result: ExpressionCheck } | { status: 'failed'; message: string }

export default function ExpressionPreview({ name, text, kind, preview, hasRun }: {
  name: string; text: unknown; kind: PreviewKind; preview: Preview; hasRun: boolean
}) {
  const [state, setState] = useState<State>({ status: 'idle' })
  const show = wantsPreview(text, kind)
  useEffect(() => {
    if (!wantsPreview(text, kind)) { setState({ status: 'idle' }); return }
    let alive = true
    setState((s) => (s.status === 'idle' ? { status: 'busy' } : s))
    const timer = window.setTimeout(() => {
      preview(text, kind)
        .then((result) => { if (alive) setState({ status: 'done', result }) })
        .catch((e: Error) => { if (alive) setState({ status: 'failed', message: e.message }) })
    }, PREVIEW_DELAY_MS)
    return () => { alive = false; window.clearTimeout(timer) }
  }, [text, kind, preview])
  if (!show || state.status === 'idle') return null
  let body
  if (state.status === 'busy') body = <span className="wf-muted">…</span>
  else if (state.status === 'failed') body = <span className="wf-preview-error">preview unavailable: {state.message}</span>
  else if (!state.result.ok) body = <span className="wf-preview-error" data-testid={`preview-error-${name}`}>{state.result.error}</span>
  else {
    body = (
      <>
        <span className="wf-preview-type">{state.result.type}</span>
        <code className="wf-preview-value" data-testid={`preview-value-${name}`}>{formatPreview(state.result)}</code>
      </>
    )
  }
  return (
    <div className={`wf-preview${state.status === 'done' && !state.result.ok ? ' wf-preview-bad' : ''}`}
      data-testid={`preview-${name}`} data-state={state.status === 'done' ? (state.result.ok ? 'ok' : 'error') : state.status}
      aria-live="polite">
      <span className="wf-preview-label" title={hasRun ? 'With the last run’s data' : 'No run yet: input, trigger and nodes are empty'}>
        {hasRun ? 'Result (last run)' : 'Result (no run yet)'}
      </span>
      {body}
    </div>
  )
}
