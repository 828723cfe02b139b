// Keyboard shortcuts and the clipboard, registered once on the window; `handlers` is read
// through a ref so they always see the current state.
import { useEffect, useRef } from 'react'

export interface ShortcutHandlers {
  save: () => void
  undo: () => void
  redo: () => void
  help: () => void
  escape: () => void
  copy: (e: ClipboardEvent) => void
  paste: (e: ClipboardEvent) => void
}

export function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null
  if (!el || !el.tagName) return false
  const tag = el.tagName
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable
}

export const SHORTCUTS: [string, string][] = [
  ['Ctrl/⌘ + S', 'Save'],
  ['Ctrl/⌘ + Z', 'Undo'],
  ['Shift + Ctrl/⌘ + Z, Ctrl/⌘ + Y', 'Redo'],
  ['Ctrl/⌘ + C / V', 'Copy and paste the selected nodes (as JSON; a pasted exported workflow adds its nodes)'],
  ['Del, Backspace', 'Delete the selection'],
  ['Double click a node', 'Open its panel with Input | Parameters | Output side by side'],
  ['Esc', 'Close the panel or dialog'],
  ['Shift + drag', 'Select several nodes'],
  ['?', 'Show this list'],
]

export function useShortcuts(handlers: ShortcutHandlers) {
  const ref = useRef(handlers)
  useEffect(() => { ref.current = handlers })
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const h = ref.current
      const mod = e.ctrlKey || e.metaKey
      const key = e.key.toLowerCase()
      if (mod && key === 's') { e.preventDefault(); h.save(); return }
      if (e.key === 'Escape') { h.escape(); return }
      if (isTyping(e.target)) return
      if (!mod && e.key === '?') { e.preventDefault(); h.help(); return }
      if (!mod) return
      if (key === 'z' && !e.shiftKey) { e.preventDefault(); h.undo() }
      else if ((key === 'z' && e.shiftKey) || key === 'y') { e.preventDefault(); h.redo() }
    }
    const onCopy = (e: ClipboardEvent) => { if (!isTyping(e.target)) ref.current.copy(e) }
    const onPaste = (e: ClipboardEvent) => { if (!isTyping(e.target)) ref.current.paste(e) }
    window.addEventListener('keydown', onKey)
    document.addEventListener('copy', onCopy)
    document.addEventListener('paste', onPaste)
    return () => {
      window.removeEventListener('keydown', onKey)
      document.removeEventListener('copy', onCopy)
      document.removeEventListener('paste', onPaste)
    }
  }, [])
}
