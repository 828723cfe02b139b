// The toolbar: name, version, save, run, undo/redo, auto-layout, history, runs, and a menu
// with export, import (a WFAIB export, or an n8n one), the project variables and the keyboard
// shortcuts.
import { Braces, Download, EllipsisVertical, FileInput, History, Keyboard, LayoutGrid, List, Play, Redo2, Save, Undo2, Upload } from 'lucide-react'
import { useEffect, useRef, useState } from 'react'

interface Props {
  name: string; version: number | null; dirty: boolean; saving: boolean
  canUndo: boolean; canRedo: boolean; workflowId: number | null; runsUrl?: string; variablesUrl?: string
  onImportN8n?: (file: File) => void
  onName: (v: string) => void; onSave: () => void; onRun: () => void; onUndo: () => void; onRedo: () => void
  onLayout: () => void; onHistory: () => void; onExport: () => void; onImport: (file: File) => void; onHelp: () => void
}

export default function Toolbar(p: Props) {
  const [menu, setMenu] = useState(false)
  const file = useRef<HTMLInputElement>(null)
  const n8nFile = useRef<HTMLInputElement>(null)
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    if (!menu) return undefined
    const close = (e: MouseEvent) => { if (!box.current?.contains(e.target as Node)) setMenu(false) }
    document.addEventListener('mousedown', close)
    return () => document.removeEventListener('mousedown', close)
  }, [menu])
  return (
    <div className="wf-toolbar">
      <input className="wf-name" aria-label="Workflow name" value={p.name} onChange={(e) => p.onName(e.target.value)} />
      <span className="wf-version" data-testid="version">{p.version ? `v${p.version}` : 'unsaved'}</span>
      {p.dirty && <span className="wf-dirty" title="Unsaved changes" data-testid="dirty">•</span>}
      <button type="button" className="button default wf-btn" onClick={p.onSave} disabled={p.saving} data-testid="save">
        <Save size={15} /> {p.saving ? 'Saving…' : 'Save'}
      </button>
      <button type="button" className="button wf-btn" onClick={p.onRun} data-testid="run"><Play size={15} /> Run</button>
      <span className="wf-btn-group">
        <button type="button" className="button wf-btn" onClick={p.onUndo} disabled={!p.canUndo} title="Undo (Ctrl/⌘+Z)" aria-label="Undo" data-testid="undo"><Undo2 size={15} /></button>
        <button type="button" className="button wf-btn" onClick={p.onRedo} disabled={!p.canRedo} title="Redo (Shift+Ctrl/⌘+Z)" aria-label="Redo" data-testid="redo"><Redo2 size={15} /></button>
      </span>
      <button type="button" className="button wf-btn" onClick={p.onLayout} data-testid="auto-layout" title="Auto-layout"><LayoutGrid size={15} /> <span className="wf-btn-text">Auto-layout</span></button>
      {p.workflowId && <button type="button" className="button wf-btn" onClick={p.onHistory} data-testid="history" title="Version history"><History size={15} /> <span className="wf-btn-text">History</span></button>}
      {p.workflowId && p.runsUrl && <a className="button wf-btn" href={p.runsUrl} title="Runs"><List size={15} /> <span className="wf-btn-text">Runs</span></a>}
      <div className="wf-menu" ref={box}>
        <button type="button" className="button wf-btn" aria-haspopup="menu" aria-expanded={menu} aria-label="More" title="More"
          data-testid="menu" onClick={() => setMenu((v) => !v)}><EllipsisVertical size={15} /></button>
        {menu && (
          <div className="wf-menu-list" role="menu">
            <button type="button" role="menuitem" data-testid="export" onClick={() => { setMenu(false); p.onExport() }}><Download size={15} /> Export JSON</button>
            <button type="button" role="menuitem" data-testid="import" onClick={() => { setMenu(false); file.current?.click() }}><Upload size={15} /> Import JSON…</button>
            {p.onImportN8n && <button type="button" role="menuitem" data-testid="import-n8n" onClick={() => { setMenu(false); n8nFile.current?.click() }}><FileInput size={15} /> Import from n8n…</button>}
            {p.variablesUrl && <a role="menuitem" data-testid="variables-link" href={p.variablesUrl} target="_blank" rel="noopener"><Braces size={15} /> Variables</a>}
            <button type="button" role="menuitem" data-testid="shortcuts" onClick={() => { setMenu(false); p.onHelp() }}><Keyboard size={15} /> Keyboard shortcuts <kbd>?</kbd></button>
          </div>
        )}
        <input ref={file} type="file" accept="application/json,.json" hidden data-testid="import-file" aria-label="Import a workflow file"
          onChange={(e) => { const f = e.target.files?.[0]; if (f) p.onImport(f); e.target.value = '' }} />
        <input ref={n8nFile} type="file" accept="application/json,.json" hidden data-testid="import-n8n-file" aria-label="Import an n8n workflow file"
          onChange={(e) => { const f = e.target.files?.[0]; if (f) p.onImportN8n?.(f); e.target.value = '' }} />
      </div>
    </div>
  )
}
