// The run whose data the editor shows: the one started here (followed until it finishes or
// waits), or, when the editor opens, the workflow's latest run.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { listOf, type Api } from '../lib/api'
import type { Json, Run, RunLog, TestRun } from '../types'

const FINISHED = ['succeeded', 'failed', 'cancelled']

export function useRun(api: Api, workflowId: number | null, onLost: (message: string) => void) {
  const [run, setRun] = useState<Run | null>(null)
  const [live, setLive] = useState(false)
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  useEffect(() => () => clearTimeout(timer.current), [])

  const poll = useCallback(async (runId: number) => {
    try {
      const r = await api.getRun(runId)
      setRun(r)
      if (FINISHED.includes(r.status) || r.status === 'waiting') return
    } catch (e) {
      onLost(`Lost track of the run: ${(e as Error).message}`)
      return
    }
    timer.current = setTimeout(() => poll(runId), 500)
  }, [api, onLost])

  // The latest run's data when the editor opens on a saved workflow.
  const loadedFor = useRef<number | null>(null)
  useEffect(() => {
    if (!workflowId || loadedFor.current === workflowId) return
    loadedFor.current = workflowId
    api.lastRuns(workflowId).then(async (data) => {
      const latest = listOf(data)[0]
      if (latest) {
        const full = await api.getRun(latest.id)
        setRun((current) => current ?? full) // a run started meanwhile wins
      }
    }).catch(() => { /* no run data: the panes say so */ })
  }, [api, workflowId])

  const start = useCallback(async (id: number, input: Json, test?: TestRun) => {
    clearTimeout(timer.current)
    const r = await api.startRun(id, input, test)
    setRun(r)
    setLive(true)
    poll(r.id)
    return r
  }, [api, poll])

  const clear = useCallback(() => { clearTimeout(timer.current); setRun(null); setLive(false) }, [])

  const logs = useMemo(() => {
    const map: Record<string, RunLog> = {}
    for (const log of run?.logs || []) map[log.node_id] = log
    return map
  }, [run])

  return { run, live, logs, start, clear }
}
