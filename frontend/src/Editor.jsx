// The workflow editor: palette, canvas (React Flow), properties panel, toolbar.
// State lives here; the definition is loaded from and saved to the REST API with the
// version it was based on, so a concurrent save elsewhere answers 409 and is never overwritten.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import {
  Background, Controls, MiniMap, ReactFlow, ReactFlowProvider,
  applyEdgeChanges, applyNodeChanges, useReactFlow,
} from '@xyflow/react'
import { ApiError, listOf, makeApi } from './api.js'
import ConfigForm from './ConfigForm.jsx'
import { fromDefinition, makeEdge, mapErrors, toDefinition, uniqueId } from './definition.js'
import { autoLayout } from './layout.js'
import NodeView from './NodeView.jsx'
import Palette from './Palette.jsx'
import VersionHistory from './VersionHistory.jsx'

const NODE_TYPES = { wfaib: NodeView }
const FINISHED = ['succeeded', 'failed', 'cancelled']
const LOG_STATUS = { started: 'running', succeeded: 'succeeded', failed: 'failed', skipped: 'skipped', waiting: 'waiting' }
const HISTORY_LIMIT = 100

function isTyping(target) {
  if (!target) return false
  const tag = target.tagName
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || target.isContentEditable
}

function useColorMode() {
  const read = () => {
    const t = document.documentElement.dataset.theme
    return t === 'dark' || t === 'light' ? t : 'system'
  }
  const [mode, setMode] = useState(read)
  useEffect(() => {
    const obs = new MutationObserver(() => setMode(read()))
    obs.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] })
    return () => obs.disconnect()
  }, [])
  return mode
}

function Json({ value }) {
  if (value === undefined) return <span className="wf-muted">—</span>
  return <pre className="wf-json">{JSON.stringify(value, null, 2)}</pre>
}

