// React Flow draws an edge only between nodes it has measured (size and handle positions).
// It measures a node when its element first appears or changes size, so a node object that
// lost its measurement while its element stayed the same size (the workflow loaded again,
// an undo restoring an older snapshot) would stay unmeasured: its edges would never be drawn
// and fitView would wait for it forever. This asks React Flow to measure such nodes again.
import { useStore, useUpdateNodeInternals, type ReactFlowState } from '@xyflow/react'
import { useEffect } from 'react'

export const unmeasured = (s: Pick<ReactFlowState, 'nodeLookup'>): string => {
  const ids: string[] = []
  for (const node of s.nodeLookup.values()) {
    if (!node.measured?.width || !node.measured?.height || !node.internals.handleBounds) ids.push(node.id)
  }
  return ids.join('\n')
}

export default function MeasureRepair() {
  const waiting = useStore(unmeasured)
  const update = useUpdateNodeInternals()
  useEffect(() => {
    if (!waiting) return undefined
    const ids = waiting.split('\n')
    // After the browser has laid the nodes out: an element not there yet is measured by
    // React Flow itself when it appears.
    const frame = requestAnimationFrame(() => update(ids))
    return () => cancelAnimationFrame(frame)
  }, [waiting, update])
  return null
}
