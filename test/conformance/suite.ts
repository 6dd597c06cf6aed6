/**
 * The channel's promises, stated once, run against every transport
 * (Watermill's `tests.TestPubSub` with its Features record). A transport's
 * test file builds a {@link ConformanceTarget} and calls {@link runConformance}.
 */
import * as t from 'io-ts'
import { afterEach, describe, expect, it } from 'vitest'
import {
  Registry,
  connect,
  defineMessage,
  type Channel,
  type ConnectOptions,
  type Envelope,
  type ListenOptions,
  type Serde,
  type Server,
} from '../../src/index.js'
import { collectErrors, rejection, sleep } from '../helpers.js'
import type { ConformanceTarget } from './target.js'

export type { ConformanceTarget } from './target.js'

const Ping = defineMessage('conf.Ping', t.type({ seq: t.number }))
const Pong = defineMessage('conf.Pong', t.type({ seq: t.number }))
const Unknown = defineMessage('conf.Unknown', t.type({ note: t.string }))
const Keyed = defineMessage('conf.Keyed', t.type({ key: t.string, seq: t.number }))
// Same tag as Ping, but a codec the receiver's Ping will refuse.
const FakePing = defineMessage('conf.Ping', t.type({ seq: t.string }))

/** Polls `ok` every 5 ms; fails naming `what` after `ms`. */
async function until(ok: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Registers the whole suite for `target` inside a describe block named after it. */
export function runConformance(target: ConformanceTarget): void {
  const f = target.features
  // Promises a transport does not make are not registered at all (rather than reported as skipped).
  const itIf = (promised: boolean): typeof it | ((...args: Parameters<typeof it>) => void) => (promised ? it : () => undefined)
  const describeIf = (promised: boolean): typeof describe | ((...args: Parameters<typeof describe>) => void) => (promised ? describe : () => undefined)

  // Where only a key keeps order (Kafka: a record without one may go to any partition), tests of order use one key.
  const sameOrder = f.orderedWithoutKey ? undefined : { key: 'one-key' }
  // Where nothing keeps order (a standard SQS queue), those tests check what arrived, not in which order.
  const ordered = f.orderedWithoutKey || f.orderingByKey
  const inOrder = (xs: readonly number[]): number[] => (ordered ? [...xs] : [...xs].sort((a, b) => a - b))

  describe(`conformance: ${target.name}${target.variant === undefined ? '' : ` (${target.variant})`}`, () => {
    const open: { close(): Promise<void> }[] = []
    afterEach(async () => {
      await Promise.all(open.splice(0).map((c) => c.close()))
    })

    async function pair(serverOptions: ListenOptions, clientOptions: ConnectOptions = {}): Promise<{ server: Server; client: Channel }> {
      const p = await target.pair(serverOptions, clientOptions)
      open.push(p.client, p.server)
      return p
    }

    /** A server whose Ping handler records values and answers requests with a Pong. */
    function echo(options: ConstructorParameters<typeof Registry>[0] = {}): { registry: Registry; got: number[]; contexts: { transport: string; tag: string; headers: Readonly<Record<string, string>> }[] } {
      const registry = new Registry({ backoffMs: 1, ...options })
      const got: number[] = []
      const contexts: { transport: string; tag: string; headers: Readonly<Record<string, string>> }[] = []
      registry.on(Ping, async (ping, ctx) => {
        got.push(ping.seq)
        contexts.push({ transport: ctx.transport, tag: ctx.tag, headers: ctx.headers })
        await ctx.reply(Pong, { seq: ping.seq })
      })
      return { registry, got, contexts }
    }

    it('delivers a typed value to its handler with the context filled in', async () => {
      const { registry, got, contexts } = echo()
      const { client } = await pair({ registry })
      expect(client.transport).toBe(target.name)
      await client.send(Ping, { seq: 7 }, { headers: { 'trace-id': 'abc' } })
      await until(() => got.length === 1, 'the Ping')
      expect(got).toEqual([7])
      expect(contexts[0]).toMatchObject({ transport: target.name, tag: 'conf.Ping', headers: { 'trace-id': 'abc' } })
    })

    it(`with concurrency 1, handles the messages of one channel one at a time${ordered ? ', in the order sent' : ''}`, async () => {
      const registry = new Registry()
      const done: number[] = []
      let running = 0
      let maxRunning = 0
      registry.on(Ping, async (ping) => {
        maxRunning = Math.max(maxRunning, ++running)
        // Uneven handler times: a later message that started early would finish first.
        await sleep(ping.seq % 3)
        done.push(ping.seq)
        running--
      })
      const { client } = await pair({ registry, concurrency: 1 })
      const n = 300
      await Promise.all(Array.from({ length: n }, (_, i) => client.send(Ping, { seq: i }, sameOrder)))
      await until(() => done.length === n, `${n} Pings`)
      expect(inOrder(done)).toEqual(Array.from({ length: n }, (_, i) => i))
      expect(maxRunning).toBe(1)
    })

    itIf(f.orderingByKey)('handles one key\'s messages one at a time and in order, other keys at the same time, across competing consumers', async () => {
      const registry = new Registry()
      const done = new Map<string, number[]>()
      const busy = new Set<string>()
      const overlaps: string[] = []
      let running = 0
      let maxRunning = 0
      registry.on(Keyed, async (m) => {
        if (busy.has(m.key)) overlaps.push(`${m.key}#${m.seq}`)
        busy.add(m.key)
        maxRunning = Math.max(maxRunning, ++running)
        await sleep(m.seq % 3)
        done.set(m.key, [...(done.get(m.key) ?? []), m.seq])
        busy.delete(m.key)
        running--
      })
      const serverOptions = { registry, concurrency: 16 }
      const { server, client } = await pair(serverOptions)
      if (target.competing !== undefined) open.push(await target.competing(server, serverOptions))
      const keys = ['a', 'b', 'c', 'd']
      const perKey = 60
      const sends: Promise<void>[] = []
      for (let seq = 0; seq < perKey; seq++) for (const key of keys) sends.push(client.send(Keyed, { key, seq }, { key }))
      await Promise.all(sends)
      await until(() => keys.every((k) => done.get(k)?.length === perKey), `${perKey} messages of each key`)
      expect(overlaps).toEqual([])
      for (const key of keys) expect(done.get(key), key).toEqual(Array.from({ length: perKey }, (_, i) => i))
      // Keys do not wait for each other.
      expect(maxRunning).toBeGreaterThan(1)
    })

    it('delivers 10 000 messages, none lost and none twice', async () => {
      const { registry, got } = echo()
      const { client } = await pair({ registry })
      const n = 10_000
      for (let i = 0; i < n; i += 500) {
        const batch: Promise<void>[] = []
        for (let j = i; j < i + 500; j++) batch.push(client.send(Ping, { seq: j }))
        await Promise.all(batch)
      }
      await until(() => got.length >= n, `${n} Pings`, 20_000)
      expect(got.length).toBe(n)
      expect(new Set(got).size).toBe(n)
    })

    it('close() flushes what was sent but not yet awaited', async () => {
      const { registry, got } = echo()
      const { client } = await pair({ registry })
      const n = 2000
      for (let i = 0; i < n; i++) void client.send(Ping, { seq: i })
      await client.close()
      await until(() => got.length === n, `${n} Pings after close`)
      expect(await client.closed()).toBeUndefined()
      expect((await rejection(client.send(Ping, { seq: 0 }))).code).toBe('ERR_CLOSED')
    })

    it('rejects each bad URL with ERR_BAD_URL', async () => {
      for (const url of target.badUrls) {
        const err = await rejection(connect(url, { connectTimeoutMs: 500 }))
        expect(err.code, url).toBe('ERR_BAD_URL')
      }
    })

    describeIf(f.reply)('request/response', () => {
      it('resolves a request with the typed reply', async () => {
        const { registry } = echo()
        const { client } = await pair({ registry })
        const pong = await client.request(Ping, { seq: 42 }, { expect: Pong, timeoutMs: 5000 })
        expect(pong).toEqual({ seq: 42 })
      })

      it('matches 200 concurrent requests to their replies', async () => {
        const { registry } = echo()
        const { client } = await pair({ registry })
        const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => client.request(Ping, { seq: i }, { expect: Pong, timeoutMs: 10_000 })))
        expect(replies.map((r) => r.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i))
        expect(client.pendingRequests).toBe(0)
      })

      it('rejects a request with ERR_TIMEOUT when nobody replies', async () => {
        const registry = new Registry()
        registry.on(Ping, () => undefined)
        const { client } = await pair({ registry })
        const err = await rejection(client.request(Ping, { seq: 1 }, { expect: Pong, timeoutMs: 100 }))
        expect(err.code).toBe('ERR_TIMEOUT')
        expect(err.message).toContain('conf.Ping')
      })
    })

    describe('policy: unregistered', () => {
      itIf(f.reply)('reject: a request fails with ERR_UNREGISTERED_TAG', async () => {
        const { registry } = echo()
        const { client } = await pair({ registry })
        const err = await rejection(client.request(Unknown, { note: 'x' }, { expect: Pong, timeoutMs: 5000 }))
        expect(err.code).toBe('ERR_UNREGISTERED_TAG')
        expect(err.message).toContain('conf.Unknown')
        expect(registry.stats()).toMatchObject({ unregistered: 1, rejected: 1 })
      })

      it('reject: a plain send is reported, never silently lost', async () => {
        const server = collectErrors()
        const client = collectErrors()
        const { registry } = echo({ onError: server.onError })
        const { client: ch } = await pair({ registry }, { onError: client.onError })
        await ch.send(Unknown, { note: 'x' })
        // Over a connection the sender hears of it; on a broker without replyTo the receiver reports it.
        const heard = f.connected ? client.errors : server.errors
        await until(() => heard.length === 1, 'the rejection report')
        expect(heard[0]?.code).toBe('ERR_UNREGISTERED_TAG')
      })

      it('drop: acknowledged, counted and observable', async () => {
        const { registry } = echo({ unregistered: 'drop' })
        const seen: string[] = []
        registry.events.on('outcome', (o, env) => seen.push(`${o.case}/${o.action}/${env.tag}`))
        const client = collectErrors()
        const { client: ch } = await pair({ registry }, { onError: client.onError })
        await ch.send(Unknown, { note: 'x' })
        await until(() => seen.length === 1, 'the drop outcome')
        expect(seen).toEqual(['unregistered/drop/conf.Unknown'])
        expect(registry.stats()).toMatchObject({ unregistered: 1, dropped: 1 })
        expect(client.errors).toEqual([])
      })

      it('dead-letter: forwards the untouched envelope with x-seam-reason', async () => {
        const dead: Envelope[] = []
        const sink = { forward: async (env: Envelope) => void dead.push(env) }
        const { registry } = echo({ unregistered: 'dead-letter', deadLetter: sink })
        const { client } = await pair({ registry })
        await client.send(Unknown, { note: 'keep me' })
        await until(() => dead.length === 1, 'the dead letter')
        const env = dead[0] as Envelope
        expect(env.tag).toBe('conf.Unknown')
        expect(env.headers['x-seam-reason']).toMatch(/^ERR_UNREGISTERED_TAG: /)
        expect(registry.decode(Unknown, env)).toEqual({ ok: true, value: { note: 'keep me' } })
        expect(registry.stats()).toMatchObject({ unregistered: 1, deadLettered: 1 })
      })

      itIf(f.connected)('dead-letter to a destination name is refused up front on a connection', async () => {
        const registry = new Registry({ unregistered: 'dead-letter', deadLetter: 'dlq' })
        const err = await rejection(target.pair({ registry }, {}))
        expect(err.code).toBe('ERR_BAD_ARGUMENT')
        expect(err.message).toContain('deadLetter')
      })

      it('function: decides, with the raw envelope and the reason', async () => {
        const calls: string[] = []
        const { registry } = echo({ unregistered: (raw, reason) => void calls.push(`${raw.tag}:${reason.code}`) })
        const { client } = await pair({ registry })
        await client.send(Unknown, { note: 'x' })
        await until(() => calls.length === 1, 'the policy function')
        expect(calls).toEqual(['conf.Unknown:ERR_UNREGISTERED_TAG'])
        expect(registry.stats()).toMatchObject({ unregistered: 1, custom: 1 })
      })
    })

    describe('policy: undecodable', () => {
      const weird: Serde = { contentType: 'application/x-weird', encode: () => new Uint8Array([1, 2, 3]), decode: () => null }
      const lying: Serde = { contentType: 'application/json', encode: () => new Uint8Array([0xff, 0x00, 0x7b]), decode: () => null }

      itIf(f.reply)('reject: an unknown content type or unreadable body fails the request with ERR_UNDECODABLE', async () => {
        const { registry } = echo()
        const { client } = await pair({ registry }, { serde: weird })
        const err = await rejection(client.request(Ping, { seq: 1 }, { expect: Pong, timeoutMs: 5000 }))
        expect(err.code).toBe('ERR_UNDECODABLE')
        expect(err.message).toContain('application/x-weird')
        const { client: liar } = await pair({ registry }, { serde: lying })
        const err2 = await rejection(liar.request(Ping, { seq: 1 }, { expect: Pong, timeoutMs: 5000 }))
        expect(err2.code).toBe('ERR_UNDECODABLE')
        expect(registry.stats()).toMatchObject({ undecodable: 2, rejected: 2, handled: 0 })
      })

      it('drop: counted separately from the other cases', async () => {
        const { registry } = echo({ undecodable: 'drop' })
        const { client } = await pair({ registry }, { serde: weird })
        await client.send(Ping, { seq: 1 })
        await until(() => registry.stats().dropped === 1, 'the drop')
        expect(registry.stats()).toMatchObject({ undecodable: 1, unregistered: 0, invalid: 0, failed: 0 })
      })
    })

    describe('policy: invalid', () => {
      itIf(f.reply)('reject: the request fails with ERR_INVALID_PAYLOAD and the io-ts path', async () => {
        const { registry, got } = echo()
        const { client } = await pair({ registry })
        const err = await rejection(client.request(FakePing, { seq: 'x' }, { expect: Pong, timeoutMs: 5000 }))
        expect(err.code).toBe('ERR_INVALID_PAYLOAD')
        expect(err.message).toContain('seq: expected number, got "x"')
        expect(got).toEqual([])
      })

      it('dead-letter: the invalid message is kept with its reason', async () => {
        const dead: Envelope[] = []
        const { registry } = echo({ invalid: 'dead-letter', deadLetter: { forward: async (env) => void dead.push(env) } })
        const { client } = await pair({ registry })
        await client.send(FakePing, { seq: 'x' })
        await until(() => dead.length === 1, 'the dead letter')
        expect(dead[0]?.headers['x-seam-reason']).toContain('seq: expected number, got "x"')
        expect(registry.stats()).toMatchObject({ invalid: 1, deadLettered: 1 })
      })
    })

    describe('policy: failed', () => {
      it('retries a failing handler with backoff, then succeeds', async () => {
        const registry = new Registry({ retries: 3, backoffMs: 1 })
        let attempts = 0
        registry.on(Ping, async (ping, ctx) => {
          if (++attempts < 3) throw new Error(`flaky ${attempts}`)
          await ctx.reply(Pong, ping)
        })
        const { client } = await pair({ registry })
        await client.send(Ping, { seq: 1 })
        await until(() => registry.stats().handled === 1, 'the third attempt')
        expect(attempts).toBe(3)
        expect(registry.stats()).toMatchObject({ retried: 2, failed: 0 })
      })

      it('after the last retry, rejects: reported on both sides, never silent', async () => {
        const server = collectErrors()
        const registry = new Registry({ retries: 2, backoffMs: 1, onError: server.onError })
        let attempts = 0
        registry.on(Ping, () => {
          attempts++
          throw new Error('always broken')
        })
        const { client } = await pair({ registry })
        if (f.reply) {
          const err = await rejection(client.request(Ping, { seq: 1 }, { expect: Pong, timeoutMs: 5000 }))
          expect(err.code).toBe('ERR_HANDLER_FAILED')
          expect(err.message).toContain('always broken')
        } else {
          await client.send(Ping, { seq: 1 })
        }
        await until(() => server.errors.length === 1, 'the receiver-side report')
        expect(server.errors[0]?.code).toBe('ERR_HANDLER_FAILED')
        expect(attempts).toBe(3)
        expect(registry.stats()).toMatchObject({ failed: 1, retried: 2, rejected: 1 })
      })

      it('a failing handler never kills the channel', async () => {
        const registry = new Registry({ retries: 0, failed: 'drop' })
        const got: number[] = []
        registry.on(Ping, (ping) => {
          if (ping.seq === 1) throw new Error('boom')
          got.push(ping.seq)
        })
        const { client } = await pair({ registry })
        for (const seq of [0, 1, 2]) await client.send(Ping, { seq }, sameOrder)
        await until(() => got.length === 2, 'the Pings around the failure')
        expect(inOrder(got)).toEqual([0, 2])
      })
    })
  })
}
