// The node panel, laid out as n8n's: Input | Parameters | Output. Input and Output come from
// the last run (the one started here, or the workflow's latest when the editor opened).
// Narrow, it shows one pane at a time under tabs of those names; expanded (the button, or a
// double click on a node) it covers the canvas with the three panes side by side.
// While the run started here runs the node, Output shows a model's answer as it streams.
import { Braces, ChevronsRight, Maximize2, Minimize2, Pin as PinIcon, PinOff, StepForward, X } from 'lucide-react'
import { useCallback, useMemo, useState, type ReactNode } from 'react'
import { pinOf } from '../hooks/usePins'
import type { ExpressionCheck, ExpressionCheckBody } from '../lib/api'
import { graphShapes, type Scope } from '../lib/completion'
import type { Action } from '../store/reducer'
import { usePartial } from '../hooks/usePartial'
import type { FieldErrors, NodeTypeInfo, PartialAnswer, Pin, Run, RunLog, WfEdge, WfNode, Workflow } from '../types'
import ConfigForm from './ConfigForm'
import { NodeIcon } from './icons'
import JsonTree, { childPath } from './JsonTree'
import JsonView from './JsonView'
import PinEditor from './PinEditor'
import WebhookInfo, { type WebhookApi } from './WebhookInfo'

export const LOG_STATUS: Record<string, string> = { started: 'running', succeeded: 'succeeded', failed: 'failed', skipped: 'skipped', waiting: 'waiting' }
type Tab = 'input' | 'parameters' | 'output'

interface Props {
  node: WfNode
  info?: NodeTypeInfo
  errors?: FieldErrors
  run: Run | null
  logs: Record<string, RunLog>
  edges: WfEdge[]
  /** The graph's nodes and the node types, for completion before a run. */
  nodes?: WfNode[]
  typeMap?: Record<string, NodeTypeInfo>
  workflow: Workflow | null
  expanded: boolean
  onExpand: (v: boolean) => void
  onClose: () => void
  dispatch: (a: Action) => void
  onInvalid: (nodeId: string, field: string, message: string | null) => void
  onRename: (from: string, to: string) => void
  loadCredentials?: (kinds: string[]) => Promise<unknown>
  /** Pinned data and test runs (absent: the panel offers neither). */
  pin?: Pin
  onPin?: (nodeId: string, log: RunLog) => void
  onUnpin?: (nodeId: string) => void
  /** Pin hand-typed data (throws the server's refusal). */
  onSetPin?: (nodeId: string, value: unknown, port?: string) => Promise<void>
  onRunStep?: (nodeId: string, mode: 'step' | 'from') => void
  checkExpression?: (body: ExpressionCheckBody) => Promise<ExpressionCheck>
  webhookApi?: WebhookApi
  onWorkflowSaved?: (wf: Workflow) => void
  /** Whether `run` was started here and is followed (its partial output is then polled). */
  live?: boolean
  partialOf?: (runId: number) => Promise<PartialAnswer>
}

const OVER = ['succeeded', 'failed', 'cancelled', 'waiting']

function InputPane({ node, run, logs, edges }: Pick<Props, 'node' | 'run' | 'logs' | 'edges'>) {
  const log = logs[node.id]
  const upstream = edges.filter((e) => e.target === node.id).map((e) => e.source)
  if (!run) return <p className="wf-muted">No run yet. Run the workflow to see what reaches this node.</p>
  if (log) return <JsonTree value={log.input} root="input" testId="run-input-data" />
  const from = upstream.filter((id) => logs[id])
  if (!from.length) return <p className="wf-muted">This node was not reached in run #{run.id}.</p>
  return <>{from.map((id) => <div key={id}><div className="wf-muted">from <code>{id}</code></div><JsonTree value={logs[id].output} root={childPath('nodes', id)} /></div>)}</>
}

type OutputProps = Pick<Props, 'node' | 'run' | 'logs' | 'pin' | 'onPin' | 'onUnpin' | 'onSetPin'> & { partial: string | null }

function OutputPane(p: OutputProps) {
  const [editing, setEditing] = useState(false)
  const { node, pin, logs, onSetPin } = p
  if (editing && onSetPin) {
    const log = logs[node.id]
    const initial = pin ? pin.value : log ? pinOf(log).value : {}
    const port = pin ? pin.port : log ? pinOf(log).port : undefined
    return <PinEditor key={node.id} initial={initial} onSave={(value) => onSetPin(node.id, value, port)} onClose={() => setEditing(false)} />
  }
  const edit = onSetPin && (
    <button type="button" className="button wf-btn" data-testid={pin ? 'edit-pin' : 'type-pin'} onClick={() => setEditing(true)}
      title="Type the data test runs use instead of running the node"><Braces size={14} /> {pin ? 'Edit JSON' : 'Type pinned data'}</button>
  )
  return <OutputView {...p} edit={edit} />
}

