// The run viewer's behaviour: live refresh while the run is in progress (polls the API and
// reloads the page when anything changed), the output of nodes at work as it streams (polls
// /api/runs/<id>/partial), and the cancel / re-run buttons (through the API with the
// session's CSRF token).
(function () {
  'use strict'
  const root = document.querySelector('.wf-run-viewer')
  if (!root) return
  const api = root.dataset.api
  const runId = root.dataset.runId
  const csrf = root.dataset.csrf
  const message = root.querySelector('.wf-run-message')

  function say(text, isError) {
    message.hidden = false
    message.textContent = text
    message.className = 'wf-run-message ' + (isError ? 'errornote' : 'wf-ok-note')
  }

  async function call(method, path, body) {
    const response = await fetch(api + path, {
      method,
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const data = await response.json().catch(() => ({}))
    if (!response.ok) throw new Error(data.message || 'HTTP ' + response.status)
    return data
  }

  root.addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-action]')
    if (!button) return
    button.disabled = true
    try {
      if (button.dataset.action === 'cancel') {
        const run = await call('POST', '/runs/' + runId + '/cancel')
        say('Cancellation requested (status: ' + run.status + ').')
        setTimeout(() => window.location.reload(), 400)
      } else if (button.dataset.action === 'rerun') {
        const current = await call('GET', '/runs/' + runId)
        const run = await call('POST', '/workflows/' + root.dataset.workflowId + '/runs', { input: current.input })
        window.location.href = root.dataset.runUrlTemplate.replace('{id}', run.id)
      }
    } catch (error) {
      say(String(error.message || error), true)
      button.disabled = false
    }
  })

  if (root.dataset.finished === '1') return
  // The page shows "status:log statuses"; reload when the API says anything else.
  async function poll() {
    try {
      const run = await call('GET', '/runs/' + runId)
      const signature = run.status + ':' + (run.logs || []).map((l) => l.status).join(',')
      if (signature !== root.dataset.signature) { window.location.reload(); return }
    } catch (error) {
      say('Live refresh stopped: ' + (error.message || error), true)
      return
    }
    setTimeout(poll, 1000)
  }
  setTimeout(poll, 500)

  // A streamed model answer, shown under its node while the node works (text only: never HTML).
  function showPartial(nodeId, partial) {
    let pre = root.querySelector('pre[data-partial-node="' + CSS.escape(nodeId) + '"]')
    if (!pre) {
      const row = root.querySelector('[data-testid="log-' + CSS.escape(nodeId) + '"]')
      pre = document.createElement('pre')
      pre.className = 'wf-json wf-partial'
      pre.dataset.partialNode = nodeId
      pre.dataset.testid = 'partial-' + nodeId
      pre.setAttribute('aria-live', 'polite')
      ;(row || root.querySelector('.wf-live-output')).appendChild(pre)
    }
    if (pre.textContent !== partial.text) pre.textContent = partial.text
  }

  async function pollPartial() {
    try {
      const answer = await call('GET', '/runs/' + runId + '/partial')
      for (const [nodeId, partial] of Object.entries(answer.nodes || {})) showPartial(nodeId, partial)
      if (['succeeded', 'failed', 'cancelled'].includes(answer.status)) return
    } catch (error) {
      return // the main poll reports problems
    }
    setTimeout(pollPartial, 700)
  }
  setTimeout(pollPartial, 300)
})()
