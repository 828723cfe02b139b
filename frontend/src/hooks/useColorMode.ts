// The admin's colour theme (data-theme on <html>: light, dark or auto) for React Flow.
import { useEffect, useState } from 'react'

export type ColorMode = 'light' | 'dark' | 'system'

export function useColorMode(): ColorMode {
  const read = (): ColorMode => {
    const t = document.documentElement.dataset.theme
    return t === 'dark' || t === 'light' ? t : 'system'
  }
  const [mode, setMode] = useState<ColorMode>(read)
  useEffect(() => {
    const obs = new MutationObserver(() => setMode(read()))
    obs.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] })
    return () => obs.disconnect()
  }, [])
  return mode
}
