// The workflow editor: toolbar, banners, palette, canvas, node panel, dialogs. The workflow
// being edited lives in one store (store/reducer.ts); this component holds the session
// around it (the saved version, the run shown, conflicts, notices) and wires the parts.
import { ReactFlowProvider, useReactFlow } from '@xyflow/react'
import { X } from 'lucide-react'
import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { useColorMode } from '../hooks/useColorMode'
import { useDynamicPorts } from '../hooks/useDynamicPorts'
import { usePins } from '../hooks/usePins'
import { usePresence } from '../hooks/usePresence'
import { useRun } from '../hooks/useRun'
import { useShortcuts } from '../hooks/useShortcuts'
import { useWorkflowFiles, type Notice } from '../hooks/useWorkflowFiles'
import { ApiError, listOf, makeApi } from '../lib/api'
import { definitionIn, fromDefinition, mapErrors, toDefinition } from '../lib/definition'
import { diffDefinitions, mergeOnTop } from '../lib/diff'
import { autoLayout } from '../lib/layout'
import { freeSpot, NODE_HEIGHT, NODE_WIDTH, spotRightOf, type Point } from '../lib/placement'
import { EditorStoreProvider, useEditorStore } from '../store/EditorStore'
import { currentDefinition, selectedNode } from '../store/reducer'
import type { Definition, EditorConfig, ErrorMap, Json, NodeTypeInfo, WfNode, Workflow } from '../types'
import Canvas from './Canvas'
import ConflictBanner, { type Conflict } from './ConflictBanner'
import NodePanel, { LOG_STATUS } from './NodePanel'
import { PortPlusContext } from './NodeView'
import Palette from './Palette'
import QuickAdd from './QuickAdd'
import N8nImportDialog from './N8nImportDialog'
import RunDialog, { errorLines } from './RunDialog'
import ShortcutHelp from './ShortcutHelp'
import Toolbar from './Toolbar'
import VersionHistory from './VersionHistory'

/** A workflow's definition under the workflow's own name (the one the editor edits). */
const named = (wf: Workflow): Definition => ({ ...wf.definition, name: wf.name })
const NO_ERRORS: ErrorMap = { nodes: {}, general: [] }

/** Nodes that nothing leads to (and that are no trigger): they never run. */
export function unconnected(nodes: WfNode[], edges: { target: string }[], typeMap: Record<string, NodeTypeInfo>): string[] {
  if (nodes.length < 2) return []
  const reached = new Set(edges.map((e) => e.target))
  return nodes.filter((n) => !reached.has(n.id) && !typeMap[n.data.nodeType]?.is_trigger).map((n) => n.id)
}

