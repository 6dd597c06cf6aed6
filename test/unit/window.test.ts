import { describe, expect, it } from 'vitest'
import { AWAITING_BACKLOG_BYTES, Window, type Flow } from '../../src/channel/window.js'
import type { Delivery, Envelope } from '../../src/index.js'

function delivery(n: number, key?: string, bodyBytes = 10): Delivery {
  const envelope: Envelope = { tag: 't', id: String(n), ts: 0, ct: 'application/msgpack', headers: {}, body: new Uint8Array(bodyBytes) }
  return { envelope, key, ack: () => undefined, nack: () => undefined }
}

/** A window over a fake link; `run` records what started, and `finish(id)` settles it. */
function harness(limit: number, options: { sync?: boolean; awaiting?: () => boolean } = {}) {
  const events: string[] = []
  const running = new Map<string, Delivery>()
  const started: string[] = []
  let maxRunning = 0
  const flow: Flow = {
    pause: () => void events.push('pause'),
    resume: () => void events.push('resume'),
    awaitingReplies: options.awaiting ?? (() => false),
  }
  const window: Window = new Window(limit, flow, (d) => {
    const id = d.envelope?.id as string
    started.push(id)
    if (options.sync === true) return window.finish(d)
    running.set(id, d)
    maxRunning = Math.max(maxRunning, running.size)
  })
  const finish = (id: string): void => {
    const d = running.get(id)
    if (d === undefined) throw new Error(`${id} is not running`)
    running.delete(id)
    window.finish(d)
  }
  return { window, events, running, started, finish, maxRunning: () => maxRunning }
}

