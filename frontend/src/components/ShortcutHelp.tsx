import { SHORTCUTS } from '../hooks/useShortcuts'

export default function ShortcutHelp({ onClose }: { onClose: () => void }) {
  return (
    <div className="wf-modal-backdrop" onClick={(e) => { if (e.target === e.currentTarget) onClose() }}>
      <div className="wf-modal" role="dialog" aria-label="Keyboard shortcuts" data-testid="shortcut-help">
        <h2>Keyboard shortcuts</h2>
        <table className="wf-shortcuts">
          <tbody>
            {SHORTCUTS.map(([keys, what]) => <tr key={keys}><td><kbd>{keys}</kbd></td><td>{what}</td></tr>)}
          </tbody>
        </table>
        <div className="wf-modal-actions"><button type="button" className="button" onClick={onClose}>Close</button></div>
      </div>
    </div>
  )
}