function EditorInner({ config }: { config: EditorConfig }) {
  const api = useMemo(() => makeApi(config), [config])
  const flow = useReactFlow()
  const colorMode = useColorMode()
  const { state, dispatch } = useEditorStore()
  const wrapper = useRef<HTMLDivElement>(null)
  const pointer = useRef<Point | null>(null)

  const [types, setTypes] = useState<NodeTypeInfo[]>([])
  const [loadError, setLoadError] = useState('')
  const [workflowId, setWorkflowId] = useState<number | null>(config.workflowId)
  const [workflow, setWorkflow] = useState<Workflow | null>(null)
  const [version, setVersion] = useState<number | null>(null)
  const [saving, setSaving] = useState(false)
  const [notice, setNotice] = useState<Notice>(null)
  const [errors, setErrors] = useState<ErrorMap>(NO_ERRORS)
  const [invalid, setInvalid] = useState<Record<string, string>>({})
  const [conflict, setConflict] = useState<Conflict | null>(null)
  const [runDialog, setRunDialog] = useState(false)
  const [runInput, setRunInput] = useState('{}')
  const [runInputError, setRunInputError] = useState('')
  const [runProblems, setRunProblems] = useState<string[]>([])
  const [showHistory, setShowHistory] = useState(false)
  const [help, setHelp] = useState(false)
  const [n8nImport, setN8nImport] = useState<{ fileName: string; data: unknown } | null>(null)
  const [quickAdd, setQuickAdd] = useState<{ source: string; port: string } | null>(null)
  const [expanded, setExpandedState] = useState(() => localStorage.getItem('wfaib.panel.expanded') === '1')
  const setExpanded = (v: boolean) => { setExpandedState(v); localStorage.setItem('wfaib.panel.expanded', v ? '1' : '0') }
  const [viewState, setViewState] = useState(config.workflowId ? 'loading' : 'ready')

  const typeMap = useMemo(() => Object.fromEntries(types.map((t) => [t.type, t])), [types])
  const latest = useRef({ state, version, workflowId, invalid, typeMap })
  latest.current = { state, version, workflowId, invalid, typeMap }
  const lost = useCallback((text: string) => setNotice({ kind: 'error', text }), [])
  const { run, live, logs, start, clear } = useRun(api, workflowId, lost)
  const { pins, pin, unpin, setPin } = usePins(api, workflowId, state.pins, dispatch, lost)
  const presence = usePresence(config, workflowId)
  const ports = useDynamicPorts(config, state.nodes, typeMap)

  // ---- view ---------------------------------------------------------------------------------
  const toFlow = useCallback((p: Point) => flow.screenToFlowPosition(p), [flow])
  useEffect(() => {
    if (!state.fitRequest) return undefined
    // Nothing to fit on an empty canvas (React Flow's fitView would wait for nodes).
    if (!latest.current.state.nodes.length) { setViewState('ready'); return undefined }
    setViewState('fitting')
    const t = setTimeout(() => {
      const done = new Promise((resolve) => setTimeout(resolve, 2000)) // never stay "fitting"
      Promise.race([Promise.resolve(flow.fitView({ padding: 0.2, maxZoom: 1.2 })), done]).finally(() => setViewState('ready'))
    }, 50)
    return () => clearTimeout(t)
  }, [state.fitRequest, flow])

  // ---- loading ------------------------------------------------------------------------------
  const load = useCallback(async (id: number) => {
    const wf = await api.getWorkflow(id)
    const loaded = fromDefinition(wf.definition)
    dispatch({ type: 'load', name: wf.name, definition: named(wf), nodes: loaded.missingPositions ? autoLayout(loaded.nodes, loaded.edges) : undefined })
    setWorkflow(wf)
    setVersion(wf.version)
    setErrors(NO_ERRORS)
    setConflict(null)
    return wf
  }, [api, dispatch])

  const started = useRef(false)
  useEffect(() => {
    if (started.current) return
    started.current = true
    // A new workflow is there at once (a template picked before the node types arrive stays).
    if (!config.workflowId) dispatch({ type: 'load', name: 'New workflow', definition: { nodes: [], edges: [] } })
    ;(async () => {
      try {
        setTypes(listOf(await api.nodeTypes()))
        if (config.workflowId) await load(config.workflowId)
      } catch (e) {
        setLoadError((e as Error).message || String(e))
      }
    })()
  }, [api, config.workflowId, load, dispatch])

  // ---- editing ------------------------------------------------------------------------------
  const addNode = useCallback((type: string, at?: Point, after?: { source: string; port: string }) => {
    const nodes = latest.current.state.nodes
    let position = at
    if (!position && after) {
      const source = nodes.find((n) => n.id === after.source)
      position = source ? spotRightOf(source, nodes) : undefined
    }
    if (!position) {
      const rect = wrapper.current?.getBoundingClientRect()
      const centre = rect ? toFlow({ x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 }) : { x: 0, y: 0 }
      position = freeSpot({ x: Math.round(centre.x - NODE_WIDTH / 2), y: Math.round(centre.y - NODE_HEIGHT / 2) }, nodes)
    }
    dispatch({ type: 'addNode', nodeType: type, position, after })
    // Bring it into view when it landed outside the visible part of the canvas.
    const rect = wrapper.current?.getBoundingClientRect()
    if (rect) {
      const a = flow.flowToScreenPosition(position)
      const b = flow.flowToScreenPosition({ x: position.x + NODE_WIDTH + 40, y: position.y + NODE_HEIGHT })
      if (a.x < rect.left || a.y < rect.top || b.x > rect.right || b.y > rect.bottom) {
        flow.setCenter(position.x + NODE_WIDTH / 2, position.y + NODE_HEIGHT / 2, { zoom: flow.getZoom() })
      }
    }
  }, [dispatch, toFlow, flow])

  const onInvalid = useCallback((nodeId: string, field: string, message: string | null) => {
    setInvalid((cur) => {
      const key = `${nodeId}|${field}`
      if (!message && !(key in cur)) return cur
      const next = { ...cur }
      if (message) next[key] = message
      else delete next[key]
      return next
    })
  }, [])

  // ---- saving -------------------------------------------------------------------------------
  const save = useCallback(async (overwriteVersion?: number): Promise<Workflow | null> => {
    const { state: s, workflowId: id, version: v, invalid: bad, typeMap: tm } = latest.current
    const definition = currentDefinition(s)
    const ids = new Set(s.nodes.map((n) => n.id))
    const stillBad = Object.keys(bad).filter((k) => ids.has(k.split('|')[0]))
    if (stillBad.length) {
      const [nodeId, field] = stillBad[0].split('|')
      dispatch({ type: 'select', id: nodeId })
      setNotice({ kind: 'error', text: `Not saved: ${nodeId} ${field.replace('config.', '')} is ${bad[stillBad[0]]}.` })
      return null
    }
    setSaving(true)
    setNotice(null)
    try {
      let wf: Workflow
      if (id) {
        wf = await api.updateWorkflow(id, { name: s.name, definition, version: overwriteVersion ?? v })
      } else {
        wf = await api.createWorkflow({ name: s.name, definition })
        setWorkflowId(wf.id)
        if (config.editorUrlTemplate) window.history.replaceState(null, '', config.editorUrlTemplate.replace('{id}', String(wf.id)))
      }
      dispatch({ type: 'saved', definition: wf.definition ? named(wf) : definition })
      setWorkflow(wf)
      setVersion(wf.version)
      setErrors(NO_ERRORS)
      setConflict(null)
      const loose = unconnected(s.nodes, s.edges, tm)
      setNotice(loose.length
        ? { kind: 'warning', text: `Saved (version ${wf.version}), but ${loose.join(', ')} ${loose.length > 1 ? 'are' : 'is'} not connected and will never run.` }
        : { kind: 'success', text: `Saved (version ${wf.version}).` })
      return wf
    } catch (e) {
      if (e instanceof ApiError && e.status === 409 && id) {
        const mine = diffDefinitions(s.base, definition)
        setConflict({ current: e.body.current_version ?? null, theirs: null, mine })
        api.getWorkflow(id).then((theirs) => {
          setConflict((c) => c && { ...c, current: theirs.version, theirs: diffDefinitions(latest.current.state.base, named(theirs)) })
          theirsRef.current = theirs
        }).catch(() => { /* the banner still offers reload and overwrite */ })
      } else if (e instanceof ApiError && e.status === 400 && Array.isArray(e.body.errors)) {
        const mapped = mapErrors(e.body.errors, definition)
        setErrors(mapped)
        const first = Object.keys(mapped.nodes)[0]
        if (first) dispatch({ type: 'select', id: first })
        const n = e.body.errors.length
        setNotice({ kind: 'error', text: `Not saved: ${n} problem${n > 1 ? 's' : ''} in the workflow.` })
      } else {
        setNotice({ kind: 'error', text: `Not saved: ${(e as Error).message}` })
      }
      return null
    } finally {
      setSaving(false)
    }
  }, [api, config.editorUrlTemplate, dispatch])
  const theirsRef = useRef<Workflow | null>(null)

  const reload = useCallback(async () => {
    try {
      await load(latest.current.workflowId!)
      setNotice({ kind: 'success', text: 'Reloaded the latest version.' })
    } catch (e) {
      setNotice({ kind: 'error', text: `Could not reload: ${(e as Error).message}` })
    }
  }, [load])

  const mergeMine = useCallback(() => {
    const theirs = theirsRef.current
    const s = latest.current.state
    if (!theirs || !s.base) return
    const { merged, overridden } = mergeOnTop(s.base, currentDefinition(s), named(theirs))
    dispatch({ type: 'replace', definition: merged, name: merged.name || s.name })
    dispatch({ type: 'rebase', definition: named(theirs) })
    setVersion(theirs.version)
    setConflict(null)
    setNotice({ kind: 'warning', text: `Your changes are on top of version ${theirs.version}${overridden.length ? ` (yours replaced theirs in ${overridden.join(', ')})` : ''}. Review, then save.` })
  }, [dispatch])

  // ---- running ------------------------------------------------------------------------------
  const startRun = useCallback(async () => {
    let input: Json
    try {
      input = runInput.trim() ? JSON.parse(runInput) : null
    } catch {
      setRunInputError('The input must be valid JSON.')
      return
    }
    setRunInputError('')
    setRunProblems([])
    let id = latest.current.workflowId
    if (latest.current.state.dirty || !id) {
      const saved = await save()
      if (!saved) {
        // Stay open and say why: the errors of the save that failed.
        setRunInputError('The workflow could not be saved, so it was not run:')
        return
      }
      id = saved.id
    }
    try {
      // With pinned nodes the editor's run is a test run that uses their pinned data.
      await start(id, input, Object.keys(pinsRef.current).length ? { mode: 'workflow' } : undefined)
      setRunDialog(false)
    } catch (e) {
      setRunInputError(`Could not start the run: ${(e as Error).message}`)
    }
  }, [runInput, save, start])
  const pinsRef = useRef(pins)
  pinsRef.current = pins

  /** "Run step" / "Run from here": save first when needed, then a test run of the node. */
  const runStep = useCallback(async (nodeId: string, mode: 'step' | 'from') => {
    let id = latest.current.workflowId
    if (latest.current.state.dirty || !id) {
      const saved = await save()
      if (!saved) return
      id = saved.id
    }
    try {
      await start(id, null, { mode, node: nodeId })
      setNotice({ kind: 'success', text: mode === 'step' ? `Running ${nodeId} on its upstream data.` : `Running from ${nodeId}.` })
    } catch (e) {
      setNotice({ kind: 'error', text: `Could not run ${nodeId}: ${(e as Error).message}` })
    }
  }, [save, start])
  useEffect(() => {
    if (runDialog && runInputError.startsWith('The workflow could not be saved')) {
      setRunProblems([...errorLines(errors, invalid), ...(notice?.kind === 'error' && !errors.general.length && !Object.keys(errors.nodes).length ? [notice.text] : [])])
    }
  }, [runDialog, runInputError, errors, invalid, notice])

  // ---- export / import / paste --------------------------------------------------------------
  const { exportJson, importJson, importN8n } = useWorkflowFiles(latest, dispatch, setNotice, setN8nImport)

  useShortcuts({
    save: () => { save() },
    undo: () => dispatch({ type: 'undo' }),
    redo: () => dispatch({ type: 'redo' }),
    help: () => setHelp((v) => !v),
    escape: () => {
      if (help) setHelp(false)
      else if (quickAdd) setQuickAdd(null)
      else if (runDialog) setRunDialog(false)
      else if (expanded) setExpanded(false)
    },
    copy: (e) => {
      const s = latest.current.state
      const sel = s.nodes.filter((n) => n.selected)
      if (!sel.length) return
      const ids = new Set(sel.map((n) => n.id))
      const def = toDefinition(s.name, sel, s.edges.filter((ed) => ids.has(ed.source) && ids.has(ed.target)))
      e.clipboardData?.setData('text/plain', JSON.stringify({ wfaib: 'nodes', nodes: def.nodes, edges: def.edges }, null, 2))
      e.preventDefault()
      setNotice({ kind: 'success', text: `Copied ${sel.length} node${sel.length > 1 ? 's' : ''}.` })
    },
    paste: (e) => {
      let found: ReturnType<typeof definitionIn>
      try { found = definitionIn(JSON.parse(e.clipboardData?.getData('text/plain') || '')) } catch { return }
      if (!found || !found.definition.nodes.length) return
      e.preventDefault()
      dispatch({ type: 'paste', definition: found.definition, cursor: pointer.current })
      const n = found.definition.nodes.length
      setNotice({ kind: 'success', text: `Pasted ${n} node${n > 1 ? 's' : ''}.` })
    },
  })

  useEffect(() => {
    const warn = (e: BeforeUnloadEvent) => { if (latest.current.state.dirty) { e.preventDefault(); e.returnValue = '' } }
    window.addEventListener('beforeunload', warn)
    return () => window.removeEventListener('beforeunload', warn)
  }, [])

  // ---- rendering ----------------------------------------------------------------------------
  const loose = useMemo(() => new Set(unconnected(state.nodes, state.edges, typeMap)), [state.nodes, state.edges, typeMap])
  const decorate = useCallback((n: WfNode) => {
    const e = errors.nodes[n.id]
    const log = logs[n.id]
    const clientErrors = Object.keys(invalid).filter((k) => k.startsWith(`${n.id}|`)).length
    return {
      typeInfo: typeMap[n.data.nodeType],
      runStatus: log ? LOG_STATUS[log.status] || log.status : '',
      errorCount: clientErrors + (e ? Object.values(e.fields).flat().length + Object.values(e.settings).flat().length + e.other.length : 0),
      ports: ports[n.id],
      unconnected: loose.has(n.id),
      pinned: n.id in pins,
    }
  }, [errors, logs, typeMap, ports, loose, invalid, pins])

  const onPortPlus = useCallback((source: string, port: string) => setQuickAdd({ source, port }), [])
  const selected = selectedNode(state)
  const theirSave = !!(presence.version && version && presence.version > version && !presence.mine)

  if (loadError) return <div className="wf-editor"><p className="errornote">Could not load the editor: {loadError}</p></div>

  return (
    <div className="wf-editor" data-testid="editor" data-dirty={state.dirty ? '1' : '0'} data-version={version ?? ''}>
      <Toolbar name={state.name} version={version} dirty={state.dirty} saving={saving}
        canUndo={state.past.length > 0} canRedo={state.future.length > 0} workflowId={workflowId}
        runsUrl={workflowId && config.runsUrlTemplate ? config.runsUrlTemplate.replace('{id}', String(workflowId)) : undefined}
        onName={(name) => dispatch({ type: 'setName', name })} onSave={() => save()} onRun={() => { setRunProblems([]); setRunInputError(''); setRunDialog(true) }}
        onUndo={() => dispatch({ type: 'undo' })} onRedo={() => dispatch({ type: 'redo' })}
        onLayout={() => dispatch({ type: 'setNodes', nodes: autoLayout(state.nodes, state.edges), fit: true })}
        onHistory={() => setShowHistory((v) => !v)} onExport={exportJson} onImport={importJson} onHelp={() => setHelp(true)}
        onImportN8n={importN8n} variablesUrl={config.variablesUrl} />

      {(presence.others.length > 0 || theirSave) && (
        <div className="wf-banner wf-presence" data-testid="presence">
          {presence.others.length > 0 && <span>Also editing: {presence.others.map((e) => <span key={e} className="wf-badge">{e}</span>)}</span>}
          {theirSave && !conflict && (
            <span data-testid="their-save">
              {presence.by || 'Someone'} saved version {presence.version}.
              <button type="button" className="button" onClick={() => {
                if (!state.dirty || window.confirm('Discard your unsaved changes and load their version?')) reload()
              }} data-testid="load-their-save">Load their version</button>
            </span>
          )}
        </div>
      )}
      {conflict && (
        <ConflictBanner conflict={conflict} version={version} onReload={reload} onDismiss={() => setConflict(null)}
          onMerge={mergeMine} onOverwrite={() => { if (conflict.current) save(conflict.current) }} />
      )}
      {notice && (
        <div className={`wf-banner wf-banner-${notice.kind}`} role="status" data-testid="notice" data-kind={notice.kind}>
          <span>{notice.text}</span>
          <button type="button" className="wf-icon-btn" aria-label="Dismiss" onClick={() => setNotice(null)}><X size={14} /></button>
        </div>
      )}
      {errors.general.length > 0 && (
        <ul className="wf-banner wf-banner-error wf-error-list" data-testid="general-errors">
          {errors.general.map((e, i) => <li key={i}><code>{e.path || 'workflow'}</code>: {e.message}</li>)}
        </ul>
      )}
      {run && (
        <div className={`wf-banner wf-run-bar wf-run-${run.status}`} data-testid="run-bar" data-run-status={run.status}>
          <span>{live ? 'Run' : 'Last run'} #{run.id}: <strong>{run.status}</strong></span>
          {run.error ? <span> — {run.error_node_id && <code>{run.error_node_id}</code>} {run.error}</span> : null}
          {config.runUrlTemplate && <a href={config.runUrlTemplate.replace('{id}', String(run.id))} data-testid="run-link">Open in run viewer</a>}
          <button type="button" className="wf-icon-btn" aria-label="Clear run" onClick={clear}><X size={14} /></button>
        </div>
      )}

      <div className="wf-body">
        <Palette types={types} onAdd={(t) => addNode(t)} />
        <PortPlusContext.Provider value={onPortPlus}>
        <Canvas wrapper={wrapper} pointer={pointer} typeMap={typeMap} decorate={decorate} viewState={viewState}
          colorMode={colorMode} toFlow={toFlow} onDropType={(t, p) => addNode(t, { x: p.x - NODE_WIDTH / 2, y: p.y - NODE_HEIGHT / 2 })}
          onNodeDoubleClick={(id) => { dispatch({ type: 'select', id }); setExpanded(true) }}>
          {!workflowId && (config.templates || []).length > 0 && state.nodes.length === 0 && (
            <div className="wf-templates" data-testid="templates">
              <strong>Start from a template</strong>
              {(config.templates || []).map((t) => (
                <button key={t.key} type="button" className="button" onClick={() => dispatch({ type: 'replace', definition: t.definition as Definition, name: t.name })}>
                  {t.name}
                </button>
              ))}
              <span className="wf-muted">or drag a node from the palette.</span>
            </div>
          )}
          {quickAdd && (
            <QuickAdd types={types} source={quickAdd.source} port={quickAdd.port} onClose={() => setQuickAdd(null)}
              onPick={(t) => { addNode(t, undefined, quickAdd); setQuickAdd(null) }} />
          )}
        </Canvas>
        </PortPlusContext.Provider>
        {showHistory && workflowId ? (
          <aside className="wf-side" aria-label="Version history">
            <VersionHistory api={api} workflowId={workflowId} currentVersion={version} onClose={() => setShowHistory(false)}
              onRestore={(definition, number) => {
                dispatch({ type: 'replace', definition })
                setShowHistory(false)
                setNotice({ kind: 'success', text: `Loaded version ${number}; save to make it current (Ctrl+Z undoes).` })
              }} />
          </aside>
        ) : selected ? (
          <NodePanel node={selected} info={typeMap[selected.data.nodeType]} errors={errors.nodes[selected.id]}
            run={run} logs={logs} edges={state.edges} nodes={state.nodes} typeMap={typeMap} workflow={workflow} expanded={expanded} onExpand={setExpanded}
            onClose={() => { setExpanded(false); dispatch({ type: 'select', id: null }) }} dispatch={dispatch} onInvalid={onInvalid}
            loadCredentials={api.credentials} checkExpression={api.checkExpression} live={live} partialOf={api.runPartial}
            webhookApi={api} onWorkflowSaved={(wf) => { setWorkflow(wf); setVersion(wf.version) }}
            pin={pins[selected.id]} onPin={workflowId ? pin : undefined} onUnpin={unpin} onSetPin={workflowId ? setPin : undefined} onRunStep={runStep}
            onRename={(from, to) => {
              if (to.trim() && to.trim() !== from && state.nodes.some((n) => n.id === to.trim())) {
                setNotice({ kind: 'error', text: `A node called "${to.trim()}" already exists.` })
              } else dispatch({ type: 'rename', from, to })
            }} />
        ) : (
          <aside className="wf-side wf-muted wf-help-panel" data-testid="panel">
            <p>Drag a node from the palette onto the canvas, or use the <strong>+</strong> beside a node&apos;s output to add the next one.</p>
            <p>Select a node to edit it; double click for Input | Parameters | Output side by side. Press <kbd>?</kbd> for the keyboard shortcuts.</p>
          </aside>
        )}
      </div>

      {runDialog && (
        <RunDialog name={state.name} value={runInput} onChange={setRunInput} error={runInputError} problems={runProblems}
          dirty={state.dirty} pinned={Object.keys(pins).filter((id) => state.nodes.some((n) => n.id === id))}
          onStart={startRun} onClose={() => setRunDialog(false)} />
      )}
      {help && <ShortcutHelp onClose={() => setHelp(false)} />}
      {n8nImport && (
        <N8nImportDialog fileName={n8nImport.fileName} data={n8nImport.data} api={api} onClose={() => setN8nImport(null)}
          onCreated={(wf) => {
            setN8nImport(null)
            if (config.editorUrlTemplate) window.location.assign(config.editorUrlTemplate.replace('{id}', String(wf.id)))
          }} />
      )}
    </div>
  )
}

export default function Editor({ config }: { config: EditorConfig }) {
  return (
    <ReactFlowProvider>
      <EditorStoreProvider>
        <EditorInner config={config} />
      </EditorStoreProvider>
    </ReactFlowProvider>
  )
}
