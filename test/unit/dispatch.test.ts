import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { defineMessage, msgpack, Registry, SeamError, type Envelope, type Outcome, type PolicyOutcome, type RegistryStats } from '../../src/index.js'
import type { DispatchSource } from '../../src/registry/context.js'
import type { AnyMessageType } from '../../src/registry/message-type.js'

const Ping = defineMessage('demo.Ping', t.type({ seq: t.number }))
const Pong = defineMessage('demo.Pong', t.type({ seq: t.number }))

let nextId = 0
function envelope(tag: string, value: unknown, extra: Partial<Envelope> = {}): Envelope {
  return { tag, id: `id-${++nextId}`, ts: 0, ct: 'application/msgpack', headers: {}, body: msgpack.encode(value), ...extra }
}

/** A DispatchSource that records replies instead of sending them. */
function fakeSource(): DispatchSource & { replies: { request: Envelope; type: AnyMessageType; value: unknown }[] } {
  const replies: { request: Envelope; type: AnyMessageType; value: unknown }[] = []
  return {
    transport: 'fake',
    peer: undefined,
    replies,
    canReply: (request) => request.replyTo !== undefined,
    reply: async (request, type, value) => void replies.push({ request, type, value }),
  }
}

const ZERO: RegistryStats = { handled: 0, unregistered: 0, undecodable: 0, invalid: 0, failed: 0, retried: 0, dropped: 0, rejected: 0, deadLettered: 0, custom: 0 }

function policyOutcome(o: Outcome): PolicyOutcome {
  if (o.case === 'handled') throw new Error('expected a policy outcome, got handled')
  return o
}

