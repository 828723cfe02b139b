// Copies a text to the clipboard (falls back to selecting a hidden text area where the
// Clipboard API is unavailable, e.g. on plain http) and says so for two seconds.
import { Check, Copy } from 'lucide-react'
import { useState } from 'react'

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    const area = document.createElement('textarea')
    area.value = text
    document.body.appendChild(area)
    area.select()
    const ok = document.execCommand('copy')
    area.remove()
    return ok
  }
}

export default function CopyButton({ text, label, testId }: { text: string; label: string; testId?: string }) {
  const [done, setDone] = useState(false)
  return (
    <button type="button" className="wf-icon-btn" title={label} aria-label={label} data-testid={testId}
      data-copied={done ? '1' : '0'}
      onClick={async () => { if (await copyText(text)) { setDone(true); setTimeout(() => setDone(false), 2000) } }}>
      {done ? <Check size={14} /> : <Copy size={14} />}
    </button>
  )
}