describe('Window: the in-flight bound of a channel', () => {
  it('runs at most `limit` at once, starts the rest in arrival order, and pauses the link while full', () => {
    const h = harness(3)
    for (let i = 0; i < 10; i++) h.window.admit(delivery(i))
    expect(h.started).toEqual(['0', '1', '2'])
    expect(h.events).toEqual(['pause'])
    expect(h.window.held).toBe(10)
    h.finish('1')
    expect(h.started).toEqual(['0', '1', '2', '3'])
    for (const id of ['0', '2', '3', '4', '5', '6', '7']) h.finish(id)
    expect(h.started).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    // Full until fewer than `limit` are held.
    expect(h.events).toEqual(['pause', 'resume'])
    expect(h.window.held).toBe(2)
    expect(h.maxRunning()).toBe(3)
  })

  it('with a limit of 1, runs strictly one at a time, in order', () => {
    const h = harness(1)
    for (let i = 0; i < 5; i++) h.window.admit(delivery(i))
    for (let i = 0; i < 5; i++) {
      expect(h.started.at(-1)).toBe(String(i))
      h.finish(String(i))
    }
    expect(h.started).toEqual(['0', '1', '2', '3', '4'])
    expect(h.maxRunning()).toBe(1)
    expect(h.events).toEqual(['pause', 'resume'])
  })

  it('runs one delivery per key at a time, in order, and other keys meanwhile', () => {
    const h = harness(8)
    const order: [number, string][] = [[0, 'a'], [1, 'a'], [2, 'b'], [3, 'a'], [4, 'b'], [5, 'c']]
    for (const [n, key] of order) h.window.admit(delivery(n, key))
    expect(h.started).toEqual(['0', '2', '5'])
    h.finish('2')
    expect(h.started).toEqual(['0', '2', '5', '4'])
    h.finish('0')
    expect(h.started).toEqual(['0', '2', '5', '4', '1'])
    h.finish('1')
    expect(h.started).toEqual(['0', '2', '5', '4', '1', '3'])
    expect(h.events).toEqual([])
  })

  it('a key freed while the window is full goes before later arrivals', () => {
    const h = harness(2)
    h.window.admit(delivery(0, 'a'))
    h.window.admit(delivery(1, 'a')) // waits for its key
    h.window.admit(delivery(2))
    h.window.admit(delivery(3)) // waits for a slot
    expect(h.started).toEqual(['0', '2'])
    h.finish('0')
    expect(h.started).toEqual(['0', '2', '1'])
    h.finish('2')
    expect(h.started).toEqual(['0', '2', '1', '3'])
  })

  it('keeps reading past a full window while replies are awaited, up to a byte bound', () => {
    let awaiting = true
    const h = harness(1, { awaiting: () => awaiting })
    const body = 1024 * 1024
    h.window.admit(delivery(0, undefined, body))
    for (let i = 1; i * (body + 256) < AWAITING_BACKLOG_BYTES; i++) h.window.admit(delivery(i, undefined, body))
    expect(h.events).toEqual([])
    h.window.admit(delivery(99, undefined, body))
    expect(h.events).toEqual(['pause'])
    // Once nothing is awaited, the window alone decides.
    awaiting = false
    h.finish('0')
    expect(h.events).toEqual(['pause'])
  })

  it('a request made while paused resumes reading (check), so its reply can come in', () => {
    let awaiting = false
    const h = harness(1, { awaiting: () => awaiting })
    h.window.admit(delivery(0))
    h.window.admit(delivery(1))
    expect(h.events).toEqual(['pause'])
    awaiting = true
    h.window.check()
    expect(h.events).toEqual(['pause', 'resume'])
  })

  it('settles synchronous handlers in a loop, not by recursion', () => {
    const h = harness(1, { sync: true })
    // Deliveries that arrive while one runs queue up; 100 000 of them must not overflow the stack.
    for (let i = 0; i < 100_000; i++) h.window.admit(delivery(i))
    expect(h.started.length).toBe(100_000)
    expect(h.window.held).toBe(0)
  })

  it('takeWaiting hands back what has not started, oldest first, and frees its place', () => {
    const h = harness(2)
    h.window.admit(delivery(0, 'k'))
    h.window.admit(delivery(1, 'k')) // waits for its key
    h.window.admit(delivery(2))
    h.window.admit(delivery(3)) // waits for a slot
    expect(h.window.takeWaiting().map((d) => d.envelope?.id)).toEqual(['1', '3'])
    expect(h.window.held).toBe(2)
    h.finish('0')
    h.finish('2')
    expect(h.window.held).toBe(0)
    expect(h.started).toEqual(['0', '2'])
  })

  it('idle resolves every waiter once nothing is held, at once when nothing is, and at its deadline otherwise', async () => {
    const h = harness(1)
    await h.window.idle(Date.now() + 60_000)
    h.window.admit(delivery(0))
    h.window.admit(delivery(1)) // waits for a slot
    const settled: string[] = []
    const a = h.window.idle(Date.now() + 60_000).then(() => void settled.push('a'))
    const b = h.window.idle(Date.now() + 60_000).then(() => void settled.push('b'))
    h.finish('0')
    await Promise.resolve()
    expect(settled).toEqual([])
    expect(h.window.takeWaiting().map((d) => d.envelope?.id)).toEqual([])
    h.finish('1')
    await Promise.all([a, b])
    expect(settled).toEqual(['a', 'b'])

    h.window.admit(delivery(2))
    h.window.admit(delivery(3))
    const c = h.window.idle(Date.now() + 60_000)
    // Only '2' runs; taking '3' back leaves '2' held, so c still waits.
    expect(h.window.takeWaiting().map((d) => d.envelope?.id)).toEqual(['3'])
    h.finish('2')
    await c

    h.window.admit(delivery(4))
    const started = Date.now()
    await h.window.idle(Date.now() + 30)
    expect(Date.now() - started).toBeGreaterThanOrEqual(25)
    expect(h.window.held).toBe(1)

    let unbounded = false
    const d = h.window.idle(Infinity).then(() => void (unbounded = true))
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(unbounded).toBe(false)
    h.finish('4')
    await d
  })
})
