// Version history in the side panel: every saved version with its author and time, a
// structural diff between two of them (nodes added/removed/changed, edges added/removed),
// and "restore", which loads a version onto the canvas to be saved as the newest one.
import { useEffect, useState } from 'react'
import { listOf } from './api.js'

const edgeKey = (e) => `${e.from} —${e.port || 'main'}→ ${e.to}`

export function diffDefinitions(a, b) {
  const an = Object.fromEntries((a?.nodes || []).map((n) => [n.id, n]))
  const bn = Object.fromEntries((b?.nodes || []).map((n) => [n.id, n]))
  const lines = []
  for (const id of Object.keys(bn)) if (!an[id]) lines.push({ kind: 'add', text: `node ${id} (${bn[id].type})` })
  for (const id of Object.keys(an)) if (!bn[id]) lines.push({ kind: 'del', text: `node ${id} (${an[id].type})` })
  for (const id of Object.keys(an)) {
    if (!bn[id]) continue
    if (an[id].type !== bn[id].type) lines.push({ kind: 'chg', text: `node ${id}: type ${an[id].type} → ${bn[id].type}` })
    const ac = an[id].config || {}
    const bc = bn[id].config || {}
    for (const k of new Set([...Object.keys(ac), ...Object.keys(bc)])) {
      const x = JSON.stringify(ac[k])
      const y = JSON.stringify(bc[k])
      if (x !== y) lines.push({ kind: 'chg', text: `node ${id}: ${k}: ${x ?? '—'} → ${y ?? '—'}` })
    }
  }
  const ae = new Set((a?.edges || []).map(edgeKey))
  const be = new Set((b?.edges || []).map(edgeKey))
  for (const e of be) if (!ae.has(e)) lines.push({ kind: 'add', text: `edge ${e}` })
  for (const e of ae) if (!be.has(e)) lines.push({ kind: 'del', text: `edge ${e}` })
  if ((a?.name || '') !== (b?.name || '')) lines.push({ kind: 'chg', text: `name: ${a?.name} → ${b?.name}` })
  return lines
}

export default function VersionHistory({ api, workflowId, currentVersion, onRestore, onClose }) {
  const [versions, setVersions] = useState(null)
  const [error, setError] = useState('')
  const [left, setLeft] = useState('')
  const [right, setRight] = useState('')
  const [diff, setDiff] = useState(null)

  useEffect(() => {
    api.versions(workflowId).then((data) => {
      const list = listOf(data)
      setVersions(list)
      if (list.length > 1) { setLeft(String(list[1].number)); setRight(String(list[0].number)) }
    }).catch((e) => setError(e.message))
  }, [api, workflowId, currentVersion])

  const compare = async () => {
    try {
      const [a, b] = await Promise.all([api.version(workflowId, left), api.version(workflowId, right)])
      setDiff(diffDefinitions(a.definition, b.definition))
    } catch (e) { setError(e.message) }
  }
  const restore = async (n) => {
    try {
      const v = await api.version(workflowId, n)
      onRestore(v.definition, n)
    } catch (e) { setError(e.message) }
  }

  return (
    <section className="wf-history" data-testid="version-history">
      <h2>Version history <button type="button" className="wf-icon-btn" aria-label="Close" onClick={onClose}>×</button></h2>
      {error && <div className="wf-field-error">{error}</div>}
      {!versions && !error && <p className="wf-muted">Loading…</p>}
      {versions && (
        <>
          <ul className="wf-version-list">
            {versions.map((v) => (
              <li key={v.number}>
                <strong>v{v.number}</strong>{v.number === currentVersion ? ' (current)' : ''}
                <div className="wf-muted">{v.created_by || 'unknown'} · {new Date(v.created_at).toLocaleString()}</div>
                {v.number !== currentVersion && (
                  <button type="button" className="wf-link-btn" onClick={() => restore(v.number)}>restore</button>
                )}
              </li>
            ))}
          </ul>
          {versions.length > 1 && (
            <div className="wf-diff-pick">
              <select aria-label="From version" value={left} onChange={(e) => setLeft(e.target.value)}>
                {versions.map((v) => <option key={v.number} value={v.number}>v{v.number}</option>)}
              </select>
              →
              <select aria-label="To version" value={right} onChange={(e) => setRight(e.target.value)}>
                {versions.map((v) => <option key={v.number} value={v.number}>v{v.number}</option>)}
              </select>
              <button type="button" className="button" onClick={compare}>Compare</button>
            </div>
          )}
          {diff && (
            <ul className="wf-diff" data-testid="diff">
              {diff.length === 0 && <li className="wf-muted">No differences.</li>}
              {diff.map((l, i) => <li key={i} className={`wf-diff-${l.kind}`}>{l.kind === 'add' ? '+ ' : l.kind === 'del' ? '− ' : '~ '}{l.text}</li>)}
            </ul>
          )}
        </>
      )}
    </section>
  )
}
