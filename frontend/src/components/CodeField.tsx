// A CodeMirror 6 editor for expression and code fields: syntax highlighting (Python or
// JavaScript), undo inside the field, and completion of `input`, `nodes.<id>` and `trigger`
// paths from the last run's data and the graph's declared shapes (lib/completion.ts).
import { autocompletion, closeBrackets, type CompletionContext } from '@codemirror/autocomplete'
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands'
import { javascript } from '@codemirror/lang-javascript'
import { python } from '@codemirror/lang-python'
import { bracketMatching, defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language'
import { Compartment, EditorState } from '@codemirror/state'
import { EditorView, keymap, lineNumbers, placeholder as cmPlaceholder } from '@codemirror/view'
import { useEffect, useRef } from 'react'
import { completePath, type Scope, type Shapes } from '../lib/completion'

interface Props {
  id: string
  value: string
  onChange: (v: string) => void
  language: 'python' | 'javascript'
  code: boolean
  scope: Scope
  /** What the graph declares before a run (node ids, schemas). */
  shapes?: Shapes
  placeholder?: string
  label: string
}

export default function CodeField({ id, value, onChange, language, code, scope, shapes, placeholder, label }: Props) {
  const host = useRef<HTMLDivElement>(null)
  const view = useRef<EditorView | null>(null)
  const latest = useRef({ onChange, scope, shapes })
  const lang = useRef(new Compartment())
  useEffect(() => { latest.current = { onChange, scope, shapes } })

  useEffect(() => {
    const complete = (ctx: CompletionContext) => {
      const before = ctx.state.sliceDoc(0, ctx.pos)
      const found = completePath(before, latest.current.scope, latest.current.shapes)
      if (!found || (found.from === ctx.pos && !ctx.explicit && !before.endsWith('.'))) return null
      return { from: found.from, options: found.options, validFor: /^\w*$/ }
    }
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          history(), closeBrackets(), bracketMatching(),
          ...(code ? [lineNumbers()] : []),
          lang.current.of(language === 'javascript' ? javascript() : python()),
          syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
          autocompletion({ override: [complete], activateOnTyping: true }),
          keymap.of([...defaultKeymap, ...historyKeymap]),
          EditorView.lineWrapping,
          cmPlaceholder(placeholder || ''),
          EditorView.contentAttributes.of({ 'aria-label': label, 'data-field-input': id }),
          EditorView.updateListener.of((u) => { if (u.docChanged) latest.current.onChange(u.state.doc.toString()) }),
        ],
      }),
    })
    view.current = v
    return () => { v.destroy(); view.current = null }
    // Created once per field; value and language changes are applied below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [])

  useEffect(() => {
    const v = view.current
    if (v && v.state.doc.toString() !== value) v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } })
  }, [value])
  useEffect(() => {
    view.current?.dispatch({ effects: lang.current.reconfigure(language === 'javascript' ? javascript() : python()) })
  }, [language])

  return <div ref={host} id={id} className={`wf-code${code ? ' wf-code-block' : ''}`} data-testid={`code-${id}`} />
}
