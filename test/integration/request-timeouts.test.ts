/**
 * Request timeouts through a real TCP channel, with several requests waiting
 * at once: each rejects with ERR_TIMEOUT on its own deadline, and answered
 * ones are unaffected. Lower bounds are strict (timers never fire early, bar
 * a millisecond of rounding); upper bounds generous (they may fire late).
 */
import { performance } from 'node:perf_hooks'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { Registry, SeamError, connect, defineMessage, listen, type Channel } from '../../src/index.js'
import { closedAfterEach, within } from '../helpers.js'

const Ask = defineMessage('timeouts.Ask', t.type({ answer: t.boolean }))
const Answer = defineMessage('timeouts.Answer', t.type({ ok: t.boolean }))

const EARLY_MS = 3
const LATE_MS = 2000

const open = closedAfterEach()

/** A server that answers an Ask only when `answer` is true, and a client of it. */
async function pair(): Promise<Channel> {
  const registry = new Registry({ onError: () => undefined })
  registry.register(Answer)
  registry.on(Ask, async (ask, ctx) => {
    if (ask.answer) await ctx.reply(Answer, { ok: true })
  })
  const server = await listen('tcp://127.0.0.1:0', { registry })
  open.push(server)
  const client = await connect(server.url, { registry: new Registry({ onError: () => undefined }) })
  open.push(client)
  return client
}

/** The error `p` rejects with and when (ms after `started`); fails fast, naming `what`, when it has not settled within `ms`. */
async function timedRejection(p: Promise<unknown>, started: number, ms: number, what: string): Promise<{ error: SeamError; after: number }> {
  try {
    await within(p, ms, what)
  } catch (err) {
    if (!(err instanceof SeamError)) throw err
    return { error: err, after: performance.now() - started }
  }
  throw new Error(`${what} resolved; expected it to time out`)
}

describe('tcp: several requests pending at once', () => {
  it('a 100 ms and a 300 ms request, both unanswered, each reject with ERR_TIMEOUT on their own deadline', async () => {
    const client = await pair()
    const started = performance.now()
    const short = timedRejection(client.request(Ask, { answer: false }, { expect: Answer, timeoutMs: 100 }), started, 100 + LATE_MS, 'the 100 ms request')
    const long = timedRejection(client.request(Ask, { answer: false }, { expect: Answer, timeoutMs: 300 }), started, 300 + LATE_MS, 'the 300 ms request')
    expect(client.pendingRequests).toBe(2)
    const a = await short
    expect(a.error.code).toBe('ERR_TIMEOUT')
    expect(a.error.message).toContain('100 ms')
    expect(a.after).toBeGreaterThanOrEqual(100 - EARLY_MS)
    const b = await long
    expect(b.error.code).toBe('ERR_TIMEOUT')
    expect(b.error.message).toContain('300 ms')
    expect(b.after).toBeGreaterThanOrEqual(300 - EARLY_MS)
    expect(client.pendingRequests).toBe(0)
  })

  it('an answered request beside an unanswered one gets its reply; the other still times out', async () => {
    const client = await pair()
    const started = performance.now()
    const unanswered = timedRejection(client.request(Ask, { answer: false }, { expect: Answer, timeoutMs: 200 }), started, 200 + LATE_MS, 'the unanswered request')
    await expect(client.request(Ask, { answer: true }, { expect: Answer, timeoutMs: 100 })).resolves.toEqual({ ok: true })
    const u = await unanswered
    expect(u.error.code).toBe('ERR_TIMEOUT')
    expect(u.after).toBeGreaterThanOrEqual(200 - EARLY_MS)
    // The channel still works after both.
    await expect(client.request(Ask, { answer: true }, { expect: Answer, timeoutMs: 5000 })).resolves.toEqual({ ok: true })
  })
})
