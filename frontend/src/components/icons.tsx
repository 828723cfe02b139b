// Node icons from lucide (SVG bundled into editor.js: nothing depends on the system's emoji
// fonts) and one colour per category.
import {
  Box, CalendarClock, Code, Database, Filter, GitBranch, Globe, Hourglass, Inbox, Mail, Merge, Pause,
  Play, Repeat, Reply, Shuffle, Sparkles, Split, Timer, Webhook, Workflow, type LucideIcon,
} from 'lucide-react'

// Types whose server icon names collide get one of their own (schedule and delay are both "clock").
const BY_TYPE: Record<string, LucideIcon> = { schedule: CalendarClock, delay: Hourglass }
const BY_NAME: Record<string, LucideIcon> = {
  globe: Globe, sparkles: Sparkles, shuffle: Shuffle, webhook: Webhook, box: Box, clock: Timer,
  'git-branch': GitBranch, code: Code, mail: Mail, repeat: Repeat, timer: Timer, filter: Filter,
  merge: Merge, reply: Reply, play: Play, database: Database, workflow: Workflow, split: Split,
  pause: Pause, inbox: Inbox,
}

export function iconFor(type: string | undefined, name: string | undefined): LucideIcon {
  return (type && BY_TYPE[type]) || (name && BY_NAME[name]) || Box
}

export const CATEGORY_COLORS: Record<string, string> = {
  trigger: '#e0730b', core: '#2f6fd6', data: '#0f8f84', flow: '#8250c4', ai: '#c23b8a',
}
export const categoryColor = (category: string | undefined) => CATEGORY_COLORS[category || ''] || '#6c7a89'

export function NodeIcon({ type, name, category, size = 18 }: { type?: string; name?: string; category?: string; size?: number }) {
  const Icon = iconFor(type, name)
  return (
    <span className="wf-node-icon" style={{ background: categoryColor(category) }} aria-hidden="true" data-icon={type}>
      <Icon size={size} strokeWidth={2} color="#fff" />
    </span>
  )
}
