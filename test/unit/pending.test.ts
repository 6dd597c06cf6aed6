/**
 * PendingRequests: one timer for every request waiting for a reply. Each
 * request must still time out on its own deadline, however many wait beside
 * it and in whatever order they were added. Timers never fire early (bar a
 * millisecond of rounding) but may fire late, so lower bounds are strict and
 * upper bounds generous.
 */
import { performance } from 'node:perf_hooks'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SeamError } from '../../src/index.js'
import { PendingRequests } from '../../src/channel/pending.js'
import { within } from '../helpers.js'

// Node rounds timer delays and measures them from the loop's cached clock.
const EARLY_MS = 3
// How late a timeout may be before the test calls it missing: a loaded machine is slow, not this slow.
const LATE_MS = 2000

interface Settled {
  /** ms from `started` until the promise settled. */
  after: number
  error: SeamError | undefined
  value: unknown
}

/** How and when `p` settled, or an error naming `what` when it has not within `ms` (a missing timeout fails fast). */
function settled(p: Promise<unknown>, started: number, ms: number, what: string): Promise<Settled> {
  const outcome = p.then(
    (value) => ({ after: performance.now() - started, error: undefined, value }),
    (err: unknown) => {
      expect(err).toBeInstanceOf(SeamError)
      return { after: performance.now() - started, error: err as SeamError, value: undefined }
    },
  )
  return within(outcome, ms, what)
}

let pending: PendingRequests<string>
beforeEach(() => void (pending = new PendingRequests<string>()))
afterEach(() => pending.clear())

