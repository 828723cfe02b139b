// Types whose ports depend on the config (a switch's cases): ask the server, which knows.
import { useEffect, useMemo, useState } from 'react'
import type { EditorConfig, NodeTypeInfo, WfNode } from '../types'

export function useDynamicPorts(config: EditorConfig, nodes: WfNode[], typeMap: Record<string, NodeTypeInfo>) {
  const [ports, setPorts] = useState<Record<string, string[]>>({})
  const key = useMemo(() => JSON.stringify(nodes
    .filter((n) => typeMap[n.data.nodeType]?.dynamic_outputs)
    .map((n) => [n.id, n.data.nodeType, n.data.config])), [nodes, typeMap])
  useEffect(() => {
    const wanted = JSON.parse(key) as [string, string, unknown][]
    if (!wanted.length || !config.portsUrl) return undefined
    const timer = setTimeout(async () => {
      try {
        const response = await fetch(config.portsUrl!, {
          method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', 'X-CSRFToken': config.csrfToken },
          body: JSON.stringify({ nodes: wanted.map(([id, type, cfg]) => ({ id, type, config: cfg })) }),
        })
        if (response.ok) setPorts((await response.json()).ports || {})
      } catch { /* keep the ports we had */ }
    }, 300)
    return () => clearTimeout(timer)
  }, [key, config.portsUrl, config.csrfToken])
  return ports
}
