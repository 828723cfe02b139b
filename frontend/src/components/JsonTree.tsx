// A JSON value as indented text (the same text as JsonView) whose keys can be dragged into a
// parameter field: the drop inserts `{{ <path> }}` (text/plain, so any text field or CodeMirror
// takes it at the drop point) and the builder's field inputs take the bare path (PATH_MIME).
// A click on a key copies the `{{ <path> }}` expression instead.
import type { ReactNode } from 'react'
import { quote } from '../lib/condition'

export const PATH_MIME = 'application/x-wfaib-path'
const IDENT = /^[A-Za-z_]\w*$/

/** The expression path of `key` under `parent` (`input.a`, `input["first name"]`). */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`
  return IDENT.test(key) ? `${parent}.${key}` : `${parent}[${quote(key)}]`
}

function Key({ name, path }: { name: string; path: string }) {
  const expression = `{{ ${path} }}`
  return (
    <span className="wf-json-key" draggable data-path={path} title={`Drag into a field, or click to copy ${expression}`}
      onDragStart={(e) => {
        e.dataTransfer.setData('text/plain', expression)
        e.dataTransfer.setData(PATH_MIME, path)
        e.dataTransfer.effectAllowed = 'copy'
      }}
      onClick={() => { void navigator.clipboard?.writeText(expression).catch(() => undefined) }}>
      {JSON.stringify(name)}
    </span>
  )
}

function render(value: unknown, path: string, indent: string): ReactNode {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  const inner = `${indent}  `
  if (Array.isArray(value)) {
    if (!value.length) return '[]'
    return <>[{'\n'}{value.map((v, i) => (
      <span key={i}>{inner}{render(v, childPath(path, i), inner)}{i < value.length - 1 ? ',' : ''}{'\n'}</span>
    ))}{indent}]</>
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined)
  if (!entries.length) return '{}'
  return <>{'{'}{'\n'}{entries.map(([k, v], i) => {
    const p = childPath(path, k)
    return <span key={k}>{inner}<Key name={k} path={p} />: {render(v, p, inner)}{i < entries.length - 1 ? ',' : ''}{'\n'}</span>
  })}{indent}{'}'}</>
}

export default function JsonTree({ value, root, testId }: { value: unknown; root: string; testId?: string }) {
  if (value === undefined) return <span className="wf-muted" data-testid={testId}>—</span>
  return <pre className="wf-json wf-json-tree" data-testid={testId} data-root={root}>{render(value, root, '')}</pre>
}