describe('Registry.dispatch', () => {
  it('runs a synchronous handler synchronously, with a context', () => {
    const r = new Registry()
    const seen: unknown[] = []
    r.on(Ping, (v, ctx) => void seen.push(v, ctx.tag, ctx.transport, ctx.headers, ctx.canReply))
    const env = envelope('demo.Ping', { seq: 1 }, { headers: { h: 'v' } })
    const outcome = r.dispatch(env, fakeSource())
    expect(outcome).toEqual({ case: 'handled' })
    expect(seen).toEqual([{ seq: 1 }, 'demo.Ping', 'fake', { h: 'v' }, false])
    expect(r.stats()).toEqual({ ...ZERO, handled: 1 })
  })

  it('awaits an async handler; ctx.reply goes to the source', async () => {
    const r = new Registry()
    r.on(Ping, async (v, ctx) => {
      expect(ctx.canReply).toBe(true)
      await ctx.reply(Pong, { seq: v.seq + 1 })
    })
    const source = fakeSource()
    const env = envelope('demo.Ping', { seq: 1 }, { replyTo: '' })
    const outcome = r.dispatch(env, source)
    expect(outcome).toBeInstanceOf(Promise)
    expect(await outcome).toEqual({ case: 'handled' })
    expect(source.replies).toHaveLength(1)
    expect(source.replies[0]?.type).toBe(Pong)
    expect(source.replies[0]?.value).toEqual({ seq: 2 })
    expect(source.replies[0]?.request).toBe(env)
  })

  it('an unknown tag is unregistered without decoding the body', () => {
    const r = new Registry()
    const o = policyOutcome(r.dispatch(envelope('demo.Nope', 1, { body: new Uint8Array([0xc1]) }), fakeSource()) as Outcome)
    expect(o.case).toBe('unregistered')
    expect(o.action).toBe('reject')
    expect(o.error.code).toBe('ERR_UNREGISTERED_TAG')
    expect(o.error.message).toContain('demo.Nope')
    expect(r.stats()).toEqual({ ...ZERO, unregistered: 1, rejected: 1 })
  })

  it('a registered type without a handler is unregistered too', () => {
    const r = new Registry({ unregistered: 'drop' })
    r.register(Ping)
    const o = policyOutcome(r.dispatch(envelope('demo.Ping', { seq: 1 }), fakeSource()) as Outcome)
    expect(o.case).toBe('unregistered')
    expect(o.action).toBe('drop')
    expect(o.error.message).toContain('no handler')
    expect(r.stats()).toEqual({ ...ZERO, unregistered: 1, dropped: 1 })
  })

  it('an unreadable body is undecodable', () => {
    const r = new Registry({ undecodable: 'dead-letter', deadLetter: 'dlq' })
    r.on(Ping, () => undefined)
    const o = policyOutcome(r.dispatch(envelope('demo.Ping', 0, { body: new Uint8Array([0xc1]) }), fakeSource()) as Outcome)
    expect(o).toMatchObject({ case: 'undecodable', action: 'dead-letter' })
    expect(o.error.code).toBe('ERR_UNDECODABLE')
    expect(r.stats()).toEqual({ ...ZERO, undecodable: 1, deadLettered: 1 })
  })

  it('a payload failing its codec is invalid and never reaches the handler', () => {
    const r = new Registry()
    let called = false
    r.on(Ping, () => void (called = true))
    const o = policyOutcome(r.dispatch(envelope('demo.Ping', { seq: 'x' }), fakeSource()) as Outcome)
    expect(o.case).toBe('invalid')
    expect(o.error.code).toBe('ERR_INVALID_PAYLOAD')
    expect(o.error.message).toContain('seq: expected number, got "x"')
    expect(called).toBe(false)
    expect(r.stats()).toEqual({ ...ZERO, invalid: 1, rejected: 1 })
  })

  it('a codec that throws (a custom one, or a recursive one on very deep input) fails that message as invalid', () => {
    const fragile = new t.Type<number, number, unknown>(
      'Fragile',
      (u): u is number => typeof u === 'number',
      () => {
        throw new RangeError('Maximum call stack size exceeded')
      },
      (n) => n,
    )
    const Fragile = defineMessage('demo.Fragile', fragile)
    const r = new Registry()
    let called = false
    r.on(Fragile, () => void (called = true))
    const o = policyOutcome(r.dispatch(envelope('demo.Fragile', 'not a number'), fakeSource()) as Outcome)
    expect(o.case).toBe('invalid')
    expect(o.error.code).toBe('ERR_INVALID_PAYLOAD')
    expect(o.error.message).toMatch(/"demo.Fragile" failed its codec, which threw: Maximum call stack/)
    expect(called).toBe(false)
    expect(r.stats()).toEqual({ ...ZERO, invalid: 1, rejected: 1 })
  })

  it('policies passed to dispatch override the registry', () => {
    const r = new Registry({ invalid: 'reject' })
    r.register(Ping)
    r.on(Ping, () => undefined)
    const o = policyOutcome(r.dispatch(envelope('demo.Ping', { seq: 'x' }), fakeSource(), { ...r.policies, invalid: 'drop' }) as Outcome)
    expect(o.action).toBe('drop')
  })

  it('retries a failing handler with backoff, then runs the failed policy', async () => {
    const r = new Registry({ retries: 2, backoffMs: 1, maxBackoffMs: 4 })
    let calls = 0
    r.on(Ping, () => {
      calls++
      throw new Error(`boom ${calls}`)
    })
    const o = policyOutcome(await r.dispatch(envelope('demo.Ping', { seq: 1 }), fakeSource()))
    expect(calls).toBe(3)
    expect(o.case).toBe('failed')
    expect(o.action).toBe('reject')
    expect(o.error.code).toBe('ERR_HANDLER_FAILED')
    expect(o.error.message).toContain('3 times')
    expect(o.error.message).toContain('boom 3')
    expect((o.error.cause as Error).message).toBe('boom 3')
    expect(r.stats()).toEqual({ ...ZERO, failed: 1, retried: 2, rejected: 1 })
  })

  it('a handler that fails once then succeeds is handled', async () => {
    const r = new Registry({ retries: 3, backoffMs: 1 })
    let calls = 0
    r.on(Ping, async () => {
      if (++calls === 1) throw new Error('flaky')
    })
    expect(await r.dispatch(envelope('demo.Ping', { seq: 1 }), fakeSource())).toEqual({ case: 'handled' })
    expect(r.stats()).toEqual({ ...ZERO, handled: 1, retried: 1 })
  })

  it('a SeamError that is not retriable (the peer left: ERR_CLOSED) is not retried', async () => {
    const r = new Registry({ retries: 3, backoffMs: 1 })
    let calls = 0
    r.on(Ping, () => {
      calls++
      throw new SeamError('ERR_CLOSED', 'the channel is closed')
    })
    const o = policyOutcome(await r.dispatch(envelope('demo.Ping', { seq: 1 }), fakeSource()))
    expect(calls).toBe(1)
    expect(o.error.code).toBe('ERR_HANDLER_FAILED')
    expect(r.stats()).toEqual({ ...ZERO, failed: 1, rejected: 1 })
  })

  it('retries: 0 fails at once', async () => {
    const r = new Registry({ retries: 0, failed: 'drop' })
    r.on(Ping, () => Promise.reject(new Error('no')))
    const o = policyOutcome(await r.dispatch(envelope('demo.Ping', { seq: 1 }), fakeSource()))
    expect(o.error.message).toContain('once')
    expect(r.stats()).toEqual({ ...ZERO, failed: 1, dropped: 1 })
  })

  it('an aborted signal stops retrying', async () => {
    const r = new Registry({ retries: 5, backoffMs: 10_000 })
    let calls = 0
    r.on(Ping, () => {
      calls++
      throw new Error('x')
    })
    const abort = new AbortController()
    abort.abort()
    const o = policyOutcome(await r.dispatch(envelope('demo.Ping', { seq: 1 }), fakeSource(), r.policies, abort.signal))
    expect(calls).toBe(1)
    expect(o.case).toBe('failed')
  })

  it('a policy function decides: counted as custom and emitted', async () => {
    const seen: { raw: Envelope; code: string }[] = []
    const r = new Registry({ unregistered: (raw, reason) => void seen.push({ raw, code: reason.code }) })
    const events: PolicyOutcome[] = []
    r.events.on('outcome', (o) => void events.push(o))
    const env = envelope('demo.Nope', 1)
    const o = policyOutcome(await r.dispatch(env, fakeSource()))
    expect(o.action).toBe('custom')
    expect(seen).toEqual([{ raw: env, code: 'ERR_UNREGISTERED_TAG' }])
    expect(events.map((e) => e.action)).toEqual(['custom'])
    expect(r.stats()).toEqual({ ...ZERO, unregistered: 1, custom: 1 })
  })

  it('a policy function that throws or rejects is counted as rejected', async () => {
    const r = new Registry({
      unregistered: () => {
        throw new Error('policy broke')
      },
      invalid: () => Promise.reject(new Error('async policy broke')),
    })
    r.register(Ping)
    r.on(Ping, () => undefined)
    const a = policyOutcome(await r.dispatch(envelope('demo.Nope', 1), fakeSource()))
    expect(a.action).toBe('reject')
    expect(a.error.code).toBe('ERR_UNREGISTERED_TAG')
    expect(a.error.message).toContain('policy broke')
    const b = policyOutcome(await r.dispatch(envelope('demo.Ping', { seq: 'x' }), fakeSource()))
    expect(b.action).toBe('reject')
    expect(b.error.code).toBe('ERR_INVALID_PAYLOAD')
    expect(b.error.message).toContain('async policy broke')
    expect(r.stats()).toEqual({ ...ZERO, unregistered: 1, invalid: 1, rejected: 2 })
  })

  it('emits every policy outcome with its envelope', () => {
    const r = new Registry({ unregistered: 'drop' })
    const events: [string, string][] = []
    r.events.on('outcome', (o, env) => void events.push([o.case, env.tag]))
    r.dispatch(envelope('a.A', 1), fakeSource())
    r.dispatch(envelope('b.B', 1), fakeSource())
    expect(events).toEqual([
      ['unregistered', 'a.A'],
      ['unregistered', 'b.B'],
    ])
  })

  it('stats() is a snapshot', () => {
    const r = new Registry()
    const before = r.stats()
    r.dispatch(envelope('x.X', 1), fakeSource())
    expect(before.unregistered).toBe(0)
    expect(r.stats().unregistered).toBe(1)
  })
})
