import { describe, expect, it } from 'vitest'
import { followPartial, type PartialAnswer } from './usePartial'

/** A poller whose answers and next polls the test steps by hand (no timers). */
function stepped(answers: (PartialAnswer | Error)[]) {
  const texts: string[] = []
  const scheduled: (() => void)[] = []
  let fetched = 0
  const stop = followPartial({
    nodeId: 'ask',
    fetch: () => {
      const next = answers[fetched++]
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next)
    },
    onText: (text) => texts.push(text),
    later: (fn) => {
      scheduled.push(fn)
      return () => { const i = scheduled.indexOf(fn); if (i >= 0) scheduled.splice(i, 1) }
    },
  })
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0))
  return { texts, scheduled, stop, settle, fetched: () => fetched }
}

const running = (nodes: PartialAnswer['nodes']): PartialAnswer => ({ run: 1, status: 'running', nodes })

describe('followPartial', () => {
  it('passes on the node\'s growing text and stops when the run ends', async () => {
    const p = stepped([running({}), running({ ask: { text: 'Once ' } }), running({ ask: { text: 'Once upon ' }, other: { text: 'x' } }),
      { run: 1, status: 'succeeded', nodes: {} }])
    for (let i = 0; i < 3; i++) {
      await p.settle()
      expect(p.scheduled).toHaveLength(1)
      p.scheduled.shift()!()
    }
    await p.settle()
    expect(p.texts).toEqual(['Once ', 'Once upon '])
    expect(p.scheduled).toHaveLength(0) // the run ended: no next poll
    expect(p.fetched()).toBe(4)
  })

  it('stops when a request fails and when the run waits', async () => {
    const failing = stepped([new Error('403')])
    await failing.settle()
    expect(failing.scheduled).toHaveLength(0)
    const waiting = stepped([{ run: 1, status: 'waiting', nodes: {} }])
    await waiting.settle()
    expect(waiting.scheduled).toHaveLength(0)
  })

  it('stops polling when stopped (the panel closed), even with an answer on its way', async () => {
    const p = stepped([running({ ask: { text: 'a' } }), running({ ask: { text: 'ab' } })])
    await p.settle()
    p.scheduled[0]()
    p.stop()
    await p.settle()
    expect(p.texts).toEqual(['a'])
    expect(p.scheduled).toHaveLength(0)
  })
})