describe('PendingRequests timeouts', () => {
  it('two requests pending at once (100 ms, 300 ms) each time out with ERR_TIMEOUT on its own deadline', async () => {
    const started = performance.now()
    const short = settled(pending.add('a', 'test.Short', 100), started, 100 + LATE_MS, 'the 100 ms request')
    const long = settled(pending.add('b', 'test.Long', 300), started, 300 + LATE_MS, 'the 300 ms request')
    expect(pending.size).toBe(2)

    const a = await short
    expect(a.error?.code).toBe('ERR_TIMEOUT')
    expect(a.error?.tag).toBe('test.Short')
    expect(a.error?.message).toContain('100 ms')
    expect(a.after).toBeGreaterThanOrEqual(100 - EARLY_MS)
    // The long one is still waiting after the short one timed out.
    expect(pending.size).toBe(1)

    const b = await long
    expect(b.error?.code).toBe('ERR_TIMEOUT')
    expect(b.error?.tag).toBe('test.Long')
    expect(b.error?.message).toContain('300 ms')
    expect(b.after).toBeGreaterThanOrEqual(300 - EARLY_MS)
    expect(pending.size).toBe(0)
  })

  it('a shorter request added after a longer one moves the timer earlier: it times out on its own deadline', async () => {
    const started = performance.now()
    const long = settled(pending.add('b', 'test.Long', 1000), started, 1000 + LATE_MS, 'the 1000 ms request')
    const short = settled(pending.add('a', 'test.Short', 50), started, 50 + LATE_MS, 'the 50 ms request')
    const a = await short
    expect(a.error?.code).toBe('ERR_TIMEOUT')
    expect(a.after).toBeGreaterThanOrEqual(50 - EARLY_MS)
    // Well before the 1000 ms request's deadline: the shorter request moved the timer earlier.
    expect(a.after).toBeLessThan(700)
    expect(pending.size).toBe(1)
    const b = await long
    expect(b.error?.code).toBe('ERR_TIMEOUT')
    expect(b.after).toBeGreaterThanOrEqual(1000 - EARLY_MS)
  })

  it('several requests with interleaved deadlines all time out, in deadline order', async () => {
    const started = performance.now()
    const timeouts = [240, 40, 160, 80, 120, 200]
    const order: number[] = []
    const all = timeouts.map((ms, i) => {
      const p = pending.add(`r${i}`, `test.R${ms}`, ms)
      p.catch(() => void order.push(ms))
      return settled(p, started, ms + LATE_MS, `the ${ms} ms request`)
    })
    const results = await Promise.all(all)
    results.forEach((r, i) => {
      const ms = timeouts[i] as number
      expect(r.error?.code, `the ${ms} ms request`).toBe('ERR_TIMEOUT')
      expect(r.after, `the ${ms} ms request`).toBeGreaterThanOrEqual(ms - EARLY_MS)
    })
    expect(order).toEqual([...timeouts].sort((x, y) => x - y))
  })

  it('a resolved request gets its reply and never times out; the one beside it still does', async () => {
    const started = performance.now()
    const answered = settled(pending.add('a', 'test.Answered', 100), started, 100 + LATE_MS, 'the answered request')
    const unanswered = settled(pending.add('b', 'test.Unanswered', 150), started, 150 + LATE_MS, 'the unanswered request')
    expect(pending.resolve('a', 'the reply')).toBe(true)
    const a = await answered
    expect(a.error).toBeUndefined()
    expect(a.value).toBe('the reply')
    // Once settled, its id is unknown: a late duplicate reply is not delivered anywhere.
    expect(pending.resolve('a', 'again')).toBe(false)
    expect(pending.reject('a', new Error('late'))).toBe(false)
    const b = await unanswered
    expect(b.error?.code).toBe('ERR_TIMEOUT')
    expect(b.after).toBeGreaterThanOrEqual(150 - EARLY_MS)
    expect(pending.size).toBe(0)
  })

  it('after a request is answered early, the next one (with a later deadline) still times out', async () => {
    // The timer set for the first request stays armed when it is answered; when it fires,
    // it must re-arm for the second request's deadline.
    const first = pending.add('a', 'test.First', 50)
    expect(pending.resolve('a', 'ok')).toBe(true)
    await expect(first).resolves.toBe('ok')
    const started = performance.now()
    const second = await settled(pending.add('b', 'test.Second', 200), started, 200 + LATE_MS, 'the second request')
    expect(second.error?.code).toBe('ERR_TIMEOUT')
    expect(second.after).toBeGreaterThanOrEqual(200 - EARLY_MS)
  })

  it('rejectAll fails only the selected requests, and the rest still time out', async () => {
    const started = performance.now()
    const written = settled(pending.add('w', 'test.Written', 5000), started, LATE_MS, 'the written request')
    const unwritten = settled(pending.add('u', 'test.Unwritten', 100), started, 100 + LATE_MS, 'the unwritten request')
    pending.written('w')
    pending.rejectAll((tag) => new SeamError('ERR_TRANSPORT', `lost ${tag}`), (isWritten) => isWritten)
    expect((await written).error?.code).toBe('ERR_TRANSPORT')
    const u = await unwritten
    expect(u.error?.code).toBe('ERR_TIMEOUT')
    expect(u.after).toBeGreaterThanOrEqual(100 - EARLY_MS)
  })

  it('rejectAll() with no selector fails every request, written or not', async () => {
    const started = performance.now()
    const written = settled(pending.add('w', 'test.Written', 5000), started, LATE_MS, 'the written request')
    const unwritten = settled(pending.add('u', 'test.Unwritten', 5000), started, LATE_MS, 'the unwritten request')
    pending.written('w')
    pending.rejectAll((tag) => new SeamError('ERR_CLOSED', `closed before ${tag}`))
    expect((await written).error?.code).toBe('ERR_CLOSED')
    expect((await unwritten).error?.code).toBe('ERR_CLOSED')
    expect(pending.size).toBe(0)
  })
})

describe('PendingRequests bookkeeping', () => {
  it('reject() fails a waiting request and says so; resolve() and reject() of unknown ids say false', async () => {
    const p = pending.add('a', 'test.A', 5000)
    expect(pending.reject('a', new SeamError('ERR_FORBIDDEN', 'denied'))).toBe(true)
    await expect(p).rejects.toMatchObject({ code: 'ERR_FORBIDDEN' })
    expect(pending.resolve('nobody', 'x')).toBe(false)
    expect(pending.reject('nobody', new Error('x'))).toBe(false)
  })

  it('written() for a request that already ended (timed out, answered, aborted) is harmless', () => {
    // The channel marks a request written when its send resolves, which may be after it ended.
    expect(() => pending.written('gone')).not.toThrow()
    expect(pending.size).toBe(0)
  })

  it('a waiting request keeps the process alive; with nothing waiting, no timer holds it', async () => {
    // getActiveResourcesInfo lists only timers that keep the process alive (ref'd).
    const holding = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
    const before = holding()
    const a = pending.add('a', 'test.A', 5000)
    expect(holding()).toBe(before + 1)
    pending.resolve('a', 'done')
    await a
    expect(holding()).toBe(before)
    // A later deadline than the timer still armed for 'a': that timer must hold the process again.
    const b = pending.add('b', 'test.B', 10_000)
    expect(holding()).toBe(before + 1)
    pending.reject('b', new SeamError('ERR_CLOSED', 'closed'))
    await expect(b).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    expect(holding()).toBe(before)
  })
})

