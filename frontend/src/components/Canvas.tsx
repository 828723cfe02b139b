// The canvas: React Flow over the store's nodes and edges, drop target of the palette, and
// where the pointer is (paste lands there).
import { Background, Controls, MiniMap, ReactFlow, type Connection, type Edge, type IsValidConnection, type Node } from '@xyflow/react'
import { useCallback, useMemo, type ReactNode, type RefObject } from 'react'
import type { ColorMode } from '../hooks/useColorMode'
import type { Point } from '../lib/placement'
import { useEditorStore } from '../store/EditorStore'
import type { NodeTypeInfo, WfNode } from '../types'
import MeasureRepair from './MeasureRepair'
import NodeView, { type NodeViewData } from './NodeView'

const NODE_TYPES = { wfaib: NodeView }

interface Props {
  wrapper: RefObject<HTMLDivElement | null>
  pointer: RefObject<Point | null>
  typeMap: Record<string, NodeTypeInfo>
  decorate: (n: WfNode) => NodeViewData
  viewState: string
  colorMode: ColorMode
  toFlow: (p: Point) => Point
  onDropType: (type: string, p: Point) => void
  onNodeDoubleClick: (id: string) => void
  children?: ReactNode
}

export default function Canvas(p: Props) {
  const { state, dispatch } = useEditorStore()
  const { typeMap, decorate, toFlow, onDropType, pointer } = p
  const nodes = useMemo(() => state.nodes.map((n) => ({ ...n, data: { ...n.data, ...decorate(n) } })), [state.nodes, decorate])

  const isValidConnection: IsValidConnection = useCallback((c) => {
    if (c.source === c.target) return false
    const target = state.nodes.find((n) => n.id === c.target)
    if (target && typeMap[target.data.nodeType]?.is_trigger) return false
    return !state.edges.some((e) => e.source === c.source && e.target === c.target
      && (e.sourceHandle || 'main') === (c.sourceHandle || 'main'))
  }, [state.nodes, state.edges, typeMap])

  return (
    <div className="wf-canvas" ref={p.wrapper} data-testid="canvas" data-view={p.viewState}
      onDragOver={(e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'move' }}
      onDrop={(e) => {
        e.preventDefault()
        const type = e.dataTransfer.getData('application/wfaib-node') || e.dataTransfer.getData('text/plain')
        if (type && typeMap[type]) onDropType(type, toFlow({ x: e.clientX, y: e.clientY }))
      }}
      onMouseMove={(e) => { pointer.current = toFlow({ x: e.clientX, y: e.clientY }) }}
      onMouseLeave={() => { pointer.current = null }}>
      <ReactFlow<Node, Edge>
        nodes={nodes as Node[]} edges={state.edges} nodeTypes={NODE_TYPES}
        onNodesChange={(changes) => dispatch({ type: 'nodesChange', changes: changes as never })}
        onEdgesChange={(changes) => dispatch({ type: 'edgesChange', changes })}
        onConnect={(c: Connection) => dispatch({ type: 'connect', source: c.source, port: c.sourceHandle ?? null, target: c.target })}
        isValidConnection={isValidConnection}
        onBeforeDelete={async () => { dispatch({ type: 'checkpoint' }); return true }}
        onNodeDragStart={() => dispatch({ type: 'checkpoint' })}
        onNodeDoubleClick={(_, n) => p.onNodeDoubleClick(n.id)}
        deleteKeyCode={['Delete', 'Backspace']}
        colorMode={p.colorMode} defaultViewport={{ x: 0, y: 0, zoom: 1 }} minZoom={0.2} maxZoom={2}
        defaultEdgeOptions={{ type: 'smoothstep' }}
      >
        <Background gap={16} />
        <Controls />
        <MiniMap pannable zoomable />
        <MeasureRepair />
      </ReactFlow>
      {p.children}
    </div>
  )
}
