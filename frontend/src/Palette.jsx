// The palette: every registered node type from /api/node-types, grouped by category, with a
// search box. Drag an item onto the canvas (or press its + button) to add a node.
import { useMemo, useState } from 'react'
import { iconFor } from './NodeView.jsx'

const ORDER = ['trigger', 'core', 'data', 'flow', 'ai']

export default function Palette({ types, onAdd }) {
  const [query, setQuery] = useState('')
  const groups = useMemo(() => {
    const q = query.trim().toLowerCase()
    const matches = types.filter((t) => !q || [t.type, t.label, t.description, t.category]
      .some((s) => (s || '').toLowerCase().includes(q)))
    const byCat = {}
    for (const t of matches) (byCat[t.category] ||= []).push(t)
    const cats = Object.keys(byCat).sort((a, b) => {
      const ia = ORDER.indexOf(a) < 0 ? 99 : ORDER.indexOf(a)
      const ib = ORDER.indexOf(b) < 0 ? 99 : ORDER.indexOf(b)
      return ia - ib || a.localeCompare(b)
    })
    return cats.map((c) => [c, byCat[c].sort((a, b) => a.label.localeCompare(b.label))])
  }, [types, query])
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
              <span className="wf-node-icon" aria-hidden="true">{iconFor(t.icon)}</span>
              <span className="wf-palette-label">{t.label}</span>
              <button type="button" className="wf-icon-btn" title={`Add ${t.label}`}
                aria-label={`Add ${t.label}`} onClick={() => onAdd(t.type)}>+</button>
            </div>
          ))}
        </section>
      ))}
    </aside>
  )
}