function EditorInner({ config }) {
  const api = useMemo(() => makeApi(config), [config])
  const flow = useReactFlow()
  const colorMode = useColorMode()
  const wrapper = useRef(null)

  const [types, setTypes] = useState([])
  const [loadError, setLoadError] = useState('')
  const [workflowId, setWorkflowId] = useState(config.workflowId)
  const [name, setName] = useState('')
  const [version, setVersion] = useState(null)
  const [extra, setExtra] = useState({})
  const [nodes, setNodes] = useState([])
  const [edges, setEdges] = useState([])
  const [dirty, setDirty] = useState(false)
  const [saving, setSaving] = useState(false)
  const [notice, setNotice] = useState(null) // {kind, text}
  const [errors, setErrors] = useState({ nodes: {}, general: [] })
  const [conflict, setConflict] = useState(null)
  const [selectedId, setSelectedId] = useState(null)
  const [runDialog, setRunDialog] = useState(false)
  const [runInput, setRunInput] = useState('{}')
  const [runInputError, setRunInputError] = useState('')
  const [run, setRun] = useState(null)
  const [showHistory, setShowHistory] = useState(false)
  const [templates] = useState(config.templates || [])
  // 'loading' until a workflow is loaded, 'fitting' while the view is being fitted to it,
  // 'ready' after: shown as data-view on the canvas so tests (and tools) wait for the state.
  const [viewState, setViewState] = useState(config.workflowId ? 'loading' : 'ready')

  // Current values for callbacks registered once (keyboard, clipboard).
  const state = useRef({})
  state.current = { nodes, edges, name, version, extra, workflowId, dirty, selectedId }

  const typeMap = useMemo(() => Object.fromEntries(types.map((t) => [t.type, t])), [types])

  // ---- undo / redo ---------------------------------------------------------------------
  const history = useRef({ undo: [], redo: [], coalesce: null })
  const snapshot = useCallback((coalesceKey = null) => {
    const h = history.current
    if (coalesceKey && h.coalesce === coalesceKey) return
    h.undo.push({ nodes: state.current.nodes, edges: state.current.edges })
    if (h.undo.length > HISTORY_LIMIT) h.undo.shift()
    h.redo = []
    h.coalesce = coalesceKey
  }, [])
  const [, bump] = useState(0)
  const restore = useCallback((from, to) => {
    const h = history.current
    const entry = h[from].pop()
    if (!entry) return
    h[to].push({ nodes: state.current.nodes, edges: state.current.edges })
    h.coalesce = null
    setNodes(entry.nodes)
    setEdges(entry.edges)
    setDirty(true)
    bump((x) => x + 1)
  }, [])
  const undo = useCallback(() => restore('undo', 'redo'), [restore])
  const redo = useCallback(() => restore('redo', 'undo'), [restore])

  // ---- loading -------------------------------------------------------------------------
  const fitLater = useCallback(() => {
    setViewState('fitting')
    setTimeout(() => {
      Promise.resolve(flow.fitView({ padding: 0.2, maxZoom: 1.2 }))
        .finally(() => setViewState('ready'))
    }, 50)
  }, [flow])

  const applyDefinition = useCallback((definition, layoutIfNeeded = true) => {
    const loaded = fromDefinition(definition)
    const laid = loaded.missingPositions && layoutIfNeeded ? autoLayout(loaded.nodes, loaded.edges) : loaded.nodes
    setNodes(laid)
    setEdges(loaded.edges)
    setExtra(loaded.extra)
    history.current = { undo: [], redo: [], coalesce: null }
    fitLater()
  }, [fitLater])

  const load = useCallback(async (id) => {
    const wf = await api.getWorkflow(id)
    setName(wf.name)
    setVersion(wf.version)
    applyDefinition(wf.definition)
    setDirty(false)
    setErrors({ nodes: {}, general: [] })
    setConflict(null)
    return wf
  }, [api, applyDefinition])

  const started = useRef(false)
  useEffect(() => {
    // Once: `load` changes identity while React Flow initialises, and a second load would
    // silently replace what the user sees (e.g. hide a conflict).
    if (started.current) return
    started.current = true
    ;(async () => {
      try {
        setTypes(listOf(await api.nodeTypes()))
        if (config.workflowId) await load(config.workflowId)
        else setName('New workflow')
      } catch (e) {
        setLoadError(e.message || String(e))
      }
    })()
  }, [api, config.workflowId, load])

  // ---- editing -------------------------------------------------------------------------
  const addNode = useCallback((type, position) => {
    const info = typeMap[type]
    if (!info) return
    snapshot()
    const taken = new Set(state.current.nodes.map((n) => n.id))
    const id = uniqueId(type, taken)
    let pos = position
    if (!pos) {
      const rect = wrapper.current?.getBoundingClientRect()
      pos = rect ? flow.screenToFlowPosition({ x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 }) : { x: 0, y: 0 }
      pos = { x: pos.x + (taken.size % 5) * 20, y: pos.y + (taken.size % 5) * 20 }
    }
    const node = { id, type: 'wfaib', position: pos, selected: true, data: { nodeType: type, config: {}, extra: {} } }
    setNodes((ns) => [...ns.map((n) => (n.selected ? { ...n, selected: false } : n)), node])
    setSelectedId(id)
    setDirty(true)
  }, [typeMap, flow, snapshot])

  const onDrop = useCallback((event) => {
    event.preventDefault()
    const type = event.dataTransfer.getData('application/wfaib-node') || event.dataTransfer.getData('text/plain')
    if (!type || !typeMap[type]) return
    const pos = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY })
    addNode(type, { x: pos.x - 85, y: pos.y - 30 })
  }, [flow, addNode, typeMap])

  const onDragOver = useCallback((event) => {
    event.preventDefault()
    event.dataTransfer.dropEffect = 'move'
  }, [])

  const onNodesChange = useCallback((changes) => {
    if (changes.some((c) => c.type === 'remove' || c.type === 'add')) setDirty(true)
    if (changes.some((c) => c.type === 'position' && c.dragging === false)) setDirty(true)
    setNodes((ns) => applyNodeChanges(changes, ns))
  }, [])
  const onEdgesChange = useCallback((changes) => {
    if (changes.some((c) => c.type === 'remove')) setDirty(true)
    setEdges((es) => applyEdgeChanges(changes, es))
  }, [])
  const onBeforeDelete = useCallback(async () => { snapshot(); return true }, [snapshot])
  const onNodeDragStart = useCallback(() => snapshot(), [snapshot])

  const isValidConnection = useCallback((c) => {
    if (c.source === c.target) return false
    const target = state.current.nodes.find((n) => n.id === c.target)
    if (target && typeMap[target.data.nodeType]?.is_trigger) return false
    return !state.current.edges.some((e) => e.source === c.source && e.target === c.target
      && (e.sourceHandle || 'main') === (c.sourceHandle || 'main'))
  }, [typeMap])

  const onConnect = useCallback((c) => {
    snapshot()
    setEdges((es) => [...es, makeEdge(c.source, c.sourceHandle, c.target)])
    setDirty(true)
  }, [snapshot])

  const onSelectionChange = useCallback(({ nodes: sel }) => {
    setSelectedId(sel.length === 1 ? sel[0].id : null)
  }, [])

  const setConfigValue = useCallback((nodeId, field, value) => {
    snapshot(`${nodeId}.${field}`)
    setNodes((ns) => ns.map((n) => {
      if (n.id !== nodeId) return n
      const cfg = { ...n.data.config }
      if (value === undefined) delete cfg[field]
      else cfg[field] = value
      return { ...n, data: { ...n.data, config: cfg } }
    }))
    setDirty(true)
  }, [snapshot])

  const setSettingValue = useCallback((nodeId, field, value) => {
    snapshot(`${nodeId}.settings.${field}`)
    setNodes((ns) => ns.map((n) => {
      if (n.id !== nodeId) return n
      const { settings = {}, ...rest } = n.data.extra || {}
      const next = { ...settings }
      if (value === undefined) delete next[field]
      else next[field] = value
      const extra = Object.keys(next).length ? { ...rest, settings: next } : rest
      return { ...n, data: { ...n.data, extra } }
    }))
    setDirty(true)
  }, [snapshot])

  // Types whose ports depend on the config (a switch's cases): ask the server, which knows.
  const [dynamicPorts, setDynamicPorts] = useState({})
  const portsKey = useMemo(() => JSON.stringify(nodes
    .filter((n) => typeMap[n.data.nodeType]?.dynamic_outputs)
    .map((n) => [n.id, n.data.nodeType, n.data.config])), [nodes, typeMap])
  useEffect(() => {
    const wanted = JSON.parse(portsKey)
    if (!wanted.length || !config.portsUrl) return undefined
    const timer = setTimeout(async () => {
      try {
        const response = await fetch(config.portsUrl, {
          method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', 'X-CSRFToken': config.csrfToken },
          body: JSON.stringify({ nodes: wanted.map(([id, type, cfg]) => ({ id, type, config: cfg })) }),
        })
        if (response.ok) setDynamicPorts((await response.json()).ports || {})
      } catch { /* keep the ports we had */ }
    }, 300)
    return () => clearTimeout(timer)
  }, [portsKey, config.portsUrl, config.csrfToken])

  const renameNode = useCallback((oldId, newIdRaw) => {
    const newId = newIdRaw.trim()
    if (!newId || newId === oldId) return
    if (state.current.nodes.some((n) => n.id === newId)) {
      setNotice({ kind: 'error', text: `A node called "${newId}" already exists.` })
      return
    }
    snapshot()
    setNodes((ns) => ns.map((n) => (n.id === oldId ? { ...n, id: newId } : n)))
    setEdges((es) => es.map((e) => {
      if (e.source !== oldId && e.target !== oldId) return e
      return makeEdge(e.source === oldId ? newId : e.source, e.sourceHandle, e.target === oldId ? newId : e.target)
    }))
    setSelectedId(newId)
    setDirty(true)
  }, [snapshot])

  const layout = useCallback(() => {
    snapshot()
    setNodes((ns) => autoLayout(ns, state.current.edges))
    setDirty(true)
    fitLater()
  }, [fitLater, snapshot])

  // ---- saving --------------------------------------------------------------------------
  const save = useCallback(async () => {
    const s = state.current
    const definition = toDefinition(s.name, s.nodes, s.edges, s.extra)
    setSaving(true)
    setNotice(null)
    try {
      let wf
      if (s.workflowId) {
        wf = await api.updateWorkflow(s.workflowId, { name: s.name, definition, version: s.version })
      } else {
        wf = await api.createWorkflow({ name: s.name, definition })
        setWorkflowId(wf.id)
        if (config.editorUrlTemplate) {
          window.history.replaceState(null, '', config.editorUrlTemplate.replace('{id}', wf.id))
        }
      }
      setVersion(wf.version)
      setDirty(false)
      setErrors({ nodes: {}, general: [] })
      setConflict(null)
      setNotice({ kind: 'success', text: `Saved (version ${wf.version}).` })
      return wf
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        setConflict({ current: e.body.current_version, message: e.message })
      } else if (e instanceof ApiError && e.status === 400 && Array.isArray(e.body.errors)) {
        const mapped = mapErrors(e.body.errors, definition)
        setErrors(mapped)
        const first = Object.keys(mapped.nodes)[0]
        if (first) {
          setNodes((ns) => ns.map((n) => ({ ...n, selected: n.id === first })))
          setSelectedId(first)
        }
        setNotice({ kind: 'error', text: `Not saved: ${e.body.errors.length} problem${e.body.errors.length > 1 ? 's' : ''} in the workflow.` })
      } else {
        setNotice({ kind: 'error', text: `Not saved: ${e.message}` })
      }
      return null
    } finally {
      setSaving(false)
    }
  }, [api, config.editorUrlTemplate])

  const reload = useCallback(async () => {
    try {
      await load(state.current.workflowId)
      setNotice({ kind: 'success', text: 'Reloaded the latest version.' })
    } catch (e) {
      setNotice({ kind: 'error', text: `Could not reload: ${e.message}` })
    }
  }, [load])

  // ---- presence: who else has this workflow open, and their saves ------------------------
  const [presence, setPresence] = useState({ others: [], version: null, by: null, mine: true })
  useEffect(() => {
    if (!workflowId || !config.presenceUrlTemplate) return undefined
    let timer
    let stopped = false
    const beat = async () => {
      try {
        const response = await fetch(config.presenceUrlTemplate.replace('{id}', workflowId), {
          method: 'POST', credentials: 'same-origin', headers: { 'X-CSRFToken': config.csrfToken },
        })
        if (response.ok) {
          const data = await response.json()
          setPresence({ others: data.others, version: data.version, by: data.version_by, mine: data.version_by_me })
        }
      } catch { /* try again at the next beat */ }
      if (!stopped) timer = setTimeout(beat, config.presenceInterval || 5000)
    }
    beat()
    return () => { stopped = true; clearTimeout(timer) }
  }, [workflowId, config.presenceUrlTemplate, config.presenceInterval, config.csrfToken])
  const theirSave = presence.version && version && presence.version > version && !presence.mine

  // ---- running -------------------------------------------------------------------------
  const pollRef = useRef(null)
  useEffect(() => () => clearTimeout(pollRef.current), [])
  const poll = useCallback(async (runId) => {
    try {
      const r = await api.getRun(runId)
      setRun(r)
      if (FINISHED.includes(r.status) || r.status === 'waiting') return
    } catch (e) {
      setNotice({ kind: 'error', text: `Lost track of the run: ${e.message}` })
      return
    }
    pollRef.current = setTimeout(() => poll(runId), 500)
  }, [api])

  const startRun = useCallback(async () => {
    let input
    try {
      input = runInput.trim() ? JSON.parse(runInput) : null
    } catch {
      setRunInputError('The input must be valid JSON.')
      return
    }
    setRunInputError('')
    if (state.current.dirty || !state.current.workflowId) {
      const saved = await save()
      if (!saved) { setRunDialog(false); return }
    }
    try {
      clearTimeout(pollRef.current)
      const r = await api.startRun(state.current.workflowId, input)
      setRun(r)
      setRunDialog(false)
      poll(r.id)
    } catch (e) {
      setRunInputError(`Could not start the run: ${e.message}`)
    }
  }, [api, runInput, save, poll])

  const nodeRunStatus = useMemo(() => {
    const map = {}
    for (const log of run?.logs || []) map[log.node_id] = log
    return map
  }, [run])

  // ---- keyboard and clipboard ----------------------------------------------------------
  useEffect(() => {
    const onKey = (e) => {
      const mod = e.ctrlKey || e.metaKey
      if (!mod) return
      const key = e.key.toLowerCase()
      if (key === 's') { e.preventDefault(); save(); return }
      if (isTyping(e.target)) return
      if (key === 'z' && !e.shiftKey) { e.preventDefault(); undo() }
      else if ((key === 'z' && e.shiftKey) || key === 'y') { e.preventDefault(); redo() }
    }
    const onCopy = (e) => {
      if (isTyping(e.target)) return
      const s = state.current
      const selected = s.nodes.filter((n) => n.selected)
      if (!selected.length) return
      const ids = new Set(selected.map((n) => n.id))
      const def = toDefinition(s.name, selected, s.edges.filter((ed) => ids.has(ed.source) && ids.has(ed.target)))
      e.clipboardData.setData('text/plain', JSON.stringify({ wfaib: 'nodes', nodes: def.nodes, edges: def.edges }, null, 2))
      e.preventDefault()
      setNotice({ kind: 'success', text: `Copied ${selected.length} node${selected.length > 1 ? 's' : ''}.` })
    }
    const onPaste = (e) => {
      if (isTyping(e.target)) return
      let data
      try { data = JSON.parse(e.clipboardData.getData('text/plain')) } catch { return }
      if (!data || !Array.isArray(data.nodes)) return
      e.preventDefault()
      const s = state.current
      const taken = new Set(s.nodes.map((n) => n.id))
      const rename = {}
      const pasted = []
      for (const n of data.nodes) {
        if (!n || typeof n.type !== 'string') continue
        const id = uniqueId(n.id || n.type, taken)
        taken.add(id)
        rename[n.id] = id
        const { id: _i, type, config: cfg, position, ...rest } = n
        pasted.push({
          id, type: 'wfaib', selected: true,
          position: { x: (position?.x ?? 0) + 40, y: (position?.y ?? 0) + 40 },
          data: { nodeType: type, config: cfg || {}, extra: rest },
        })
      }
      const newEdges = (data.edges || []).filter((ed) => rename[ed.from] && rename[ed.to])
        .map((ed) => makeEdge(rename[ed.from], ed.port, rename[ed.to]))
      if (!pasted.length) return
      snapshot()
      setNodes((ns) => [...ns.map((n) => ({ ...n, selected: false })), ...pasted])
      setEdges((es) => [...es, ...newEdges])
      setDirty(true)
      setNotice({ kind: 'success', text: `Pasted ${pasted.length} node${pasted.length > 1 ? 's' : ''}.` })
    }
    window.addEventListener('keydown', onKey)
    document.addEventListener('copy', onCopy)
    document.addEventListener('paste', onPaste)
    return () => {
      window.removeEventListener('keydown', onKey)
      document.removeEventListener('copy', onCopy)
      document.removeEventListener('paste', onPaste)
    }
  }, [save, undo, redo, snapshot])

  useEffect(() => {
    const warn = (e) => { if (state.current.dirty) { e.preventDefault(); e.returnValue = '' } }
    window.addEventListener('beforeunload', warn)
    return () => window.removeEventListener('beforeunload', warn)
  }, [])

  // ---- rendering -----------------------------------------------------------------------
  const displayNodes = useMemo(() => nodes.map((n) => {
    const e = errors.nodes[n.id]
    const log = nodeRunStatus[n.id]
    return {
      ...n,
      data: {
        ...n.data,
        typeInfo: typeMap[n.data.nodeType],
        runStatus: log ? LOG_STATUS[log.status] || log.status : '',
        errorCount: e ? Object.values(e.fields).flat().length + Object.values(e.settings).flat().length + e.other.length : 0,
        ports: dynamicPorts[n.id],
      },
    }
  }), [nodes, errors, nodeRunStatus, typeMap, dynamicPorts])

  const selected = nodes.find((n) => n.id === selectedId)
  const selectedInfo = selected && typeMap[selected.data.nodeType]
  const selectedErrors = selected && errors.nodes[selected.id]
  const selectedLog = selected && nodeRunStatus[selected.id]

  if (loadError) {
    return <div className="wf-editor"><p className="errornote">Could not load the editor: {loadError}</p></div>
  }

  return (
    <div className="wf-editor" data-testid="editor" data-dirty={dirty ? '1' : '0'} data-version={version ?? ''}>
      <div className="wf-toolbar">
        <input className="wf-name" aria-label="Workflow name" value={name}
          onChange={(e) => { setName(e.target.value); setDirty(true) }} />
        <span className="wf-version" data-testid="version">{version ? `v${version}` : 'unsaved'}{dirty ? ' •' : ''}</span>
        <button type="button" className="button default" onClick={save} disabled={saving} data-testid="save">
          {saving ? 'Saving…' : 'Save'}
        </button>
        <button type="button" className="button" onClick={() => setRunDialog(true)} data-testid="run">▶ Run</button>
        <button type="button" className="button" onClick={undo} disabled={!history.current.undo.length} title="Undo (Ctrl/⌘+Z)" data-testid="undo">↶</button>
        <button type="button" className="button" onClick={redo} disabled={!history.current.redo.length} title="Redo (Shift+Ctrl/⌘+Z)" data-testid="redo">↷</button>
        <button type="button" className="button" onClick={layout} data-testid="auto-layout">Auto-layout</button>
        {workflowId && (
          <button type="button" className="button" onClick={() => setShowHistory((v) => !v)} data-testid="history">History</button>
        )}
        {workflowId && config.runsUrlTemplate && (
          <a className="button" href={config.runsUrlTemplate.replace('{id}', workflowId)}>Runs</a>
        )}
      </div>

      {(presence.others.length > 0 || theirSave) && (
        <div className="wf-banner wf-presence" data-testid="presence">
          {presence.others.length > 0 && <span>Also editing: {presence.others.map((e) => <span key={e} className="wf-badge">{e}</span>)}</span>}
          {theirSave && !conflict && (
            <span data-testid="their-save">
              {presence.by || 'Someone'} saved version {presence.version}.
              <button type="button" className="button" onClick={() => {
                if (!state.current.dirty || window.confirm('Discard your unsaved changes and load their version?')) reload()
              }} data-testid="load-their-save">Load their version</button>
            </span>
          )}
        </div>
      )}
      {conflict && (
        <div className="wf-banner wf-banner-error" role="alert" data-testid="conflict">
          Someone else saved this workflow (now version {conflict.current ?? '?'}) since you loaded
          version {version}. Your changes were not saved.
          <button type="button" className="button" onClick={reload} data-testid="reload">Reload their version</button>
          <button type="button" className="wf-link-btn" onClick={() => setConflict(null)}>Keep editing</button>
        </div>
      )}
      {notice && (
        <div className={`wf-banner wf-banner-${notice.kind}`} role="status" data-testid="notice">
          {notice.text}
          <button type="button" className="wf-icon-btn" aria-label="Dismiss" onClick={() => setNotice(null)}>×</button>
        </div>
      )}
      {errors.general.length > 0 && (
        <ul className="wf-banner wf-banner-error wf-error-list" data-testid="general-errors">
          {errors.general.map((e, i) => <li key={i}><code>{e.path || 'workflow'}</code>: {e.message}</li>)}
        </ul>
      )}
      {run && (
        <div className={`wf-banner wf-run-bar wf-run-${run.status}`} data-testid="run-bar" data-run-status={run.status}>
          Run #{run.id}: <strong>{run.status}</strong>
          {run.error ? <> — {run.error_node_id && <code>{run.error_node_id}</code>} {run.error}</> : null}
          {config.runUrlTemplate && <a href={config.runUrlTemplate.replace('{id}', run.id)} data-testid="run-link">Open in run viewer</a>}
          <button type="button" className="wf-icon-btn" aria-label="Clear run" onClick={() => { clearTimeout(pollRef.current); setRun(null) }}>×</button>
        </div>
      )}
      {!workflowId && templates.length > 0 && nodes.length === 0 && (
        <div className="wf-templates" data-testid="templates">
          <strong>Start from a template:</strong>
          {templates.map((t) => (
            <button key={t.key} type="button" className="button" onClick={() => { setName(t.name); applyDefinition(t.definition); setDirty(true) }}>
              {t.name}
            </button>
          ))}
        </div>
      )}

      <div className="wf-body">
        <Palette types={types} onAdd={(t) => addNode(t)} />
        <div className="wf-canvas" ref={wrapper} onDrop={onDrop} onDragOver={onDragOver} data-testid="canvas" data-view={viewState}>
          <ReactFlow
            nodes={displayNodes} edges={edges} nodeTypes={NODE_TYPES}
            onNodesChange={onNodesChange} onEdgesChange={onEdgesChange}
            onConnect={onConnect} isValidConnection={isValidConnection}
            onBeforeDelete={onBeforeDelete} onNodeDragStart={onNodeDragStart}
            onSelectionChange={onSelectionChange}
            deleteKeyCode={['Delete', 'Backspace']}
            colorMode={colorMode} defaultViewport={{ x: 0, y: 0, zoom: 1 }} minZoom={0.2} maxZoom={2}
            defaultEdgeOptions={{ type: 'smoothstep' }}
            proOptions={{ hideAttribution: false }}
          >
            <Background gap={16} />
            <Controls />
            <MiniMap pannable zoomable />
          </ReactFlow>
        </div>
        <aside className="wf-panel" aria-label="Properties" data-testid="panel">
          {showHistory && workflowId ? (
            <VersionHistory api={api} workflowId={workflowId} currentVersion={version}
              onClose={() => setShowHistory(false)}
              onRestore={(definition, number) => {
                snapshot()
                applyDefinition(definition, true)
                setDirty(true)
                setShowHistory(false)
                setNotice({ kind: 'success', text: `Loaded version ${number}; save to make it current.` })
              }} />
          ) : selected ? (
            <>
              <h2>{selectedInfo ? selectedInfo.label : selected.data.nodeType}</h2>
              {selectedInfo?.description && <p className="wf-muted">{selectedInfo.description}</p>}
              <div className="wf-field">
                <label htmlFor="node-id">Node id</label>
                <input id="node-id" key={selected.id} defaultValue={selected.id}
                  onBlur={(e) => renameNode(selected.id, e.target.value)}
                  onKeyDown={(e) => { if (e.key === 'Enter') e.currentTarget.blur() }} />
              </div>
              {selectedErrors?.other?.map((m, i) => <div key={i} className="wf-field-error" data-testid="node-error">{m}</div>)}
              {selectedInfo ? (
                <ConfigForm key={selected.id} nodeId={selected.id} typeInfo={selectedInfo}
                  config={selected.data.config || {}} errors={selectedErrors} api={api}
                  onChange={(field, value) => setConfigValue(selected.id, field, value)} />
              ) : <p className="errornote">Unknown node type {selected.data.nodeType}.</p>}
              {selectedInfo?.settings_schema && (
                <details className="wf-settings" open={!!(selectedErrors && Object.keys(selectedErrors.settings || {}).length)}>
                  <summary>Retries and error handling</summary>
                  <ConfigForm key={`${selected.id}-settings`} nodeId={`${selected.id}-settings`}
                    typeInfo={{ config_schema: selectedInfo.settings_schema, secret_fields: [] }}
                    config={selected.data.extra?.settings || {}}
                    errors={selectedErrors ? { fields: selectedErrors.settings } : undefined}
                    onChange={(field, value) => setSettingValue(selected.id, field, value)} />
                </details>
              )}
              {run && (
                <section className="wf-run-data" data-testid="run-data">
                  <h3>Last run: {selectedLog ? LOG_STATUS[selectedLog.status] || selectedLog.status : 'not reached'}</h3>
                  {selectedLog && (
                    <>
                      {selectedLog.duration_ms != null && <p className="wf-muted">{selectedLog.duration_ms} ms</p>}
                      {selectedLog.error && <div className="wf-field-error">{selectedLog.error}</div>}
                      <details open><summary>Input</summary><Json value={selectedLog.input} /></details>
                      <details open><summary>Output</summary><div data-testid="run-output"><Json value={selectedLog.output} /></div></details>
                    </>
                  )}
                </section>
              )}
            </>
          ) : (
            <div className="wf-muted wf-help-panel">
              <p>Drag a node from the palette onto the canvas, then connect an output port (right) to an input (left).</p>
              <p>Select a node to edit its settings. <kbd>Del</kbd> deletes, <kbd>Ctrl/⌘+Z</kbd> undoes,
                <kbd>Shift+Ctrl/⌘+Z</kbd> redoes, <kbd>Ctrl/⌘+S</kbd> saves, <kbd>Ctrl/⌘+C</kbd>/<kbd>V</kbd> copy and paste nodes as JSON.</p>
            </div>
          )}
        </aside>
      </div>

      {runDialog && (
        <div className="wf-modal-backdrop" onClick={(e) => { if (e.target === e.currentTarget) setRunDialog(false) }}>
          <div className="wf-modal" role="dialog" aria-label="Run workflow" data-testid="run-dialog">
            <h2>Run {name}</h2>
            <label htmlFor="run-input">Input payload (JSON)</label>
            <textarea id="run-input" className="wf-mono" rows={8} value={runInput} spellCheck={false}
              onChange={(e) => setRunInput(e.target.value)} />
            {runInputError && <div className="wf-field-error">{runInputError}</div>}
            {dirty && <p className="wf-muted">Unsaved changes are saved first.</p>}
            <div className="wf-modal-actions">
              <button type="button" className="button default" onClick={startRun} data-testid="start-run">Start run</button>
              <button type="button" className="button" onClick={() => setRunDialog(false)}>Cancel</button>
            </div>
          </div>
        </div>
      )}
    </div>
  )
}

export default function Editor({ config }) {
  return (
    <ReactFlowProvider>
      <EditorInner config={config} />
    </ReactFlowProvider>
  )
}

export { listOf }
