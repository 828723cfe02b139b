// How one node looks on the canvas: its type's label and icon, its id, one input handle
// (unless it is a trigger) and one output handle per port of its type, plus the status of
// the current run and a count of validation errors.
import { Handle, Position } from '@xyflow/react'
import { memo } from 'react'

const ICONS = {
  globe: '🌐', sparkles: '✨', shuffle: '⇄', webhook: '⚡', box: '▢', clock: '⏰',
  'git-branch': '⑂', code: '</>', mail: '✉', repeat: '↻', timer: '⏱', filter: '⏷',
  merge: '⋈', reply: '↩', play: '▶', database: '⛁',
}
export const iconFor = (name) => ICONS[name] || '◆'

function NodeView({ id, data, selected }) {
  const info = data.typeInfo
  let outputs = data.ports || (info ? info.outputs : ['main'])
  // on_error "route" gives every node an `error` output.
  if (data.extra?.settings?.on_error === 'route' && !outputs.includes('error')) outputs = [...outputs, 'error']
  const inputs = info ? info.inputs : ['main']
  const status = data.runStatus || ''
  const errorCount = data.errorCount || 0
  return (
    <div className={`wf-node${selected ? ' wf-selected' : ''}${status ? ` wf-status-${status}` : ''}${errorCount ? ' wf-node-invalid' : ''}`}
      data-testid={`node-${id}`} data-status={status} data-errors={errorCount}>
      {inputs.length > 0 && <Handle type="target" position={Position.Left} id="main" className="wf-handle-in" />}
      <div className="wf-node-head">
        <span className="wf-node-icon" aria-hidden="true">{iconFor(info?.icon)}</span>
        <span className="wf-node-label">{info ? info.label : data.nodeType}</span>
        {status && <span className={`wf-node-status wf-st-${status}`} title={status}>{status}</span>}
      </div>
      <div className="wf-node-id">{id}</div>
      {!info && <div className="wf-node-problem">unknown type {data.nodeType}</div>}
      {errorCount > 0 && <div className="wf-node-problem" data-testid={`node-errors-${id}`}>{errorCount} problem{errorCount > 1 ? 's' : ''}</div>}
      <div className="wf-ports">
        {outputs.map((port) => (
          <div className="wf-port" key={port}>
            {outputs.length > 1 || port !== 'main' ? <span className="wf-port-name">{port}</span> : null}
            <Handle type="source" position={Position.Right} id={port} className="wf-handle-out" data-port={port} />
          </div>
        ))}
      </div>
    </div>
  )
}

export default memo(NodeView)
