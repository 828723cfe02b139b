// The toolbar's file buttons: export the workflow being edited as a JSON file, import a WFAIB
// export into the editor (an undoable step, saved only when the user saves), and read an n8n
// workflow file for the n8n import dialog.
import { useCallback, type Dispatch, type RefObject } from 'react'
import { definitionIn, EXPORT_FORMAT, fromDefinition } from '../lib/definition'
import { autoLayout } from '../lib/layout'
import { currentDefinition, type Action, type EditorState } from '../store/reducer'

export type Notice = { kind: 'success' | 'error' | 'warning'; text: string } | null

/** The name an export is downloaded under: the workflow's name, safe for a file system. */
export function exportFileName(name: string): string {
  return `${(name || 'workflow').replace(/[^A-Za-z0-9_-]+/g, '-').toLowerCase()}.json`
}

export function useWorkflowFiles(
  latest: RefObject<{ state: EditorState; version: number | null }>,
  dispatch: Dispatch<Action>,
  setNotice: (notice: Notice) => void,
  openN8nImport: (file: { fileName: string; data: unknown }) => void,
) {
  const exportJson = useCallback(() => {
    const { state, version } = latest.current
    const payload = { format: EXPORT_FORMAT, name: state.name, version, definition: currentDefinition(state) }
    const blob = new Blob([JSON.stringify(payload, null, 2)], { type: 'application/json' })
    const a = document.createElement('a')
    a.href = URL.createObjectURL(blob)
    a.download = exportFileName(state.name)
    document.body.appendChild(a)
    a.click()
    a.remove()
    setTimeout(() => URL.revokeObjectURL(a.href), 1000)
  }, [latest])

  const importJson = useCallback(async (file: File) => {
    let found: ReturnType<typeof definitionIn>
    try { found = definitionIn(JSON.parse(await file.text())) } catch { found = null }
    if (!found) {
      setNotice({ kind: 'error', text: `${file.name} is not a workflow export (JSON with nodes and edges).` })
      return
    }
    const loaded = fromDefinition(found.definition)
    dispatch({ type: 'replace', definition: found.definition, name: found.name, nodes: loaded.missingPositions ? autoLayout(loaded.nodes, loaded.edges) : undefined })
    setNotice({ kind: 'success', text: `Imported ${found.definition.nodes.length} nodes from ${file.name}; save to keep them (Ctrl+Z undoes).` })
  }, [dispatch, setNotice])

  const importN8n = useCallback(async (file: File) => {
    try {
      openN8nImport({ fileName: file.name, data: JSON.parse(await file.text()) })
    } catch {
      setNotice({ kind: 'error', text: `${file.name} is not JSON: export the workflow from n8n (Download).` })
    }
  }, [openN8nImport, setNotice])

  return { exportJson, importJson, importN8n }
}
