/**
 * The two timing helpers behind retries and reconnects: `sleep` (abortable,
 * leaves nothing behind) and `backoff` (capped, doubling, jittered).
 */
import { getEventListeners } from 'node:events'
import { performance } from 'node:perf_hooks'
import { describe, expect, it } from 'vitest'
import { backoff, sleep } from '../../src/channel/timers.js'

const EARLY_MS = 3

function timeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
}

describe('sleep', () => {
  it('resolves true after ms, and leaves no listener on the signal', async () => {
    const abort = new AbortController()
    const started = performance.now()
    await expect(sleep(30, abort.signal)).resolves.toBe(true)
    expect(performance.now() - started).toBeGreaterThanOrEqual(30 - EARLY_MS)
    expect(getEventListeners(abort.signal, 'abort')).toHaveLength(0)
  })

  it('resolves false at once when the signal aborts, and leaves no timer behind', async () => {
    const abort = new AbortController()
    const before = timeouts()
    const slept = sleep(60_000, abort.signal)
    expect(timeouts()).toBe(before + 1)
    abort.abort()
    await expect(slept).resolves.toBe(false)
    expect(timeouts()).toBe(before)
  })

  it('resolves false at once for a signal already aborted, setting no timer', async () => {
    const before = timeouts()
    const slept = sleep(60_000, AbortSignal.abort())
    expect(timeouts()).toBe(before)
    // Bounded: a sleep that ignored the aborted signal would not settle for a minute.
    const settled = await Promise.race([slept, new Promise((resolve) => setTimeout(() => resolve('still sleeping'), 1000))])
    expect(settled).toBe(false)
  })
})

describe('backoff', () => {
  it('is 50–100 % of initialMs·2^attempt, capped at maxMs', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const step = Math.min(100 * 2 ** attempt, 5000)
      for (let i = 0; i < 200; i++) {
        const d = backoff(attempt, 100, 5000)
        expect(d, `attempt ${attempt}`).toBeGreaterThanOrEqual(step / 2)
        expect(d, `attempt ${attempt}`).toBeLessThanOrEqual(step)
      }
    }
  })

  it('is jittered: clients reconnecting together do not all wait the same', () => {
    // Step 800 ms: delays spread over 400–800 ms. 200 draws all within 100 ms of each other are
    // as likely as 200 heads in a row.
    const delays = Array.from({ length: 200 }, () => backoff(3, 100, 5000))
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(100)
  })
})
