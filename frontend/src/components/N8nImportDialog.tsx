// "Import from n8n": the chosen n8n export is converted without creating anything first
// (POST /api/workflows/import-n8n with dry_run), the report shown (each node converted or
// not and why, expressions that could not be translated, credentials to fill in); "Create"
// then imports it as a new workflow, which the editor opens.
import { useEffect, useState } from 'react'
import { ApiError, type N8nReport } from '../lib/api'
import type { Workflow } from '../types'

export interface N8nApi {
  importN8n: (body: { workflow: unknown; dry_run?: boolean; name?: string }) => Promise<{ report: N8nReport; workflow?: Workflow }>
}

const STATUS_PILL: Record<string, string> = { converted: 'succeeded', not_converted: 'failed', dropped: 'skipped' }

function problemOf(e: unknown): string {
  if (e instanceof ApiError) {
    const errors = (e.body.errors || []).map((x) => `${x.path ? `${x.path}: ` : ''}${x.message}`)
    const field = typeof e.body.field === 'string' && e.body.field ? ` (${e.body.field})` : ''
    return [`${e.message}${field}`, ...errors].join('\n')
  }
  return (e as Error).message || String(e)
}

export default function N8nImportDialog({ fileName, data, api, onCreated, onClose }: {
  fileName: string; data: unknown; api: N8nApi; onCreated: (wf: Workflow) => void; onClose: () => void
}) {
  const [report, setReport] = useState<N8nReport | null>(null)
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(true)
  useEffect(() => {
    let alive = true
    api.importN8n({ workflow: data, dry_run: true })
      .then((r) => { if (alive) setReport(r.report) })
      .catch((e) => { if (alive) setError(problemOf(e)) })
      .finally(() => { if (alive) setBusy(false) })
    return () => { alive = false }
  }, [api, data])
  const create = async () => {
    setBusy(true)
    setError('')
    try {
      const r = await api.importN8n({ workflow: data })
      if (r.workflow) onCreated(r.workflow)
    } catch (e) {
      setError(problemOf(e))
      setBusy(false)
    }
  }
  const s = report?.summary
  const failedExpressions = (report?.expressions || []).filter((x) => x.wfaib == null)
  return (
    <div className="wf-modal-backdrop" onClick={(e) => { if (e.target === e.currentTarget) onClose() }}>
      <div className="wf-modal wf-n8n" role="dialog" aria-label="Import from n8n" data-testid="n8n-dialog">
        <h2>Import from n8n: {fileName}</h2>
        {busy && !report && <p className="wf-muted">Converting…</p>}
        {s && (
          <p data-testid="n8n-summary">
            {s.converted} of {s.nodes} nodes converted{s.not_converted ? `, ${s.not_converted} not converted` : ''}{s.dropped ? `, ${s.dropped} dropped` : ''}.
            {s.expressions ? ` ${s.expressions_converted} of ${s.expressions} expressions translated;` : ''}
            {s.credentials_to_fill_in ? ` ${s.credentials_to_fill_in} credential(s) to fill in.` : ''}
          </p>
        )}
        {report && (
          <table className="wf-n8n-nodes" data-testid="n8n-nodes">
            <thead><tr><th>n8n node</th><th>Result</th><th>Notes</th></tr></thead>
            <tbody>
              {report.nodes.map((n, i) => (
                <tr key={i} data-status={n.status} data-testid={`n8n-node-${i}`}>
                  <td><strong>{n.name}</strong><div className="wf-muted">{n.n8n_type}</div></td>
                  <td><span className={`wf-pill wf-pill-${STATUS_PILL[n.status] || 'skipped'}`}>{n.status.replace('_', ' ')}</span>{n.id && <div><code>{n.id}</code></div>}</td>
                  <td>{(n.notes || []).join(' ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {failedExpressions.length > 0 && (
          <details open data-testid="n8n-expressions">
            <summary>Expressions not translated ({failedExpressions.length})</summary>
            <ul>{failedExpressions.map((x, i) => <li key={i}><code>{String(x.n8n)}</code>{x.node ? <> in <strong>{String(x.node)}</strong></> : null}{x.reason ? `: ${String(x.reason)}` : ''}</li>)}</ul>
          </details>
        )}
        {(report?.credentials || []).length > 0 && (
          <details data-testid="n8n-credentials">
            <summary>Credentials to fill in ({report!.credentials.length})</summary>
            <ul>{report!.credentials.map((c, i) => <li key={i}>{Object.entries(c).map(([k, v]) => `${k}: ${String(v)}`).join(', ')}</li>)}</ul>
          </details>
        )}
        {(report?.notes || []).map((n, i) => <p key={i} className="wf-muted">{n}</p>)}
        {error && <pre className="wf-field-error wf-problem-list" data-testid="n8n-error">{error}</pre>}
        <div className="wf-modal-actions">
          <button type="button" className="button default" data-testid="n8n-create" disabled={busy || !report} onClick={() => void create()}>
            {busy && report ? 'Creating…' : 'Create workflow'}
          </button>
          <button type="button" className="button" onClick={onClose}>Cancel</button>
        </div>
      </div>
    </div>
  )
}
