// The webhook trigger's addresses: the production URL (public; the workflow must be active;
// authenticated as its webhook_auth says; `/hook/<path>` once a custom path is set), the test
// URL (`/hook/test/<id or path>`: one call is captured while the editor listens, no run
// starts) and the runs API (your API token; also while inactive), each with a copy button
// and a curl command. The custom path is saved at once (PATCH webhook_path), apart from the
// graph's undo history.
import { Radio } from 'lucide-react'
import { useEffect, useRef, useState } from 'react'
import { ApiError, type TestEvent } from '../lib/api'
import type { Workflow } from '../types'
import CopyButton from './CopyButton'
import JsonView from './JsonView'

export const LISTEN_POLL_MS = 1000

export interface WebhookApi {
  patchWorkflow: (id: number, data: object) => Promise<Workflow>
  listen: (id: number) => Promise<TestEvent>
  testEvent: (id: number) => Promise<TestEvent>
}

type Pick2 = Pick<Workflow, 'id' | 'webhook_url' | 'webhook_auth' | 'webhook_path'>

export function webhookCommands(workflow: Pick2, origin: string) {
  const path = workflow.webhook_path || ''
  const production = path ? `${origin}/hook/${path}` : (workflow.webhook_url || `${origin}/api/webhook/${workflow.id}`)
  const listen = `${origin}/hook/test/${path || workflow.id}`
  const test = `${origin}/api/workflows/${workflow.id}/runs`
  const auth = workflow.webhook_auth === 'token' ? " -H 'X-Webhook-Token: $WEBHOOK_TOKEN'"
    : workflow.webhook_auth === 'hmac' ? " -H 'webhook-id: ...' -H 'webhook-timestamp: ...' -H 'webhook-signature: ...'" : ''
  return {
    production,
    listen,
    test,
    productionCurl: `curl -X POST '${production}' -H 'Content-Type: application/json'${auth} -d '{"hello": "world"}'`,
    listenCurl: `curl -X POST '${listen}' -H 'Content-Type: application/json'${auth} -d '{"hello": "world"}'`,
    testCurl: `curl -X POST '${test}' -H "Authorization: Token $WFAIB_TOKEN" -H 'Content-Type: application/json' -d '{"input": {"hello": "world"}}'`,
  }
}

function PathField({ workflow, api, onSaved }: { workflow: Workflow; api?: WebhookApi; onSaved?: (wf: Workflow) => void }) {
  const [text, setText] = useState(workflow.webhook_path || '')
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  useEffect(() => { setText(workflow.webhook_path || '') }, [workflow.webhook_path])
  const dirty = text.trim() !== (workflow.webhook_path || '')
  const save = async () => {
    if (!api) return
    setBusy(true)
    try {
      const wf = await api.patchWorkflow(workflow.id, { webhook_path: text.trim() || null })
      setError('')
      onSaved?.(wf)
    } catch (e) {
      const body = e instanceof ApiError ? e.body : {}
      const named = (body as Record<string, unknown>).webhook_path
      setError(Array.isArray(named) ? String(named[0]) : ((e as Error).message || 'not saved'))
    } finally {
      setBusy(false)
    }
  }
  return (
    <div className="wf-field" data-field="webhook_path">
      <label htmlFor="webhook-path">Custom path</label>
      <div className="wf-url-row">
        <span className="wf-url-label">/hook/</span>
        <input id="webhook-path" data-testid="webhook-path" value={text} placeholder={String(workflow.id)} spellCheck={false}
          aria-invalid={!!error} onChange={(e) => { setText(e.target.value); setError('') }}
          onKeyDown={(e) => { if (e.key === 'Enter' && dirty) { e.preventDefault(); void save() } }} />
        <button type="button" className="button" data-testid="save-webhook-path" disabled={!dirty || busy || !api} onClick={() => void save()}>Save path</button>
      </div>
      {error ? <div className="wf-field-error" data-testid="webhook-path-error">{error}</div>
        : <div className="wf-help">Lower-case letters, digits and hyphens; empty: the workflow’s id. Saved at once.</div>}
    </div>
  )
}

