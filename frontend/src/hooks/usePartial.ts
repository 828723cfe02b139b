// A model's answer while its node works, for the node panel's Output pane: GET
// /api/runs/<id>/partial, polled while the run started here runs that node and the panel is
// open (the run viewer polls the same endpoint). The answer is the text so far with the run's
// known secrets scrubbed; once the node ends, its log holds the output, stored once.
import { useEffect, useState } from 'react'
import type { PartialAnswer } from '../types'

export type { PartialAnswer }

const OVER = ['succeeded', 'failed', 'cancelled', 'waiting']
type Later = (fn: () => void, ms: number) => () => void
const timeout: Later = (fn, ms) => { const t = setTimeout(fn, ms); return () => clearTimeout(t) }

/** Poll `fetch` until the run is over (or stops waiting on it: `waiting`), a request fails
 * (the run's own poll reports it) or the returned stop is called; each text of `nodeId` that
 * comes goes to `onText`. `later` schedules the next poll (a timer unless a test steps it). */
export function followPartial(opts: {
  fetch: () => Promise<PartialAnswer>
  nodeId: string
  onText: (text: string) => void
  every?: number
  later?: Later
}): () => void {
  const later = opts.later ?? timeout
  let stopped = false
  let cancel = () => { /* nothing scheduled yet */ }
  const tick = async () => {
    let answer: PartialAnswer
    try {
      answer = await opts.fetch()
    } catch {
      return
    }
    if (stopped) return
    const text = answer.nodes?.[opts.nodeId]?.text
    if (typeof text === 'string') opts.onText(text)
    if (OVER.includes(answer.status)) return
    cancel = later(() => { void tick() }, opts.every ?? 500)
  }
  void tick()
  return () => { stopped = true; cancel() }
}

/** The partial text of `nodeId` in run `runId` while `active` (the last one seen stays until
 * the run or the node changes: the pane switches to the stored output when the log ends). */
export function usePartial(partialOf: ((runId: number) => Promise<PartialAnswer>) | undefined,
  runId: number | undefined, nodeId: string, active: boolean): string | null {
  const key = `${runId}:${nodeId}`
  const [shown, setShown] = useState<{ key: string; text: string } | null>(null)
  useEffect(() => {
    if (!active || !partialOf || runId === undefined) return undefined
    return followPartial({ fetch: () => partialOf(runId), nodeId, onText: (text) => setShown({ key, text }) })
  }, [active, partialOf, runId, nodeId, key])
  return shown && shown.key === key ? shown.text : null
}
