import { encode } from '@msgpack/msgpack'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { Registry, connect, defineMessage, listen } from '../../src/index.js'
import { closedAfterEach, collectErrors, rejection, waitFor } from '../helpers.js'
import { expectClientMissing } from '../helpers/missing-module.js'
import { fastRedis, freshGroup, freshStream, redis, redisUrl, useRedis } from '../helpers/redis.js'

useRedis()
const open = closedAfterEach()

const Order = defineMessage('redis.Order', t.type({ n: t.number }))
const Total = defineMessage('redis.Total', t.type({ n: t.number }))
const Stray = defineMessage('redis.Stray', t.type({ why: t.string }))

/** Asks `read` every 20 ms until `ok` holds (at most 5 s); returns the last answer. */
async function settled<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5000
  for (;;) {
    const value = await read()
    if (ok(value) || Date.now() > deadline) return value
    await new Promise((r) => setTimeout(r, 20))
  }
}

function field(fields: readonly string[], name: string): string | undefined {
  const i = fields.indexOf(name)
  return i < 0 ? undefined : fields[i + 1]
}

describe('redis: streams and groups', () => {
  it('appends one entry per message, readable by a plain client: tag, id, headers and the body as a binary field', async () => {
    const stream = freshStream()
    const client = await connect(`${redisUrl()}/${stream}`, { redis: fastRedis })
    open.push(client)
    await client.send(Order, { n: 3 }, { headers: { 'trace-id': 't1' }, key: 'k1' })
    const entries = await redis().xrange(stream, '-', '+')
    expect(entries).toHaveLength(1)
    const fields = entries[0]?.[1] ?? []
    expect(field(fields, 'tag')).toBe('redis.Order')
    expect(field(fields, 'h:trace-id')).toBe('t1')
    expect(field(fields, 'key')).toBe('k1')
    expect(field(fields, 'id')).toMatch(/.+/)
    const [, raw] = ((await redis().xrangeBuffer(stream, '-', '+'))[0] ?? []) as [Buffer, Buffer[]]
    const body = raw[raw.findIndex((b) => b.toString() === 'body') + 1] as Buffer
    expect(body.equals(Buffer.from(encode({ n: 3 })))).toBe(true)
  })

  it('dispatches an entry a plain client added with a tag and a msgpack body', async () => {
    const stream = freshStream()
    const got: number[] = []
    const registry = new Registry()
    registry.on(Order, ({ n }, ctx) => {
      got.push(n)
      expect(ctx.id).toMatch(new RegExp(`^${stream}@\\d+-\\d+$`))
    })
    const server = await listen(`${redisUrl()}/${stream}?group=${freshGroup()}`, { registry, redis: fastRedis })
    open.push(server)
    await redis().xadd(stream, '*', 'tag', 'redis.Order', 'body', Buffer.from(encode({ n: 41 })))
    await waitFor(() => got.length === 1, 5000, 'the plain entry to be handled')
    expect(got).toEqual([41])
  })

  it('a group reads from its creation on, or from the first entry with fromStart', async () => {
    const stream = freshStream()
    await redis().xadd(stream, '*', 'tag', 'redis.Order', 'body', Buffer.from(encode({ n: 1 })))
    const late: number[] = []
    const early: number[] = []
    const lateRegistry = new Registry()
    lateRegistry.on(Order, ({ n }) => void late.push(n))
    const earlyRegistry = new Registry()
    earlyRegistry.on(Order, ({ n }) => void early.push(n))
    open.push(await listen(`${redisUrl()}/${stream}?group=${freshGroup()}`, { registry: lateRegistry, redis: fastRedis }))
    open.push(await listen(`${redisUrl()}/${stream}?group=${freshGroup()}&fromStart=true`, { registry: earlyRegistry, redis: fastRedis }))
    const client = await connect(`${redisUrl()}/${stream}`, { redis: fastRedis })
    open.push(client)
    await client.send(Order, { n: 2 })
    await waitFor(() => late.length === 1 && early.length === 2, 5000, 'both groups to read')
    expect(late).toEqual([2])
    expect(early).toEqual([1, 2])
  })

  it('competing consumers of one group share the entries: each handled once', async () => {
    const stream = freshStream()
    const url = `${redisUrl()}/${stream}?group=${freshGroup()}`
    const seen = [new Set<number>(), new Set<number>()]
    const servers = []
    for (const s of seen) {
      const registry = new Registry()
      registry.on(Order, async ({ n }) => {
        s.add(n)
        // Long enough that one consumer cannot take every entry before the other reads.
        await new Promise((r) => setTimeout(r, 2))
      })
      servers.push(await listen(url, { registry, concurrency: 8, redis: fastRedis }))
    }
    open.push(...servers)
    const client = await connect(`${redisUrl()}/${stream}`, { redis: fastRedis })
    open.push(client)
    const n = 400
    await Promise.all(Array.from({ length: n }, (_, i) => client.send(Order, { n: i })))
    await waitFor(() => (seen[0]?.size ?? 0) + (seen[1]?.size ?? 0) >= n, 10_000, 'every entry')
    expect((seen[0]?.size ?? 0) + (seen[1]?.size ?? 0)).toBe(n)
    expect(seen[0]?.size).toBeGreaterThan(0)
    expect(seen[1]?.size).toBeGreaterThan(0)
  })

  it('with concurrency 2, a listener whose handlers are busy reads no more entries: they wait in the stream', async () => {
    const stream = freshStream()
    const group = freshGroup()
    const release: (() => void)[] = []
    let started = 0
    const registry = new Registry()
    registry.on(Order, async () => {
      started++
      await new Promise<void>((r) => release.push(r))
    })
    const server = await listen(`${redisUrl()}/${stream}?group=${group}`, { registry, concurrency: 2, redis: fastRedis })
    open.push(server)
    const client = await connect(`${redisUrl()}/${stream}`, { redis: fastRedis })
    open.push(client)
    await Promise.all(Array.from({ length: 50 }, (_, i) => client.send(Order, { n: i })))
    await waitFor(() => started === 2, 5000, 'two handlers to start')
    // The read that would follow is not made: the group has handed out exactly two entries.
    const pending = async (): Promise<number> => ((await redis().xpending(stream, group)) as [number])[0]
    expect(await pending()).toBe(2)
    expect(started).toBe(2)
    // Released two at a time, the rest are read as room is made.
    for (let round = 0; round < 50 && started < 50; round++) {
      for (const r of release.splice(0)) r()
      await waitFor(() => release.length > 0, 5000, 'the next handlers to start')
    }
    for (const r of release.splice(0)) r()
    expect(started).toBe(50)
    expect(await settled(pending, (p) => p === 0)).toBe(0)
    // Closed with nothing pending, it leaves the group: listeners coming and going do not pile up in it.
    expect(await redis().xinfo('CONSUMERS', stream, group)).toHaveLength(1)
    await server.close()
    expect(await redis().xinfo('CONSUMERS', stream, group)).toEqual([])
  })

  it('a handler slower than claimIdleMs keeps its entry: a competing consumer does not claim it meanwhile', async () => {
    const stream = freshStream()
    const url = `${redisUrl()}/${stream}?group=${freshGroup()}`
    const options = { redis: { ...fastRedis, claimIdleMs: 600 } }
    const started: string[] = []
    let finished = 0
    const registries = ['first', 'second'].map((name) => {
      const registry = new Registry()
      registry.on(Order, async () => {
        started.push(name)
        // Well past claimIdleMs: without touching, the other consumer's claim would take it after 600 ms.
        await new Promise((r) => setTimeout(r, 1800))
        finished++
      })
      return registry
    })
    // Concurrency 1: the busy consumer makes no claims of its own (which would reset the entry's idle time as touching does).
    for (const registry of registries) open.push(await listen(url, { ...options, registry, concurrency: 1 }))
    const client = await connect(`${redisUrl()}/${stream}`, { redis: fastRedis })
    open.push(client)
    await client.send(Order, { n: 1 })
    await waitFor(() => finished === 1, 5000, 'the slow handler to finish')
    expect(started).toHaveLength(1)
  })

  it('a stream deleted under a listener is made again with its group: the listener reports it and reads what comes next', async () => {
    const stream = freshStream()
    const errors = collectErrors()
    const got: number[] = []
    const registry = new Registry()
    registry.on(Order, ({ n }) => void got.push(n))
    open.push(await listen(`${redisUrl()}/${stream}?group=${freshGroup()}`, { registry, onError: errors.onError, redis: fastRedis }))
    const client = await connect(`${redisUrl()}/${stream}`, { redis: fastRedis })
    open.push(client)
    await client.send(Order, { n: 1 })
    await waitFor(() => got.length === 1, 5000, 'the first message')
    await redis().del(stream)
    await waitFor(() => errors.errors.length > 0, 5000, 'the listener to report the lost group')
    expect(errors.errors[0]?.code).toBe('ERR_TRANSPORT')
    expect(errors.errors[0]?.message).toContain(stream)
    // Sent until one arrives: a send may land before the group is made again (then, as for any group, it is not read).
    for (let n = 2; got.length === 1 && n < 100; n++) {
      await client.send(Order, { n })
      await waitFor(() => got.length > 1, 300, 'a message after the group was made again').catch(() => undefined)
    }
    expect(got.length).toBeGreaterThan(1)
  })

  it('maxLen trims the stream as it appends: exactly with exactTrim, about so by default', async () => {
    const stream = freshStream()
    const client = await connect(`${redisUrl()}/${stream}?maxLen=100&exactTrim=true`, { redis: fastRedis })
    open.push(client)
    await Promise.all(Array.from({ length: 300 }, (_, i) => client.send(Order, { n: i })))
    expect(await redis().xlen(stream)).toBe(100)
    const last = await redis().xrevrange(stream, '+', '-', 'COUNT', 1)
    expect(field(last[0]?.[1] ?? [], 'tag')).toBe('redis.Order')
    const approximate = freshStream()
    const loose = await connect(`${redisUrl()}/${approximate}?maxLen=100`, { redis: fastRedis })
    open.push(loose)
    await Promise.all(Array.from({ length: 1000 }, (_, i) => loose.send(Order, { n: i })))
    const len = await redis().xlen(approximate)
    expect(len).toBeGreaterThanOrEqual(100)
    expect(len).toBeLessThan(1000)
  })

  it("reject (a tag nobody registered) sends the untouched entry to <stream>.dlq with the reason, and acknowledges it", async () => {
    const stream = freshStream()
    const group = freshGroup()
    const errors = collectErrors()
    const registry = new Registry({ onError: errors.onError })
    registry.on(Order, () => undefined)
    const server = await listen(`${redisUrl()}/${stream}?group=${group}`, { registry, redis: fastRedis })
    open.push(server)
    const client = await connect(`${redisUrl()}/${stream}`, { redis: fastRedis })
    open.push(client)
    await client.send(Stray, { why: 'nobody knows me' }, { headers: { origin: 'test' } })
    const dead = await settled(() => redis().xrange(`${stream}.dlq`, '-', '+'), (d) => d.length > 0)
    expect(dead).toHaveLength(1)
    const fields = dead[0]?.[1] ?? []
    expect(field(fields, 'tag')).toBe('redis.Stray')
    expect(field(fields, 'h:origin')).toBe('test')
    expect(field(fields, 'h:x-seam-reason')).toMatch(/^ERR_UNREGISTERED_TAG: /)
    expect(errors.errors.map((e) => e.code)).toEqual(['ERR_UNREGISTERED_TAG'])
    expect(await settled(async () => ((await redis().xpending(stream, group)) as [number])[0], (p) => p === 0)).toBe(0)
  })

  it('a requester gets its replies on a reply stream of its own, deleted when it closes', async () => {
    const stream = freshStream()
    const registry = new Registry()
    registry.on(Order, async ({ n }, ctx) => void (await ctx.reply(Total, { n: n * 2 })))
    open.push(await listen(`${redisUrl()}/${stream}?group=${freshGroup()}`, { registry, redis: fastRedis }))
    const client = await connect(`${redisUrl()}/${stream}`, { redis: fastRedis })
    expect(await client.request(Order, { n: 21 }, { expect: Total, timeoutMs: 5000 })).toEqual({ n: 42 })
    const replyStreams = await redis().keys(`${stream}.replies.*`)
    expect(replyStreams).toHaveLength(1)
    const replyStream = replyStreams[0] as string
    // A reply read is deleted from it, and the stream expires on its own if the requester dies.
    expect(await settled(() => redis().xlen(replyStream), (l) => l === 0)).toBe(0)
    expect(await redis().pttl(replyStream)).toBeGreaterThan(0)
    await client.close()
    expect(await redis().exists(replyStream)).toBe(0)
  })

  it('close leaves no timer behind, so a process that closed its channels exits at once', async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
    const before = timers()
    const client = await connect(`${redisUrl()}/${freshStream()}`, { redis: fastRedis })
    await client.close()
    // ioredis keeps a timer of its own until the socket it ended has closed: a moment, far less than a close timeout.
    await waitFor(() => timers() <= before, 1000, 'the timers of the closed channel to end')
  })

  it('fails to connect with ERR_TRANSPORT naming the server when nothing answers within connectTimeoutMs', async () => {
    const started = Date.now()
    const err = await rejection(connect('redis://127.0.0.1:1/s', { connectTimeoutMs: 300 }))
    expect(err.code).toBe('ERR_TRANSPORT')
    expect(err.message).toContain('127.0.0.1:1')
    expect(Date.now() - started).toBeLessThan(3000)
    const noGroup = await rejection(listen(`${redisUrl()}/s`, {}))
    expect(noGroup.code).toBe('ERR_BAD_URL')
    expect(noGroup.message).toContain('?group=')
  })

  it('without ioredis installed, a redis: URL fails with ERR_TRANSPORT saying npm install ioredis', async () => {
    await expectClientMissing('ioredis', [
      { open: 'connect', url: `${redisUrl()}/s` },
      { open: 'listen', url: `${redisUrl()}/s?group=g` },
    ])
  })
})
