// Talks to WFAIB's REST API with the admin session cookie and the CSRF token.
// Every failure becomes an ApiError carrying the HTTP status and the JSON error body
// ({code, message, ...}) so callers can react to 400 (validation) and 409 (conflict).

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`)
    this.status = status
    this.body = body || {}
  }
}

export function makeApi({ apiBase, csrfToken }) {
  async function request(method, path, body) {
    const headers = { Accept: 'application/json' }
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    if (method !== 'GET') headers['X-CSRFToken'] = csrfToken
    const response = await fetch(apiBase + path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    let data = null
    const text = await response.text()
    if (text) {
      try { data = JSON.parse(text) } catch { data = { message: text.slice(0, 300) } }
    }
    if (!response.ok) throw new ApiError(response.status, data)
    return data
  }
  return {
    nodeTypes: () => request('GET', '/node-types'),
    // The credentials of these kinds the user may use in nodes (the picker).
    credentials: (kinds) => request('GET', `/credentials?kind=${encodeURIComponent(kinds.join(','))}`),
    getWorkflow: (id) => request('GET', `/workflows/${id}`),
    createWorkflow: (data) => request('POST', '/workflows', data),
    updateWorkflow: (id, data) => request('PUT', `/workflows/${id}`, data),
    startRun: (id, input) => request('POST', `/workflows/${id}/runs`, { input }),
    getRun: (id) => request('GET', `/runs/${id}`),
    cancelRun: (id) => request('POST', `/runs/${id}/cancel`),
    versions: (id) => request('GET', `/workflows/${id}/versions`),
    version: (id, n) => request('GET', `/workflows/${id}/versions/${n}`),
  }
}

// Lists may come paginated ({results: [...]}) or bare.
export const listOf = (data) => (Array.isArray(data) ? data : (data && data.results) || [])
