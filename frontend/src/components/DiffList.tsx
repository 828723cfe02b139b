import type { DiffLine } from '../lib/diff'

export default function DiffList({ lines, testId }: { lines: DiffLine[]; testId?: string }) {
  return (
    <ul className="wf-diff" data-testid={testId}>
      {lines.length === 0 && <li className="wf-muted">No differences.</li>}
      {lines.map((l, i) => <li key={i} className={`wf-diff-${l.kind}`}>{l.kind === 'add' ? '+ ' : l.kind === 'del' ? '− ' : '~ '}{l.text}</li>)}
    </ul>
  )
}
