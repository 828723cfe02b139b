// How one node looks on the canvas: a fixed-size card with its type's icon on the colour of
// its category, its label and id, one input port (unless it is a trigger) and one output port
// per port of its type, a status mark from the current run at a corner (it never changes the
// node's size), a count of validation problems, and a "+" beside each output port that adds a
// node connected to it.
import { Handle, Position, type NodeProps } from '@xyflow/react'
import { CircleCheck, CircleDashed, CircleX, Clock, Loader, Pin, Plus, TriangleAlert } from 'lucide-react'
import { createContext, memo, useContext } from 'react'
import { NODE_HEIGHT, NODE_WIDTH } from '../lib/placement'
import type { NodeTypeInfo, WfNode } from '../types'
import { categoryColor, NodeIcon } from './icons'

export interface NodeViewData {
  typeInfo?: NodeTypeInfo
  runStatus?: string
  errorCount?: number
  ports?: string[]
  unconnected?: boolean
  /** Its output is pinned: test runs from the editor use that data instead of running it. */
  pinned?: boolean
}

export const PortPlusContext = createContext<(nodeId: string, port: string) => void>(() => {})

const MARKS: Record<string, { Icon: typeof CircleCheck; label: string }> = {
  succeeded: { Icon: CircleCheck, label: 'succeeded' },
  failed: { Icon: CircleX, label: 'failed' },
  running: { Icon: Loader, label: 'running' },
  waiting: { Icon: Clock, label: 'waiting' },
  skipped: { Icon: CircleDashed, label: 'skipped' },
}

export const nodeHeight = (outputs: number) => Math.max(NODE_HEIGHT, outputs * 22 + 20)

export function outputsOf(data: WfNode['data'] & NodeViewData): string[] {
  const info = data.typeInfo
  let outputs = data.ports || (info ? info.outputs : ['main'])
  if (data.extra?.settings?.on_error === 'route' && !outputs.includes('error')) outputs = [...outputs, 'error']
  return outputs
}

function NodeView({ id, data: raw, selected }: NodeProps<WfNode>) {
  const data = raw as WfNode['data'] & NodeViewData
  const onPlus = useContext(PortPlusContext)
  const info = data.typeInfo
  const outputs = outputsOf(data)
  const inputs = info ? info.inputs : ['main']
  const status = data.runStatus || ''
  const errorCount = data.errorCount || 0
  const mark = MARKS[status]
  const height = nodeHeight(outputs.length)
  const portTop = (i: number) => `${((i + 1) / (outputs.length + 1)) * 100}%`
  return (
    <div className={`wf-node${selected ? ' wf-selected' : ''}${status ? ` wf-status-${status}` : ''}${errorCount ? ' wf-node-invalid' : ''}`}
      style={{ width: NODE_WIDTH, height, ['--wf-cat' as string]: categoryColor(info?.category) }}
      data-testid={`node-${id}`} data-status={status} data-errors={errorCount} data-category={info?.category || ''} data-pinned={data.pinned ? '1' : '0'}>
      {inputs.length > 0 && <Handle type="target" position={Position.Left} id="main" className="wf-handle-in" style={{ top: '50%' }} />}
      <NodeIcon type={data.nodeType} name={info?.icon} category={info?.category} />
      <div className="wf-node-text">
        <div className="wf-node-label" title={info ? info.label : data.nodeType}>{info ? info.label : data.nodeType}</div>
        <div className="wf-node-id" title={id}>{id}</div>
        {!info && <div className="wf-node-problem">unknown type</div>}
      </div>
      {mark && (
        <span className={`wf-node-mark wf-mark-${status}`} title={mark.label} data-testid={`mark-${id}`}>
          <mark.Icon size={16} aria-label={mark.label} />
        </span>
      )}
      {data.pinned && (
        <span className="wf-node-pin" title="Output pinned: test runs use the pinned data" data-testid={`pin-mark-${id}`}>
          <Pin size={12} aria-label="pinned" />
        </span>
      )}
      {errorCount > 0 && (
        <span className="wf-node-errors" data-testid={`node-errors-${id}`} title={`${errorCount} problem${errorCount > 1 ? 's' : ''}`}>{errorCount}</span>
      )}
      {data.unconnected && !errorCount && (
        <span className="wf-node-warn" data-testid={`node-unconnected-${id}`} title="Not connected: this node never runs">
          <TriangleAlert size={14} />
        </span>
      )}
      {outputs.map((port, i) => (
        <div key={port} className="wf-port" style={{ top: portTop(i) }}>
          {(outputs.length > 1 || port !== 'main') && <span className="wf-port-name">{port}</span>}
          <Handle type="source" position={Position.Right} id={port} className="wf-handle-out" data-port={port} style={{ top: '50%' }} />
          <button type="button" className="wf-port-plus nodrag" title={`Add a node after ${id}${port !== 'main' ? ` (${port})` : ''}`}
            aria-label={`Add a node after ${id} ${port}`} data-testid={`port-plus-${id}-${port}`}
            onClick={(e) => { e.stopPropagation(); onPlus(id, port) }}>
            <Plus size={12} />
          </button>
        </div>
      ))}
    </div>
  )
}

export default memo(NodeView)
