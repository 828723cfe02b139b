// Someone else saved since this editor loaded: what they changed, what I changed, and the
// ways on: overwrite theirs with mine, merge mine on top of theirs (then review and save),
// reload theirs (losing mine), or keep editing.
import type { DiffLine } from '../lib/diff'
import DiffList from './DiffList'

export interface Conflict {
  current: number | null
  by?: string | null
  theirs: DiffLine[] | null
  mine: DiffLine[]
}

export default function ConflictBanner({ conflict, version, onOverwrite, onMerge, onReload, onDismiss }: {
  conflict: Conflict; version: number | null
  onOverwrite: () => void; onMerge: () => void; onReload: () => void; onDismiss: () => void
}) {
  return (
    <div className="wf-banner wf-banner-error wf-conflict" role="alert" data-testid="conflict">
      <div className="wf-conflict-text">
        Someone else saved this workflow (now version {conflict.current ?? '?'}) since you loaded
        version {version}. Your changes were not saved.
      </div>
      <div className="wf-conflict-diffs">
        <div>
          <strong>What they changed</strong>
          {conflict.theirs ? <DiffList lines={conflict.theirs} testId="conflict-theirs" /> : <p className="wf-muted">Loading…</p>}
        </div>
        <div>
          <strong>Your unsaved changes</strong>
          <DiffList lines={conflict.mine} testId="conflict-mine" />
        </div>
      </div>
      <div className="wf-conflict-actions">
        <button type="button" className="button" onClick={onMerge} disabled={!conflict.theirs} data-testid="merge-on-top"
          title="Their version with your changes applied on top; review it, then save">Merge mine on top</button>
        <button type="button" className="button" onClick={onOverwrite} data-testid="overwrite"
          title="Save your version as the newest, replacing their changes">Overwrite with mine</button>
        <button type="button" className="button" onClick={onReload} data-testid="reload">Reload their version</button>
        <button type="button" className="wf-link-btn" onClick={onDismiss}>Keep editing</button>
      </div>
    </div>
  )
}
