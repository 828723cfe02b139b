// The workflow's pinned test data (GET/PUT/DELETE /api/workflows/<id>/pins): loaded when the
// editor opens a saved workflow, changed at once on the server (a pin is editor state, not
// part of the definition: it makes no version and needs no save). Production runs never use
// pins; the editor's test runs do.
//
// The pins live in the editor's store (store/reducer.ts), so pinning, unpinning and editing
// a pin's JSON are undoable steps. Undo and redo only change the store; this hook then writes
// the difference back to the server with the same PUT and DELETE (`pinsToSync`), so the
// stored pins always follow what the editor shows.
import { useCallback, useEffect, useRef, type Dispatch } from 'react'
import type { Api } from '../lib/api'
import type { Action, Pins } from '../store/reducer'
import type { Pin, RunLog } from '../types'

/** What "Pin output" pins of a node's log: its output, on its first port when it branched. */
export function pinOf(log: RunLog): { value: unknown; port?: string } {
  const port = log.ports && log.ports.length ? log.ports[0] : undefined
  if (port && log.output && typeof log.output === 'object' && port in (log.output as object)) {
    return { value: (log.output as Record<string, unknown>)[port], port }
  }
  return { value: log.output }
}

const same = (a: Pin | undefined, b: Pin | undefined) =>
  a === b || (!!a && !!b && a.port === b.port && JSON.stringify(a.value) === JSON.stringify(b.value))

/** The server writes that make `stored` what `shown` is: pins to PUT, node ids to DELETE. */
export function pinsToSync(stored: Pins, shown: Pins): { put: [string, Pin][]; remove: string[] } {
  const put = Object.entries(shown).filter(([id, pin]) => !same(stored[id], pin))
  const remove = Object.keys(stored).filter((id) => !(id in shown))
  return { put, remove }
}

/** Parse the JSON typed into a pin's editor: the value, or the parser's reason. */
export function parsePinJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  if (!text.trim()) return { ok: false, error: 'Enter JSON (for nothing, type null).' }
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch (e) {
    return { ok: false, error: `Not valid JSON: ${(e as Error).message}` }
  }
}

export function usePins(api: Api, workflowId: number | null, pins: Pins, dispatch: Dispatch<Action>,
  onError: (message: string) => void) {
  // What the server holds, as far as this editor knows: undo and redo are diffed against it.
  const stored = useRef<Pins>({})

  const reload = useCallback(async () => {
    if (!workflowId) return
    const data = await api.pins(workflowId)
    stored.current = data.pins || {}
    dispatch({ type: 'pinsLoaded', pins: stored.current })
  }, [api, workflowId, dispatch])

  useEffect(() => {
    reload().catch(() => { /* none shown */ })
  }, [reload])

  // Undo/redo changed the pins in the store: write them back.
  useEffect(() => {
    if (!workflowId) return
    const { put, remove } = pinsToSync(stored.current, pins)
    if (!put.length && !remove.length) return
    stored.current = pins
    const writes = [
      ...put.map(([id, pin]) => api.pin(workflowId, id, pin.value, pin.port)),
      ...remove.map((id) => api.unpin(workflowId, id)),
    ]
    Promise.all(writes).catch((e) => {
      onError(`Could not store the pins: ${(e as Error).message}`)
      reload().catch(() => { /* the notice says it */ })
    })
  }, [api, workflowId, pins, onError, reload])

  /** Store `value` as the node's pin (one undoable step); throws the server's refusal. */
  const setPin = useCallback(async (node: string, value: unknown, port?: string) => {
    if (!workflowId) return
    const saved = await api.pin(workflowId, node, value, port)
    stored.current = { ...stored.current, [node]: saved }
    dispatch({ type: 'pin', nodeId: node, pin: saved })
  }, [api, workflowId, dispatch])

  const pin = useCallback(async (node: string, log: RunLog) => {
    const { value, port } = pinOf(log)
    try {
      await setPin(node, value, port)
    } catch (e) {
      onError(`Could not pin ${node}: ${(e as Error).message}`)
    }
  }, [setPin, onError])

  const unpin = useCallback(async (node: string) => {
    if (!workflowId) return
    try {
      await api.unpin(workflowId, node)
      const next = { ...stored.current }
      delete next[node]
      stored.current = next
      dispatch({ type: 'unpin', nodeId: node })
    } catch (e) {
      onError(`Could not unpin ${node}: ${(e as Error).message}`)
    }
  }, [api, workflowId, dispatch, onError])

  return { pins, pin, unpin, setPin }
}
