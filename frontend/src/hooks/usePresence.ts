// Who else has this workflow open, and the latest saved version with its author (a heartbeat
// to the admin's presence view).
import { useEffect, useState } from 'react'
import type { EditorConfig } from '../types'

export interface Presence { others: string[]; version: number | null; by: string | null; mine: boolean }

export function usePresence(config: EditorConfig, workflowId: number | null): Presence {
  const [presence, setPresence] = useState<Presence>({ others: [], version: null, by: null, mine: true })
  useEffect(() => {
    if (!workflowId || !config.presenceUrlTemplate) return undefined
    let timer: ReturnType<typeof setTimeout> | undefined
    let stopped = false
    const beat = async () => {
      try {
        const response = await fetch(config.presenceUrlTemplate!.replace('{id}', String(workflowId)), {
          method: 'POST', credentials: 'same-origin', headers: { 'X-CSRFToken': config.csrfToken },
        })
        if (response.ok) {
          const data = await response.json()
          setPresence({ others: data.others, version: data.version, by: data.version_by, mine: data.version_by_me })
        }
      } catch { /* try again at the next beat */ }
      if (!stopped) timer = setTimeout(beat, config.presenceInterval || 5000)
    }
    beat()
    return () => { stopped = true; clearTimeout(timer) }
  }, [workflowId, config.presenceUrlTemplate, config.presenceInterval, config.csrfToken])
  return presence
}
