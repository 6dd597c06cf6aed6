/**
 * Replies never wait behind a full window: a handler that asks its peer
 * something must get the answer even though the answer comes in behind the
 * very messages the window is holding back. And on the memory transport the
 * window stops the hub's deliveries rather than piling them up.
 */
import * as t from 'io-ts'
import { afterEach, describe, expect, it } from 'vitest'
import { MemoryHub, connect, defineMessage, listen, Registry, type Channel, type Server } from '../../src/index.js'
import { sleep, waitFor } from '../helpers.js'

const Item = defineMessage('replies.Item', t.type({ seq: t.number, data: t.string }))
const Ask = defineMessage('replies.Ask', t.type({ q: t.number }))
const Answer = defineMessage('replies.Answer', t.type({ a: t.number }))


describe('the window and replies', () => {
  const open: { close(): Promise<void> }[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()))
  })

  it('tcp: a handler holding the only slot asks the sender, whose answer is queued behind thousands of items: it gets it', async () => {
    const n = 2000
    const asked: number[] = []
    const failures: unknown[] = []
    const handled: number[] = []
    const serverRegistry = new Registry()
    let server: Server | undefined
    serverRegistry.register(Answer)
    serverRegistry.on(Item, async (item) => {
      if (item.seq % 250 === 0) {
        // The sender is the one peer; the answer travels behind every item it sent meanwhile.
        const peer = [...(server as Server).peers][0] as Channel
        const t0 = Date.now()
        const answer = await peer.request(Ask, { q: item.seq }, { expect: Answer, timeoutMs: 5000 }).catch((err: unknown) => void failures.push(err))
        if (answer?.a !== item.seq) failures.push(answer)
        asked.push(Date.now() - t0)
      } else await sleep(1)
      handled.push(item.seq)
    })
    server = await listen('tcp://127.0.0.1:0', { registry: serverRegistry, concurrency: 1 })
    const clientRegistry = new Registry()
    clientRegistry.on(Ask, (ask, ctx) => ctx.reply(Answer, { a: ask.q }))
    const client = await connect(server.url, { registry: clientRegistry })
    open.push(client, server)
    const data = 'x'.repeat(1000)
    for (let seq = 0; seq < n; seq++) await client.send(Item, { seq, data })
    // A stuck answer shows as a failed request (timeoutMs) rather than as this test's own timeout.
    await waitFor(() => handled.length === n || failures.length > 0, 15_000, `all ${n} items`)
    expect(failures).toEqual([])
    expect(asked.length).toBe(n / 250)
    // Answered as fast as a round trip through a few MiB of queued items, never after a timeout.
    expect(Math.max(...asked)).toBeLessThan(2500)
    expect(handled).toEqual(Array.from({ length: n }, (_, i) => i))
  })

  it('memory: a full window stops the hub delivering; the rest waits in the queue, none lost', async () => {
    const hub = new MemoryHub()
    const registry = new Registry()
    let running = 0
    let maxRunning = 0
    const got: number[] = []
    registry.on(Item, async (item) => {
      maxRunning = Math.max(maxRunning, ++running)
      await sleep(2)
      got.push(item.seq)
      running--
    })
    const server = await listen('memory://work', { registry, hub, concurrency: 3 })
    const producer = await connect('memory://work', { hub })
    open.push(producer, server)
    for (let seq = 0; seq < 200; seq++) await producer.send(Item, { seq, data: '' })
    // The hub holds what the window does not take (its own prefetch is 1000).
    await waitFor(() => running === 3, 5000, 'three handlers running')
    expect(hub.depth('work')).toBeGreaterThan(150)
    await waitFor(() => got.length === 200, 10_000, 'all 200 items')
    expect(maxRunning).toBe(3)
    expect(hub.depth('work')).toBe(0)
  })
})