function OutputView({ node, run, logs, pin, onPin, onUnpin, edit, partial }: OutputProps & { edit: ReactNode }) {
  const log = logs[node.id]
  if (pin) {
    // Pinned data is what test runs from the editor use instead of running the node.
    return (
      <div className="wf-pinned" data-testid="pinned-output">
        <p className="wf-muted">
          <span className="wf-pill wf-pill-pinned" data-testid="pinned-badge"><PinIcon size={12} /> pinned</span>
          {pin.port && pin.port !== 'main' && <> on <code>{pin.port}</code></>} · used by test runs from the editor, never by production runs
        </p>
        {onUnpin && <button type="button" className="button wf-btn" data-testid="unpin" onClick={() => onUnpin(node.id)}><PinOff size={14} /> Unpin</button>}
        {edit}
        <div data-testid="pinned-value"><JsonView value={pin.value} /></div>
      </div>
    )
  }
  if (!run) return <><p className="wf-muted">No run yet.</p>{edit}</>
  if (partial !== null && (!log || log.status === 'started')) {
    return (
      <>
        <p className="wf-muted">Run #{run.id}: <span className="wf-pill wf-pill-running">running</span> · the answer so far</p>
        <pre className="wf-json wf-partial" data-testid="run-partial" aria-live="polite">{partial}</pre>
      </>
    )
  }
  if (!log) return <><p className="wf-muted">Not reached in run #{run.id}.</p>{edit}</>
  const pinnable = onPin && (log.status === 'succeeded' || (log.status === 'failed' && log.ports))
  return (
    <>
      <p className="wf-muted">
        Run #{run.id}: <span className={`wf-pill wf-pill-${LOG_STATUS[log.status] || log.status}`}>{LOG_STATUS[log.status] || log.status}</span>
        {log.duration_ms != null && <> · {log.duration_ms} ms</>}
        {run.test?.pinned.includes(node.id) && <> · from pinned data</>}
        {run.test?.reused[node.id] && <> · output of run #{run.test.reused[node.id]}</>}
      </p>
      {pinnable && (
        <button type="button" className="button wf-btn" data-testid="pin-output" title="Use this output in test runs instead of running the node"
          onClick={() => onPin(node.id, log)}><PinIcon size={14} /> Pin output</button>
      )}
      {edit}
      {log.error && <div className="wf-field-error" data-testid="run-error-data">{log.error}</div>}
      <div data-testid="run-output"><JsonView value={log.output} /></div>
    </>
  )
}

/** What an expression of this node sees, as in the last run: its input, the trigger payload
 * and every node's output. */
export function runScope(nodeId: string, run: Run | null, logs: Record<string, RunLog>, edges: WfEdge[]): Scope {
  if (!run) return {}
  const nodes = Object.fromEntries(Object.values(logs).filter((l) => l.output !== undefined).map((l) => [l.node_id, l.output]))
  const upstream = edges.filter((e) => e.target === nodeId).map((e) => logs[e.source]).filter(Boolean)
  const input = logs[nodeId]?.input ?? (upstream.length === 1 ? upstream[0].output : undefined)
  return { input, trigger: run.input ?? undefined, nodes }
}

export default function NodePanel(p: Props) {
  const { node, info, errors, expanded } = p
  const scope = runScope(node.id, p.run, p.logs, p.edges)
  const [tab, setTab] = useState<Tab>('parameters')
  const log = p.logs[node.id]
  // Polled while the run started here goes on and this node has not ended (nor the panel closed).
  const streaming = !!(p.live && p.run && !OVER.includes(p.run.status) && (!log || log.status === 'started'))
  const partial = usePartial(p.partialOf, p.run?.id, node.id, streaming)
  const { nodes: graphNodes, typeMap, edges } = p
  const shapes = useMemo(() => graphShapes(node.id, {
    nodes: (graphNodes || []).map((n) => ({ id: n.id, type: n.data.nodeType, config: n.data.config })),
    edges, types: typeMap || {},
  }), [node.id, graphNodes, edges, typeMap])
  const hasRun = !!((p.run && log) || p.pin || partial !== null)
  const { checkExpression } = p
  const runId = p.run?.id
  const workflowId = p.workflow?.id
  // The expression fields' live preview: evaluated with the last run's data for this node.
  const preview = useCallback((expression: string, kind: 'template' | 'expression') => {
    if (!checkExpression) return Promise.reject(new Error('no API'))
    return checkExpression({ expression, kind, node: node.id, ...(runId ? { run: runId } : {}), ...(workflowId ? { workflow: workflowId } : {}) })
  }, [checkExpression, node.id, runId, workflowId])
  const tabs: [Tab, string][] = [['input', 'Input'], ['parameters', 'Parameters'], ['output', 'Output']]
  return (
    <section className={`wf-ndv${expanded ? ' wf-ndv-expanded' : ''}`} data-testid="node-panel" data-tab={tab}
      data-expanded={expanded ? '1' : '0'} aria-label={`Node ${node.id}`}>
      <header className="wf-ndv-head">
        <NodeIcon type={node.data.nodeType} name={info?.icon} category={info?.category} size={16} />
        <h2>{info ? info.label : node.data.nodeType}</h2>
        <div className="wf-tabs" role="tablist">
          {tabs.map(([key, label]) => (
            <button key={key} type="button" role="tab" aria-selected={tab === key} data-testid={`tab-${key}`}
              className={`wf-tab${tab === key ? ' wf-tab-on' : ''}${key === 'output' && hasRun ? ' wf-tab-data' : ''}`}
              onClick={() => setTab(key)}>{label}</button>
          ))}
        </div>
        {p.onRunStep && (
          <span className="wf-step-actions">
            <button type="button" className="button wf-btn" data-testid="run-step" title="Run only this node, on its upstream nodes' pinned or last-run output"
              onClick={() => p.onRunStep?.(node.id, 'step')}><StepForward size={14} /> <span className="wf-btn-text">Run step</span></button>
            <button type="button" className="button wf-btn" data-testid="run-from" title="Run this node and what follows; the nodes before it give their pinned or last-run output"
              onClick={() => p.onRunStep?.(node.id, 'from')}><ChevronsRight size={14} /> <span className="wf-btn-text">Run from here</span></button>
          </span>
        )}
        <button type="button" className="wf-icon-btn" data-testid="expand-panel" onClick={() => p.onExpand(!expanded)}
          title={expanded ? 'Back to the canvas' : 'Input | Parameters | Output side by side'} aria-label={expanded ? 'Collapse panel' : 'Expand panel'}>
          {expanded ? <Minimize2 size={16} /> : <Maximize2 size={16} />}
        </button>
        <button type="button" className="wf-icon-btn" aria-label="Close panel" data-testid="close-panel" onClick={p.onClose}><X size={16} /></button>
      </header>
      <div className="wf-ndv-panes">
        <div className="wf-pane wf-pane-input" data-pane="input" data-testid="pane-input">
          <h3>Input</h3>
          <InputPane node={node} run={p.run} logs={p.logs} edges={p.edges} />
        </div>
        <div className="wf-pane wf-pane-parameters" data-pane="parameters" data-testid="pane-parameters">
          <h3>Parameters</h3>
          {info?.description && <p className="wf-muted">{info.description}</p>}
          <div className="wf-field">
            <label htmlFor="node-id">Node id</label>
            <input id="node-id" key={node.id} defaultValue={node.id}
              onBlur={(e) => p.onRename(node.id, e.target.value)}
              onKeyDown={(e) => { if (e.key === 'Enter') e.currentTarget.blur() }} />
          </div>
          {errors?.other?.map((m, i) => <div key={i} className="wf-field-error" data-testid="node-error">{m}</div>)}
          {node.data.nodeType === 'webhook' && <WebhookInfo workflow={p.workflow} api={p.webhookApi} onSaved={p.onWorkflowSaved} />}
          {info ? (
            <ConfigForm key={node.id} formId="cfg" nodeId={node.id} schema={info.config_schema || {}}
              secretFields={info.secret_fields} config={node.data.config || {}} errors={errors?.fields} scope={scope} shapes={shapes}
              loadCredentials={p.loadCredentials} preview={checkExpression ? preview : undefined}
              onChange={(field, value) => p.dispatch({ type: 'setConfig', nodeId: node.id, field, value })}
              onInvalid={(field, m) => p.onInvalid(node.id, `config.${field}`, m)} />
          ) : <p className="errornote">Unknown node type {node.data.nodeType}.</p>}
          {info?.settings_schema && (
            <details className="wf-settings" open={!!(errors && Object.keys(errors.settings || {}).length)}>
              <summary>Retries and error handling</summary>
              <ConfigForm key={`${node.id}-settings`} formId="set" nodeId={`${node.id}-settings`}
                schema={info.settings_schema} config={node.data.extra?.settings || {}}
                errors={errors?.settings}
                onChange={(field, value) => p.dispatch({ type: 'setSetting', nodeId: node.id, field, value })}
                onInvalid={(field, m) => p.onInvalid(node.id, `settings.${field}`, m)} />
            </details>
          )}
        </div>
        <div className="wf-pane wf-pane-output" data-pane="output" data-testid="pane-output">
          <h3>Output</h3>
          <OutputPane key={node.id} node={node} run={p.run} logs={p.logs} pin={p.pin} onPin={p.onPin} onUnpin={p.onUnpin} onSetPin={p.onSetPin} partial={partial} />
        </div>
      </div>
    </section>
  )
}
