// Version history in the side panel: every saved version with its author and time, a
// structural diff between two of them, and "restore", which puts a version on the canvas as
// one undoable step, to be saved as the newest one.
import { X } from 'lucide-react'
import { useEffect, useState } from 'react'
import { listOf, type Api } from '../lib/api'
import { diffDefinitions, type DiffLine } from '../lib/diff'
import type { Definition } from '../types'
import DiffList from './DiffList'

interface Version { number: number; created_by?: string; created_at: string }

export default function VersionHistory({ api, workflowId, currentVersion, onRestore, onClose }: {
  api: Api; workflowId: number; currentVersion: number | null
  onRestore: (definition: Definition, number: number) => void; onClose: () => void
}) {
  const [versions, setVersions] = useState<Version[] | null>(null)
  const [error, setError] = useState('')
  const [left, setLeft] = useState('')
  const [right, setRight] = useState('')
  const [diff, setDiff] = useState<DiffLine[] | null>(null)

  useEffect(() => {
    api.versions(workflowId).then((data) => {
      const list = listOf(data)
      setVersions(list)
      if (list.length > 1) { setLeft(String(list[1].number)); setRight(String(list[0].number)) }
    }).catch((e: Error) => setError(e.message))
  }, [api, workflowId, currentVersion])

  const compare = async () => {
    try {
      const [a, b] = await Promise.all([api.version(workflowId, left), api.version(workflowId, right)])
      setDiff(diffDefinitions(a.definition, b.definition))
    } catch (e) { setError((e as Error).message) }
  }
  const restore = async (n: number) => {
    try {
      const v = await api.version(workflowId, n)
      onRestore(v.definition, n)
    } catch (e) { setError((e as Error).message) }
  }

  return (
    <section className="wf-history" data-testid="version-history">
      <h2>Version history <button type="button" className="wf-icon-btn" aria-label="Close" onClick={onClose}><X size={14} /></button></h2>
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
          {diff && <DiffList lines={diff} testId="diff" />}
        </>
      )}
    </section>
  )
}
