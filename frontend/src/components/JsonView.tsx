// A JSON value as indented text; `undefined` (nothing recorded) as a dash.
export default function JsonView({ value, testId }: { value: unknown; testId?: string }) {
  if (value === undefined) return <span className="wf-muted" data-testid={testId}>—</span>
  return <pre className="wf-json" data-testid={testId}>{JSON.stringify(value, null, 2)}</pre>
}
