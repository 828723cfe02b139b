// The workflow's pinned test data (GET/PUT/DELETE /api/workflows/<id>/pins): loaded when the
// editor opens a saved workflow, changed at once on the server (a pin is editor state, not
// part of the definition: it makes no version and needs no save). Production runs never use
// pins; the editor's test runs do.
import { useCallback, useEffect, useState } from 'react'
import type { Api } from '../lib/api'
import type { Pin, RunLog } from '../types'

/** What "Pin output" pins of a node's log: its output, on its first port when it branched. */
export function pinOf(log: RunLog): { value: unknown; port?: string } {
  const port = log.ports && log.ports.length ? log.ports[0] : undefined
  if (port && log.output && typeof log.output === 'object' && port in (log.output as object)) {
    return { value: (log.output as Record<string, unknown>)[port], port }
  }
  return { value: log.output }
}

export function usePins(api: Api, workflowId: number | null, onError: (message: string) => void) {
  const [pins, setPins] = useState<Record<string, Pin>>({})
  useEffect(() => {
    if (!workflowId) return
    api.pins(workflowId).then((data) => setPins(data.pins || {})).catch(() => { /* none shown */ })
  }, [api, workflowId])

  const pin = useCallback(async (node: string, log: RunLog) => {
    if (!workflowId) return
    const { value, port } = pinOf(log)
    try {
      const stored = await api.pin(workflowId, node, value, port)
      setPins((cur) => ({ ...cur, [node]: stored }))
    } catch (e) {
      onError(`Could not pin ${node}: ${(e as Error).message}`)
    }
  }, [api, workflowId, onError])

  const unpin = useCallback(async (node: string) => {
    if (!workflowId) return
    try {
      await api.unpin(workflowId, node)
      setPins((cur) => {
        const next = { ...cur }
        delete next[node]
        return next
      })
    } catch (e) {
      onError(`Could not unpin ${node}: ${(e as Error).message}`)
    }
  }, [api, workflowId, onError])

  return { pins, pin, unpin }
}
