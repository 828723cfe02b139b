// The picker a port's "+" opens: choose a node type, and the new node is placed to the right
// of the node and connected to that port.
import { X } from 'lucide-react'
import { useEffect, useMemo, useRef, useState } from 'react'
import type { NodeTypeInfo } from '../types'
import { NodeIcon } from './icons'
import { groupTypes } from './Palette'

export default function QuickAdd({ types, source, port, onPick, onClose }: {
  types: NodeTypeInfo[]; source: string; port: string; onPick: (type: string) => void; onClose: () => void
}) {
  const [query, setQuery] = useState('')
  const input = useRef<HTMLInputElement>(null)
  useEffect(() => { input.current?.focus() }, [])
  const items = useMemo(() => groupTypes(types.filter((t) => !t.is_trigger), query).flatMap(([, list]) => list), [types, query])
  return (
    <div className="wf-quick-add" role="dialog" aria-label={`Add a node after ${source}`} data-testid="quick-add"
      onKeyDown={(e) => { if (e.key === 'Escape') onClose() }}>
      <div className="wf-quick-head">
        <strong>After <code>{source}</code>{port !== 'main' ? ` (${port})` : ''}</strong>
        <button type="button" className="wf-icon-btn" aria-label="Close" onClick={onClose}><X size={14} /></button>
      </div>
      <input ref={input} type="search" placeholder="Search nodes…" aria-label="Search node types" value={query}
        onChange={(e) => setQuery(e.target.value)}
        onKeyDown={(e) => { if (e.key === 'Enter' && items[0]) onPick(items[0].type) }} />
      <ul>
        {items.map((t) => (
          <li key={t.type}>
            <button type="button" onClick={() => onPick(t.type)} data-testid={`quick-add-${t.type}`}>
              <NodeIcon type={t.type} name={t.icon} category={t.category} size={14} /> {t.label}
            </button>
          </li>
        ))}
      </ul>
    </div>
  )
}
