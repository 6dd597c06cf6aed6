/**
 * The in-flight window over TCP: a slow consumer slows its producer through
 * TCP flow control, its memory stays flat, and at most `concurrency`
 * handlers run at once. Each run is paced by its handler (5 ms), so this
 * file takes two minutes or so; it is mostly idle.
 */
import * as t from 'io-ts'
import { afterEach, describe, expect, it } from 'vitest'
import { connect, defineMessage, listen, Registry, type Channel, type Server } from '../../src/index.js'
import { MiB, heldBytes, sleep, waitFor } from '../helpers.js'

const Item = defineMessage('window.Item', t.type({ seq: t.number, data: t.string }))
const DATA = 'x'.repeat(1000) // ~1 KiB per message
const HANDLER_MS = 5
const N = 20_000
// What a window-bound server may hold beyond its idle heap (plus a one-process client whose outbox is bounded too).
const HEAP_BOUND = 16 * MiB


interface Run {
  order: number[]
  maxRunning: number
  /** When each send resolved, ms since the first. */
  sentAt: number[]
  maxHeapGrowth: number
}

/** Sends N items as fast as `await send` allows to a server whose handler takes HANDLER_MS, `concurrency` at a time. */
async function paced(concurrency: number, open: { close(): Promise<void> }[]): Promise<Run> {
  const registry = new Registry()
  const run: Run = { order: [], maxRunning: 0, sentAt: [], maxHeapGrowth: 0 }
  let running = 0
  registry.on(Item, async (item) => {
    run.maxRunning = Math.max(run.maxRunning, ++running)
    run.order.push(item.seq)
    await sleep(HANDLER_MS)
    running--
  })
  const server: Server = await listen('tcp://127.0.0.1:0', { registry, concurrency })
  const client: Channel = await connect(server.url, { registry: new Registry() })
  open.push(client, server)
  const base = heldBytes()
  const sampler = setInterval(() => (run.maxHeapGrowth = Math.max(run.maxHeapGrowth, heldBytes() - base)), 1000)
  try {
    const t0 = Date.now()
    for (let seq = 0; seq < N; seq++) {
      await client.send(Item, { seq, data: DATA })
      run.sentAt.push(Date.now() - t0)
    }
    await waitFor(() => run.order.length === N && running === 0, (N * HANDLER_MS * 2) / concurrency + 10_000, `all ${N} items handled`)
  } finally {
    clearInterval(sampler)
  }
  run.maxHeapGrowth = Math.max(run.maxHeapGrowth, heldBytes() - base)
  return run
}

describe('tcp: the in-flight window', () => {
  const open: { close(): Promise<void> }[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()))
  })

  it('concurrency 1: one at a time, in order; the sender falls to the handler\'s pace; memory stays flat', async () => {
    const run = await paced(1, open)
    expect(run.order).toEqual(Array.from({ length: N }, (_, i) => i))
    expect(run.maxRunning).toBe(1)
    expect(run.maxHeapGrowth).toBeLessThan(HEAP_BOUND)
    // Kernel buffers take the first few thousand at once; the last 10 000 sends wait for the handler.
    const lastHalf = (run.sentAt[N - 1] as number) - (run.sentAt[N / 2 - 1] as number)
    expect(lastHalf).toBeGreaterThanOrEqual((N / 2) * HANDLER_MS * 0.9)
  }, 300_000)

  it('concurrency 8: exactly 8 handlers at once at most, none lost', async () => {
    const run = await paced(8, open)
    expect(run.maxRunning).toBe(8)
    expect(new Set(run.order).size).toBe(N)
    // Started in the order sent: the window admits in arrival order.
    expect(run.order).toEqual(Array.from({ length: N }, (_, i) => i))
    expect(run.maxHeapGrowth).toBeLessThan(HEAP_BOUND)
    const lastHalf = (run.sentAt[N - 1] as number) - (run.sentAt[N / 2 - 1] as number)
    expect(lastHalf).toBeGreaterThanOrEqual(((N / 2) * HANDLER_MS * 0.9) / 8)
  }, 120_000)
})
