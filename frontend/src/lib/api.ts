// Talks to WFAIB's REST API with the admin session cookie and the CSRF token.
// Every failure becomes an ApiError carrying the HTTP status and the JSON error body
// ({code, message, ...}) so callers can react to 400 (validation) and 409 (conflict).
import type { EditorConfig, Json, NodeTypeInfo, PartialAnswer, Pin, Run, TestRun, Workflow } from '../types'

export interface ErrorBody { code?: string; message?: string; errors?: { path?: string; message: string }[]; current_version?: number; [k: string]: unknown }

export interface ExpressionCheck { ok: boolean; kind: string; error: string | null; value: unknown; type: string | null; truncated: boolean }
export interface ExpressionCheckBody { expression: string; kind: 'template' | 'expression'; run?: number; node?: string; workflow?: number }

export interface TestEvent { status: 'idle' | 'listening' | 'captured'; event: { method: string; query: unknown; headers: unknown; input: unknown } | null; until: string | null; received_at: string | null }

export interface N8nReport {
  summary: { nodes: number; converted: number; not_converted: number; dropped: number; expressions: number; expressions_converted: number; expressions_not_converted: number; credentials_to_fill_in: number }
  nodes: { name: string; n8n_type: string; id: string | null; status: string; notes: string[] }[]
  expressions: { wfaib: unknown; n8n?: unknown; node?: unknown; reason?: unknown; [k: string]: unknown }[]
  credentials: Record<string, unknown>[]
  notes: string[]
}

export interface CredentialOption { id: number; name: string; kind: string }

export class ApiError extends Error {
  status: number
  body: ErrorBody
  constructor(status: number, body: ErrorBody | null) {
    super((body && body.message) || `HTTP ${status}`)
    this.status = status
    this.body = body || {}
  }
}

type Paged<T> = T[] | { results: T[] }
export const listOf = <T>(data: Paged<T> | null | undefined): T[] =>
  (Array.isArray(data) ? data : (data && data.results) || [])

export function makeApi({ apiBase, csrfToken }: Pick<EditorConfig, 'apiBase' | 'csrfToken'>) {
  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    if (method !== 'GET') headers['X-CSRFToken'] = csrfToken
    const response = await fetch(apiBase + path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    let data: unknown = null
    const text = await response.text()
    if (text) {
      try { data = JSON.parse(text) } catch { data = { message: text.slice(0, 300) } }
    }
    if (!response.ok) throw new ApiError(response.status, data as ErrorBody)
    return data as T
  }
  return {
    nodeTypes: () => request<Paged<NodeTypeInfo>>('GET', '/node-types'),
    // The credentials of these kinds the user may use in nodes (the picker).
    credentials: (kinds: string[]) => request<Paged<CredentialOption>>('GET', `/credentials?kind=${encodeURIComponent(kinds.join(','))}`),
    getWorkflow: (id: number) => request<Workflow>('GET', `/workflows/${id}`),
    createWorkflow: (data: object) => request<Workflow>('POST', '/workflows', data),
    updateWorkflow: (id: number, data: object) => request<Workflow>('PUT', `/workflows/${id}`, data),
    // Without `test` a production run (pins ignored); with it a test run that uses pinned data
    // (mode workflow), runs one node (step) or a node and what follows it (from).
    startRun: (id: number, input: Json, test?: TestRun) => request<Run>('POST', `/workflows/${id}/runs`, { input, ...test }),
    pins: (id: number) => request<{ pins: Record<string, Pin> }>('GET', `/workflows/${id}/pins`),
    pin: (id: number, node: string, value: unknown, port?: string) =>
      request<Pin>('PUT', `/workflows/${id}/pins/${encodeURIComponent(node)}`, port ? { value, port } : { value }),
    unpin: (id: number, node: string) => request<null>('DELETE', `/workflows/${id}/pins/${encodeURIComponent(node)}`),
    getRun: (id: number) => request<Run>('GET', `/runs/${id}`),
    /** The output so far of the run's nodes at work (a streamed model answer). */
    runPartial: (id: number) => request<PartialAnswer>('GET', `/runs/${id}/partial`),
    lastRuns: (workflowId: number) => request<Paged<Run>>('GET', `/runs?workflow=${workflowId}`),
    cancelRun: (id: number) => request<Run>('POST', `/runs/${id}/cancel`),
    // The value of an expression or template with the last run's data (the field preview).
    checkExpression: (body: ExpressionCheckBody) => request<ExpressionCheck>('POST', '/expressions/check', body),
    patchWorkflow: (id: number, data: object) => request<Workflow>('PATCH', `/workflows/${id}`, data),
    // Listen for one call of the webhook's test URL (/hook/test/<id or path>), then poll it.
    listen: (id: number) => request<TestEvent>('POST', `/workflows/${id}/listen`),
    testEvent: (id: number) => request<TestEvent>('GET', `/workflows/${id}/test-event`),
    // Convert an n8n export (dry_run: report only) or import it as a new workflow.
    importN8n: (body: { workflow: unknown; dry_run?: boolean; name?: string }) => request<{ report: N8nReport; workflow?: Workflow }>('POST', '/workflows/import-n8n', body),
    versions: (id: number) => request<Paged<{ number: number; created_by?: string; created_at: string }>>('GET', `/workflows/${id}/versions`),
    version: (id: number, n: number | string) => request<{ number: number; definition: import('../types').Definition }>('GET', `/workflows/${id}/versions/${n}`),
  }
}
export type Api = ReturnType<typeof makeApi>
