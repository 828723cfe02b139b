// What changed between two definitions (a structural diff: nodes added/removed/changed, edges
// added/removed, the name), and a three-way merge that puts one side's changes on top of the
// other's (the conflict banner's "merge mine on top").
import type { DefEdge, DefNode, Definition } from '../types'

export interface DiffLine { kind: 'add' | 'del' | 'chg'; text: string }

const edgeKey = (e: DefEdge) => `${e.from} —${e.port || 'main'}→ ${e.to}`
const byId = (d: Partial<Definition> | null | undefined) =>
  Object.fromEntries((d?.nodes || []).map((n) => [n.id, n])) as Record<string, DefNode>
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

export function diffDefinitions(a: Partial<Definition> | null | undefined, b: Partial<Definition> | null | undefined): DiffLine[] {
  const an = byId(a)
  const bn = byId(b)
  const lines: DiffLine[] = []
  for (const id of Object.keys(bn)) if (!an[id]) lines.push({ kind: 'add', text: `node ${id} (${bn[id].type})` })
  for (const id of Object.keys(an)) if (!bn[id]) lines.push({ kind: 'del', text: `node ${id} (${an[id].type})` })
  for (const id of Object.keys(an)) {
    if (!bn[id]) continue
    if (an[id].type !== bn[id].type) lines.push({ kind: 'chg', text: `node ${id}: type ${an[id].type} → ${bn[id].type}` })
    const ac = an[id].config || {}
    const bc = bn[id].config || {}
    for (const k of new Set([...Object.keys(ac), ...Object.keys(bc)])) {
      const x = JSON.stringify(ac[k])
      const y = JSON.stringify(bc[k])
      if (x !== y) lines.push({ kind: 'chg', text: `node ${id}: ${k}: ${x ?? '—'} → ${y ?? '—'}` })
    }
    if (!same(an[id].settings, bn[id].settings)) lines.push({ kind: 'chg', text: `node ${id}: settings changed` })
  }
  const ae = new Set((a?.edges || []).map(edgeKey))
  const be = new Set((b?.edges || []).map(edgeKey))
  for (const e of be) if (!ae.has(e)) lines.push({ kind: 'add', text: `edge ${e}` })
  for (const e of ae) if (!be.has(e)) lines.push({ kind: 'del', text: `edge ${e}` })
  if ((a?.name || '') !== (b?.name || '')) lines.push({ kind: 'chg', text: `name: ${a?.name} → ${b?.name}` })
  return lines
}

/** `theirs` with the changes from `base` to `mine` applied on top. Where both changed the same
 * config key, mine wins; such keys are listed in `overridden`. */
export function mergeOnTop(base: Definition, mine: Definition, theirs: Definition): { merged: Definition; overridden: string[] } {
  const bn = byId(base)
  const mn = byId(mine)
  const tn = byId(theirs)
  const overridden: string[] = []
  const nodes: DefNode[] = []
  for (const t of theirs.nodes) {
    const b = bn[t.id]
    const m = mn[t.id]
    if (b && !m) continue // I deleted it
    if (!b || !m) { nodes.push(t); continue } // theirs only, or added by both (theirs kept)
    const node: DefNode = { ...t, config: { ...(t.config || {}) } }
    const bc = b.config || {}
    const mc = m.config || {}
    for (const k of new Set([...Object.keys(bc), ...Object.keys(mc)])) {
      if (same(bc[k], mc[k])) continue
      if (!same(bc[k], (t.config || {})[k]) && !same(mc[k], (t.config || {})[k])) overridden.push(`${t.id}.${k}`)
      if (mc[k] === undefined) delete node.config![k]
      else node.config![k] = mc[k]
    }
    for (const k of Object.keys({ ...b, ...m })) {
      if (k === 'config' || k === 'id') continue
      if (!same(b[k], m[k])) {
        if (m[k] === undefined) delete node[k]
        else node[k] = m[k]
      }
    }
    nodes.push(node)
  }
  for (const m of mine.nodes) if (!bn[m.id] && !tn[m.id]) nodes.push(m) // I added it
  const ids = new Set(nodes.map((n) => n.id))
  const baseEdges = new Set(base.edges.map(edgeKey))
  const mineEdges = new Set(mine.edges.map(edgeKey))
  const edges = theirs.edges.filter((e) => !(baseEdges.has(edgeKey(e)) && !mineEdges.has(edgeKey(e))))
  const have = new Set(edges.map(edgeKey))
  for (const e of mine.edges) if (!baseEdges.has(edgeKey(e)) && !have.has(edgeKey(e))) edges.push(e)
  const merged: Definition = {
    ...theirs,
    name: (mine.name || '') !== (base.name || '') ? mine.name : theirs.name,
    nodes,
    edges: edges.filter((e) => ids.has(e.from) && ids.has(e.to)),
  }
  return { merged, overridden }
}
