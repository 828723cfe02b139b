// The palette: every registered node type from /api/node-types, grouped by category, with a
// search box. Drag an item onto the canvas (or press its + button) to add a node.
import { Plus } from 'lucide-react'
import { useMemo, useState } from 'react'
import type { NodeTypeInfo } from '../types'
import { NodeIcon } from './icons'

const ORDER = ['trigger', 'core', 'data', 'flow', 'ai']

export function groupTypes(types: NodeTypeInfo[], query: string): [string, NodeTypeInfo[]][] {
  const q = query.trim().toLowerCase()
  const matches = types.filter((t) => !q || [t.type, t.label, t.description, t.category].some((s) => (s || '').toLowerCase().includes(q)))
  const byCat: Record<string, NodeTypeInfo[]> = {}
  for (const t of matches) (byCat[t.category] ||= []).push(t)
  const rank = (c: string) => (ORDER.indexOf(c) < 0 ? 99 : ORDER.indexOf(c))
  return Object.keys(byCat).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
    .map((c) => [c, byCat[c].sort((a, b) => a.label.localeCompare(b.label))])
}

export default function Palette({ types, onAdd }: { types: NodeTypeInfo[]; onAdd: (type: string) => void }) {
  const [query, setQuery] = useState('')
  const groups = useMemo(() => groupTypes(types, query), [types, query])
  return (
    <aside className="wf-palette" aria-label="Node palette">
      <input type="search" className="wf-search" placeholder="Search nodes…" value={query}
        aria-label="Search nodes" onChange={(e) => setQuery(e.target.value)} />
      {groups.length === 0 && <p className="wf-muted">No node type matches.</p>}
      {groups.map(([cat, items]) => (
        <section key={cat} className="wf-palette-group">
          <h3>{cat}</h3>
          {items.map((t) => (
            <div key={t.type} className="wf-palette-item" draggable title={t.description}
              data-testid={`palette-${t.type}`}
              onDragStart={(e) => {
                e.dataTransfer.setData('application/wfaib-node', t.type)
                e.dataTransfer.setData('text/plain', t.type)
                e.dataTransfer.effectAllowed = 'move'
              }}>
              <NodeIcon type={t.type} name={t.icon} category={t.category} size={14} />
              <span className="wf-palette-label">{t.label}</span>
              <button type="button" className="wf-icon-btn" title={`Add ${t.label}`}
                aria-label={`Add ${t.label}`} onClick={() => onAdd(t.type)}><Plus size={14} /></button>
            </div>
          ))}
        </section>
      ))}
    </aside>
  )
}
