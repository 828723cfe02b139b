// Field labels from a schema: pydantic's titles ("Url", "Json Body") in sentence case with
// acronyms kept upper case ("URL", "JSON body").
const ACRONYMS = new Set(['url', 'json', 'http', 'https', 'api', 'id', 'llm', 'sql', 'smtp', 'imap', 'tls', 'ssl', 'ms', 'uri', 'html', 'ai', 'cron', 'xml', 'csv'])
const KEEP = new Set(['cron'])

export function humanLabel(title: string | undefined, name: string): string {
  const raw = title || name.replace(/_/g, ' ')
  return raw.split(/\s+/).filter(Boolean).map((w, i) => {
    const lower = w.toLowerCase()
    if (ACRONYMS.has(lower) && !KEEP.has(lower)) return lower.toUpperCase()
    return i === 0 ? lower.charAt(0).toUpperCase() + lower.slice(1) : lower
  }).join(' ')
}
