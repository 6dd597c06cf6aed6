/**
 * The retry schedule of the `failed` policy: `backoffMs` doubling each time,
 * up to `maxBackoffMs`. Timers never fire early (bar a millisecond of
 * rounding) but may fire late on a busy machine, so every lower bound is
 * strict and every upper bound is far from the expected delay: only a schedule
 * that is wrong by a factor fails, never a slow machine.
 */
import { performance } from 'node:perf_hooks'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { MemoryHub, Registry, connect, defineMessage, listen, msgpack, type Envelope, type Outcome } from '../../src/index.js'
import type { DispatchSource } from '../../src/registry/context.js'
import { closedAfterEach, collectErrors, waitFor } from '../helpers.js'

const Job = defineMessage('retry.Job', t.type({ n: t.number }))

// Node rounds timer delays and measures them from the loop's cached clock.
const EARLY_MS = 3

const source: DispatchSource = {
  transport: 'fake',
  peer: undefined,
  canReply: () => false,
  reply: () => Promise.resolve(),
}

function envelope(): Envelope {
  return { tag: Job.tag, id: 'retry-1', ts: 0, ct: 'application/msgpack', headers: {}, body: msgpack.encode({ n: 1 }) }
}

/** Dispatches one message to a handler that always throws; returns when each attempt ran (ms) and the outcome. */
async function attemptTimes(registry: Registry): Promise<{ times: number[]; outcome: Outcome }> {
  const times: number[] = []
  registry.on(Job, () => {
    times.push(performance.now())
    throw new Error(`attempt ${times.length} failed`)
  })
  const outcome = await registry.dispatch(envelope(), source)
  return { times, outcome }
}

function gaps(times: number[]): number[] {
  return times.slice(1).map((at, i) => at - (times[i] as number))
}

describe('retry backoff of a failing handler', () => {
  it('waits backoffMs, then twice as long each time', async () => {
    const { times, outcome } = await attemptTimes(new Registry({ retries: 3, backoffMs: 25, maxBackoffMs: 10_000 }))
    expect(times).toHaveLength(4)
    expect(outcome).toMatchObject({ case: 'failed', error: { code: 'ERR_HANDLER_FAILED' } })
    const [first, second, third] = gaps(times) as [number, number, number]
    // 25, 50, 100 ms. A delay that did not double would be 25, 25, 25.
    expect(first).toBeGreaterThanOrEqual(25 - EARLY_MS)
    expect(second).toBeGreaterThanOrEqual(50 - EARLY_MS)
    expect(third).toBeGreaterThanOrEqual(100 - EARLY_MS)
  })

  it('stops growing at maxBackoffMs', async () => {
    const { times } = await attemptTimes(new Registry({ retries: 7, backoffMs: 20, maxBackoffMs: 80, onError: () => undefined }))
    expect(times).toHaveLength(8)
    const all = gaps(times)
    // Capped: 20, 40, 80, 80, 80, 80, 80 (460 ms in all). Uncapped the last
    // four would be 160, 320, 640, 1280 (2540 ms in all).
    const expected = [20, 40, 80, 80, 80, 80, 80]
    all.forEach((gap, i) => expect(gap, `gap ${i + 1}`).toBeGreaterThanOrEqual((expected[i] as number) - EARLY_MS))
    expect(all.at(-1), 'the last gap').toBeLessThan(1000)
    expect((times.at(-1) as number) - (times[0] as number), 'first to last attempt').toBeLessThan(2000)
  })

  it('a cap below backoffMs caps the first delay too', async () => {
    const { times } = await attemptTimes(new Registry({ retries: 2, backoffMs: 5000, maxBackoffMs: 30, onError: () => undefined }))
    expect(times).toHaveLength(3)
    for (const gap of gaps(times)) {
      expect(gap).toBeGreaterThanOrEqual(30 - EARLY_MS)
      expect(gap).toBeLessThan(2500)
    }
  })
})

describe('retry backoff and close()', () => {
  const open = closedAfterEach()

  it('a handler waiting out a long backoff does not hold close() past closeTimeoutMs; the message fails, reported', async () => {
    const hub = new MemoryHub()
    const errors = collectErrors()
    const registry = new Registry({ retries: 5, backoffMs: 60_000, maxBackoffMs: 60_000, onError: errors.onError })
    let attempts = 0
    registry.on(Job, () => {
      attempts++
      throw new Error('always')
    })
    const server = await listen('memory://retry-close', { hub, registry, closeTimeoutMs: 100, onError: errors.onError })
    open.push(server)
    const client = await connect(server.url, { hub })
    open.push(client)
    await client.send(Job, { n: 1 })
    await waitFor(() => attempts === 1 && registry.stats().retried === 1, 5000, 'the first attempt to fail and a retry to be scheduled')

    const started = performance.now()
    await server.close()
    // closeTimeoutMs (100 ms) plus slack; the backoff would hold it for a minute.
    expect(performance.now() - started).toBeLessThan(5000)
    expect(attempts).toBe(1)
    await waitFor(() => registry.stats().failed === 1, 5000, 'the message to end in the failed policy')
    // Closing ended the wait rather than running the handler again.
    expect(attempts).toBe(1)
    expect(errors.errors.some((e) => e.code === 'ERR_HANDLER_FAILED' && /always/.test(e.message))).toBe(true)
  })

  it('many messages waiting out a backoff on one channel at once raise no listener-leak warning', async () => {
    const warnings: string[] = []
    const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`)
    process.on('warning', onWarning)
    try {
      const hub = new MemoryHub()
      const registry = new Registry({ retries: 1, backoffMs: 30 })
      const failedOnce = new Set<number>()
      registry.on(Job, (job) => {
        if (!failedOnce.has(job.n)) {
          failedOnce.add(job.n)
          throw new Error('once')
        }
      })
      const server = await listen('memory://retry-many', { hub, registry })
      open.push(server)
      const client = await connect(server.url, { hub })
      open.push(client)
      for (let n = 0; n < 50; n++) await client.send(Job, { n })
      await waitFor(() => registry.stats().handled === 50, 5000, 'all 50 handled on their second attempt')
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([])
    } finally {
      process.off('warning', onWarning)
    }
  })
})