function Listener({ workflow, api }: { workflow: Workflow; api?: WebhookApi }) {
  const [state, setState] = useState<TestEvent | null>(null)
  const [error, setError] = useState('')
  const timer = useRef<number | undefined>(undefined)
  useEffect(() => () => window.clearTimeout(timer.current), [])
  const poll = () => {
    if (!api) return
    api.testEvent(workflow.id).then((s) => {
      setState(s)
      if (s.status === 'listening') timer.current = window.setTimeout(poll, LISTEN_POLL_MS)
    }).catch((e: Error) => setError(e.message))
  }
  const start = async () => {
    if (!api) return
    window.clearTimeout(timer.current)
    setError('')
    try {
      setState(await api.listen(workflow.id))
      timer.current = window.setTimeout(poll, LISTEN_POLL_MS)
    } catch (e) {
      setError((e as Error).message)
    }
  }
  const stop = () => { window.clearTimeout(timer.current); setState(null) }
  const status = state?.status || 'idle'
  return (
    <div className="wf-listen" data-testid="webhook-listen" data-status={status}>
      <div className="wf-url-row">
        {status === 'listening' ? (
          <>
            <span className="wf-listening" data-testid="listening"><Radio size={14} /> Listening… call the test URL now (2 minutes).</span>
            <button type="button" className="button" onClick={stop}>Stop</button>
          </>
        ) : (
          <button type="button" className="button" data-testid="listen" disabled={!api} onClick={() => void start()}>
            {status === 'captured' ? 'Listen again' : 'Listen for a test event'}
          </button>
        )}
      </div>
      {status === 'idle' && state && <p className="wf-muted" data-testid="listen-expired">Nothing arrived; listening stopped.</p>}
      {error && <div className="wf-field-error">{error}</div>}
      {state?.status === 'captured' && state.event && (
        <div className="wf-captured" data-testid="test-event">
          <p className="wf-muted"><strong>{state.event.method}</strong> received {state.received_at ? new Date(state.received_at).toLocaleTimeString() : ''}: the run’s input would be</p>
          <JsonView value={state.event.input} testId="test-event-input" />
          <details><summary>Headers and query</summary><JsonView value={{ headers: state.event.headers, query: state.event.query }} /></details>
        </div>
      )}
    </div>
  )
}

export default function WebhookInfo({ workflow, api, onSaved }: { workflow: Workflow | null; api?: WebhookApi; onSaved?: (wf: Workflow) => void }) {
  if (!workflow) {
    return <div className="wf-webhook" data-testid="webhook-info"><p className="wf-muted">Save the workflow to get its webhook URLs.</p></div>
  }
  const c = webhookCommands(workflow, window.location.origin)
  return (
    <div className="wf-webhook" data-testid="webhook-info">
      <h3>Webhook URLs</h3>
      <div className="wf-url-row">
        <span className="wf-url-label">Production</span>
        <code data-testid="webhook-production-url">{c.production}</code>
        <CopyButton text={c.production} label="Copy production URL" testId="copy-production-url" />
      </div>
      <p className="wf-help">
        {workflow.is_active ? 'Active: ' : <><strong>Inactive</strong>: activate the workflow for this URL to answer; </>}
        authentication: {workflow.webhook_auth || 'none'}.
      </p>
      <div className="wf-url-row">
        <span className="wf-url-label">curl</span>
        <code className="wf-curl" data-testid="webhook-curl">{c.productionCurl}</code>
        <CopyButton text={c.productionCurl} label="Copy curl command" testId="copy-curl" />
      </div>
      <PathField workflow={workflow} api={api} onSaved={onSaved} />
      <h3>Test event</h3>
      <div className="wf-url-row">
        <span className="wf-url-label">Test URL</span>
        <code data-testid="webhook-listen-url">{c.listen}</code>
        <CopyButton text={c.listen} label="Copy test URL" testId="copy-listen-url" />
      </div>
      <div className="wf-url-row">
        <span className="wf-url-label">curl (test)</span>
        <code className="wf-curl" data-testid="webhook-listen-curl">{c.listenCurl}</code>
        <CopyButton text={c.listenCurl} label="Copy test curl command" testId="copy-listen-curl" />
      </div>
      <p className="wf-help">While listening, one call is captured and shown here; no run starts.</p>
      <Listener workflow={workflow} api={api} />
      <h3>Runs API</h3>
      <div className="wf-url-row">
        <span className="wf-url-label">API</span>
        <code data-testid="webhook-test-url">{c.test}</code>
        <CopyButton text={c.test} label="Copy runs API URL" testId="copy-test-url" />
      </div>
      <p className="wf-help">Runs the saved version with your API token, also while the workflow is inactive.</p>
      <div className="wf-url-row">
        <span className="wf-url-label">curl (API)</span>
        <code className="wf-curl" data-testid="webhook-test-curl">{c.testCurl}</code>
        <CopyButton text={c.testCurl} label="Copy API curl command" testId="copy-test-curl" />
      </div>
    </div>
  )
}
