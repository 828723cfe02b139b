// Entry point: mounts the editor on #wfaib-editor with the configuration the Django
// template embeds as JSON (#wfaib-editor-config: workflow id, API base, CSRF token, URLs).
import { createRoot } from 'react-dom/client'
import '@xyflow/react/dist/style.css'
import './editor.css'
import Editor from './components/Editor'
import type { EditorConfig } from './types'

const mount = document.getElementById('wfaib-editor')
const configEl = document.getElementById('wfaib-editor-config')
if (mount && configEl) {
  const config = JSON.parse(configEl.textContent || '{}') as EditorConfig
  createRoot(mount).render(<Editor config={config} />)
}
