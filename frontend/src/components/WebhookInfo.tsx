// The webhook trigger's addresses: the production URL (public; the workflow must be active;
// authenticated as its webhook_auth says) and the test URL (the runs API with your API token;
// works while the workflow is inactive), each with a copy button and a curl command.
import type { Workflow } from '../types'
import CopyButton from './CopyButton'

export function webhookCommands(workflow: Pick<Workflow, 'id' | 'webhook_url' | 'webhook_auth'>, origin: string) {
  const production = workflow.webhook_url || `${origin}/api/webhook/${workflow.id}`
  const test = `${origin}/api/workflows/${workflow.id}/runs`
  const auth = workflow.webhook_auth === 'token' ? " -H 'X-Webhook-Token: $WEBHOOK_TOKEN'"
    : workflow.webhook_auth === 'hmac' ? " -H 'webhook-id: ...' -H 'webhook-timestamp: ...' -H 'webhook-signature: ...'" : ''
  return {
    production,
    test,
    productionCurl: `curl -X POST '${production}' -H 'Content-Type: application/json'${auth} -d '{"hello": "world"}'`,
    testCurl: `curl -X POST '${test}' -H "Authorization: Token $WFAIB_TOKEN" -H 'Content-Type: application/json' -d '{"input": {"hello": "world"}}'`,
  }
}

export default function WebhookInfo({ workflow }: { workflow: Workflow | null }) {
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
        <span className="wf-url-label">Test</span>
        <code data-testid="webhook-test-url">{c.test}</code>
        <CopyButton text={c.test} label="Copy test URL" testId="copy-test-url" />
      </div>
      <p className="wf-help">Runs the saved version with your API token, also while the workflow is inactive.</p>
      <div className="wf-url-row">
        <span className="wf-url-label">curl</span>
        <code className="wf-curl" data-testid="webhook-curl">{c.productionCurl}</code>
        <CopyButton text={c.productionCurl} label="Copy curl command" testId="copy-curl" />
      </div>
      <div className="wf-url-row">
        <span className="wf-url-label">curl (test)</span>
        <code className="wf-curl" data-testid="webhook-test-curl">{c.testCurl}</code>
        <CopyButton text={c.testCurl} label="Copy test curl command" testId="copy-test-curl" />
      </div>
    </div>
  )
}
