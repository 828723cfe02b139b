// Hand-typed pinned data: the JSON of a node's pin, edited in a text area. Invalid JSON is
// said at once under the field and nothing is stored (the pin shown stays what the server
// holds); a value the server refuses (too big, a port the node lacks) is said the same way.
// A stored edit is one undoable step of the editor (hooks/usePins.ts).
import { useState } from 'react'
import { parsePinJson } from '../hooks/usePins'

export default function PinEditor({ initial, onSave, onClose }: {
  initial: unknown
  onSave: (value: unknown) => Promise<void>
  onClose: () => void
}) {
  const [text, setText] = useState(() => JSON.stringify(initial ?? null, null, 2))
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const parsed = parsePinJson(text)
  const save = async () => {
    if (!parsed.ok) { setError(parsed.error); return }
    setBusy(true)
    try {
      await onSave(parsed.value)
      onClose()
    } catch (e) {
      setError(`Not stored: ${(e as Error).message}`)
    } finally {
      setBusy(false)
    }
  }
  const shown = error || (!parsed.ok && text !== '' ? parsed.error : '')
  return (
    <div className="wf-pin-editor" data-testid="pin-editor">
      <label htmlFor="pin-json">Pinned data (JSON)</label>
      <textarea id="pin-json" data-testid="pin-json" rows={10} spellCheck={false} value={text}
        aria-invalid={!parsed.ok} aria-describedby={shown ? 'pin-json-error' : undefined}
        onChange={(e) => { setText(e.target.value); setError('') }} />
      {shown && <div id="pin-json-error" className="wf-field-error" role="alert" data-testid="pin-json-error">{shown}</div>}
      <div className="wf-pin-editor-actions">
        <button type="button" className="button wf-btn default" data-testid="pin-json-save" disabled={busy || !parsed.ok} onClick={save}>Pin this data</button>
        <button type="button" className="button wf-btn" data-testid="pin-json-cancel" onClick={onClose}>Cancel</button>
      </div>
    </div>
  )
}
