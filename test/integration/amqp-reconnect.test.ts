/**
 * The AMQP transport when the network or the broker misbehaves, against the
 * real RabbitMQ: confirmed publishes, negative confirms, confirms that never
 * come, connections dropped under load, a full outbox, a queue deleted while
 * the link was away, and acknowledgements of deliveries whose channel died.
 * The network is broken with a loopback proxy in front of the broker; nothing
 * is mocked.
 */
import * as t from 'io-ts'
import { afterEach, describe, expect, it } from 'vitest'
import { connect, defineMessage, listen, Registry, type Channel, type SeamError, type Server } from '../../src/index.js'
import { collectErrors, rejection, waitFor, within } from '../helpers.js'
import { AMQP_URL, cleanupAmqp, freshExchange, freshQueue, rawAmqp, useRabbit } from '../helpers/amqp.js'
import { startProxy, type TcpProxy } from '../helpers/tcp-proxy.js'

const Seq = defineMessage('amqp.resilience.Seq', t.type({ seq: t.number }))

/** Quick reconnects, and a bound on an attempt the black-holed proxy swallows. */
const reconnect = { initialDelayMs: 20, maxDelayMs: 200 }
const CONNECT_TIMEOUT_MS = 1500

useRabbit()

const channels: { close(): Promise<void> }[] = []
const proxies: TcpProxy[] = []
afterEach(async () => {
  // Heal first, so no close waits on a black hole; channels before proxies, queues last (a live consumer would declare its queue again).
  for (const p of proxies) p.heal()
  await Promise.all(channels.splice(0).map((c) => c.close()))
  await Promise.all(proxies.splice(0).map((p) => p.close()))
  await cleanupAmqp()
})

async function proxy(): Promise<TcpProxy> {
  const p = await startProxy(5672)
  proxies.push(p)
  return p
}

/** The broker through `p`, consuming or publishing to `queue`. */
function via(p: TcpProxy, queue?: string): string {
  return `amqp://guest:guest@127.0.0.1:${p.port}/${queue === undefined ? '' : `?queue=${queue}`}`
}

function keep<T extends { close(): Promise<void> }>(c: T): T {
  channels.push(c)
  return c
}

/** Every status the channel reports, in order. */
function statuses(ch: Channel): ('up' | 'down')[] {
  const seen: ('up' | 'down')[] = []
  ch.events.on('status', (state) => void seen.push(state))
  return seen
}

/** A listener's one channel: an AMQP listener has a single link, its consumer. */
function peerOf(server: Server): Channel {
  const [peer] = server.peers
  if (peer === undefined) throw new Error('the AMQP listener has no channel')
  return peer
}

/** The queue as the broker sees it (ready messages, consumers), or undefined when it does not exist. */
async function queueState(queue: string): Promise<{ messageCount: number; consumerCount: number } | undefined> {
  const conn = await rawAmqp()
  try {
    const ch = await conn.createChannel()
    ch.on('error', () => undefined)
    return await ch.checkQueue(queue).catch(() => undefined)
  } finally {
    await conn.close().catch(() => undefined)
  }
}

/** Errors other than the ERR_TRANSPORT reports of a lost connection or a failed reconnect. */
function unexpected(errors: SeamError[]): string[] {
  return errors.filter((e) => e.code !== 'ERR_TRANSPORT').map((e) => `${e.code}: ${e.message}`)
}

/** Tracks when a promise settles, without awaiting it. */
function track(p: Promise<void>): { promise: Promise<void>; settled: () => boolean } {
  let done = false
  const promise = p.finally(() => void (done = true))
  // Rejections are the test's to read through `promise`; this only keeps them from escaping unread.
  promise.catch(() => undefined)
  return { promise, settled: () => done }
}

describe('amqp: confirmed publishes', () => {
  it('send resolves only once the broker holds the message', async () => {
    const q = freshQueue('confirm')
    const client = keep(await connect(`${AMQP_URL}/?queue=${q}`))
    await Promise.all(Array.from({ length: 50 }, (_, seq) => client.send(Seq, { seq })))
    // No waiting: every resolved send is already in the queue.
    expect((await queueState(q))?.messageCount).toBe(50)
  })

  it("a broker's negative confirm rejects the send with ERR_TRANSPORT, and the channel goes on", async () => {
    const q = freshQueue('nack')
    const conn = await rawAmqp()
    try {
      const ch = await conn.createChannel()
      await ch.assertQueue(q, { durable: false, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } })
      const client = keep(await connect(`${AMQP_URL}/`, { amqp: { routingKey: q } }))
      await client.send(Seq, { seq: 1 })
      const err = await rejection(client.send(Seq, { seq: 2 }))
      expect(err.code).toBe('ERR_TRANSPORT')
      expect(err.message).toMatch(/refused "amqp\.resilience\.Seq"/)
      expect((await queueState(q))?.messageCount).toBe(1)
      // A nack is about one message: once there is room again, the same channel publishes.
      await ch.purgeQueue(q)
      await client.send(Seq, { seq: 3 })
      expect((await queueState(q))?.messageCount).toBe(1)
    } finally {
      await conn.close()
    }
  })

  it('an unroutable mandatory publish rejects with ERR_TRANSPORT naming the routing key', async () => {
    const missing = freshQueue('nowhere')
    const client = keep(await connect(`${AMQP_URL}/`, { amqp: { routingKey: missing } }))
    const err = await rejection(client.send(Seq, { seq: 1 }))
    expect(err.code).toBe('ERR_TRANSPORT')
    expect(err.retriable).toBe(false)
    expect(err.message).toContain(`"${missing}"`)
    const other = freshQueue('nowhere')
    const toErr = await rejection(client.send(Seq, { seq: 2 }, { to: other }))
    expect(toErr.code).toBe('ERR_TRANSPORT')
    expect(toErr.message).toContain(`"${other}"`)
  })
})

describe('amqp: a confirm that never comes', () => {
  it('rejects with ERR_TIMEOUT after publishTimeoutMs, reopens the connection, and sends work again', async () => {
    const p = await proxy()
    const q = freshQueue('stall')
    const { errors, onError } = collectErrors()
    const client = keep(await connect(via(p, q), { onError, connectTimeoutMs: CONNECT_TIMEOUT_MS, amqp: { publishTimeoutMs: 300, heartbeatSeconds: 0, reconnect } }))
    const seen = statuses(client)
    await client.send(Seq, { seq: 1 })

    p.blackhole()
    const started = performance.now()
    const err = await rejection(within(client.send(Seq, { seq: 2 }), 3000, 'a send whose confirm never comes'))
    const took = performance.now() - started
    expect(err.code).toBe('ERR_TIMEOUT')
    expect(took).toBeGreaterThanOrEqual(290)
    expect(took).toBeLessThan(300 + 500)
    // The dead connection is dropped at once, not left to heartbeats (off here).
    await waitFor(() => seen.includes('down'), 1000, "status 'down' after the timeout")

    p.heal()
    await waitFor(() => seen.includes('up'), CONNECT_TIMEOUT_MS + 3000, "status 'up' after heal()")
    await within(client.send(Seq, { seq: 3 }), 3000, 'a send after the reconnect')
    expect(seen).toEqual(['down', 'up'])
    // seq 2 was swallowed by the black hole; seq 1 and seq 3 are there.
    expect((await queueState(q))?.messageCount).toBe(2)
    expect(unexpected(errors)).toEqual([])
  })
})

describe('amqp: reconnecting', () => {
  it('loses nothing when every connection drops while 2000 messages are sent and handled', async () => {
    const p = await proxy()
    const q = freshQueue('drop')
    const TOTAL = 2000
    const handled = new Map<number, Set<string>>()
    let runs = 0
    const registry = new Registry({ onError: () => undefined }).on(Seq, (v, ctx) => {
      runs++
      let ids = handled.get(v.seq)
      if (ids === undefined) handled.set(v.seq, (ids = new Set()))
      ids.add(ctx.id)
    })
    const serverErrors = collectErrors()
    const clientErrors = collectErrors()
    const options = { connectTimeoutMs: CONNECT_TIMEOUT_MS, amqp: { reconnect } }
    const server = keep(await listen(via(p, q), { ...options, registry, onError: serverErrors.onError }))
    const serverSeen = statuses(peerOf(server))
    const client = keep(await connect(via(p, q), { ...options, onError: clientErrors.onError }))
    const clientSeen = statuses(client)

    // Up to 200 sends unconfirmed at any time, so the drop always catches some.
    let sent = 0
    let confirmed = 0
    const sending = (async () => {
      const inFlight = new Set<Promise<void>>()
      for (let seq = 0; seq < TOTAL; seq++) {
        if (inFlight.size >= 200) await Promise.race(inFlight)
        const p = client.send(Seq, { seq }).then(() => void confirmed++)
        inFlight.add(p)
        void p.finally(() => inFlight.delete(p)).catch(() => undefined)
        sent++
      }
      await Promise.all(inFlight)
    })()
    await waitFor(() => handled.size >= 400, 10_000, '400 messages handled before the drop')
    const atDrop = { sent, confirmed, handled: handled.size }
    p.dropAll()
    await within(sending, 20_000, 'sending 2000 messages across the drop')
    await waitFor(() => handled.size === TOTAL, 20_000, `all ${TOTAL} messages handled`)

    // The drop came mid-stream: sends unconfirmed, messages not yet handled.
    expect(atDrop.confirmed).toBeLessThan(atDrop.sent)
    expect(atDrop.handled).toBeLessThan(TOTAL)
    await waitFor(() => clientSeen.at(-1) === 'up' && serverSeen.at(-1) === 'up', 5000, "both channels 'up' again")
    expect(clientSeen.slice(0, 2)).toEqual(['down', 'up'])
    expect(serverSeen.slice(0, 2)).toEqual(['down', 'up'])
    // A duplicate is the same message again (same envelope id), never a new one.
    for (const [seq, ids] of handled) expect(ids.size, `seq ${seq} arrived under several ids`).toBe(1)
    console.log(`amqp reconnect: ${TOTAL} messages, dropped at ${atDrop.sent} sent / ${atDrop.confirmed} confirmed / ${atDrop.handled} handled; ${runs - TOTAL} duplicates`)
    expect(unexpected(serverErrors.errors)).toEqual([])
    expect(unexpected(clientErrors.errors)).toEqual([])
  })

  it('holds sends made while the connection is down, then confirms and delivers them', async () => {
    const p = await proxy()
    const q = freshQueue('held')
    const got: number[] = []
    const registry = new Registry({ onError: () => undefined }).on(Seq, (v) => void got.push(v.seq))
    keep(await listen(`${AMQP_URL}/?queue=${q}`, { registry }))
    const { errors, onError } = collectErrors()
    const client = keep(await connect(via(p, q), { onError, connectTimeoutMs: CONNECT_TIMEOUT_MS, amqp: { reconnect } }))
    const seen = statuses(client)

    // New connections hang in the black hole: the link stays down until heal().
    p.blackhole()
    p.dropAll()
    await waitFor(() => seen.includes('down'), 2000, "status 'down'")
    const sends = Array.from({ length: 20 }, (_, seq) => track(client.send(Seq, { seq })))
    // A reconnect attempt failed meanwhile: time passed with the link down, and nothing settled.
    await waitFor(() => errors.length > 0, CONNECT_TIMEOUT_MS + 2000, 'a failed reconnect attempt')
    expect(sends.filter((s) => s.settled())).toEqual([])
    expect(got).toEqual([])

    p.heal()
    await within(Promise.all(sends.map((s) => s.promise)), CONNECT_TIMEOUT_MS + 5000, 'the held sends')
    await waitFor(() => got.length === 20, 5000, 'the held messages handled')
    expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i))
    expect(seen).toEqual(['down', 'up'])
    // What onError got: failed reconnect attempts, each retriable, none ending the channel.
    expect(errors.map((e) => [e.code, e.retriable])).toEqual(errors.map(() => ['ERR_TRANSPORT', true]))
  })

  it('rejects the send past maxOutboxMessages at once with ERR_OUTBOX_FULL; the others are confirmed once back', async () => {
    const p = await proxy()
    const q = freshQueue('outbox')
    const client = keep(await connect(via(p, q), { onError: () => undefined, connectTimeoutMs: CONNECT_TIMEOUT_MS, amqp: { maxOutboxMessages: 5, reconnect } }))
    const seen = statuses(client)
    p.blackhole()
    p.dropAll()
    await waitFor(() => seen.includes('down'), 2000, "status 'down'")

    const held = Array.from({ length: 5 }, (_, seq) => track(client.send(Seq, { seq })))
    const started = performance.now()
    const err = await rejection(client.send(Seq, { seq: 5 }))
    expect(performance.now() - started).toBeLessThan(50)
    expect(err.code).toBe('ERR_OUTBOX_FULL')
    expect(held.filter((s) => s.settled())).toEqual([])

    p.heal()
    await within(Promise.all(held.map((s) => s.promise)), CONNECT_TIMEOUT_MS + 5000, 'the 5 held sends')
    expect((await queueState(q))?.messageCount).toBe(5)
    // The outbox emptied: the channel takes sends again.
    await client.send(Seq, { seq: 6 })
    expect((await queueState(q))?.messageCount).toBe(6)
  })

  it('declares the queue again after a reconnect when it was deleted meanwhile, and consumes from it', async () => {
    const p = await proxy()
    const q = freshQueue('topology')
    const got: number[] = []
    const registry = new Registry({ onError: () => undefined }).on(Seq, (v) => void got.push(v.seq))
    const { errors, onError } = collectErrors()
    const server = keep(await listen(via(p, q), { registry, onError, connectTimeoutMs: CONNECT_TIMEOUT_MS, amqp: { reconnect } }))
    const seen = statuses(peerOf(server))
    // The sender goes straight to the broker and declares nothing: only the listener can bring the queue back.
    const client = keep(await connect(`${AMQP_URL}/`, { amqp: { routingKey: q } }))
    await client.send(Seq, { seq: 1 })
    await waitFor(() => got.length === 1, 5000, 'the first message handled')

    p.blackhole()
    p.dropAll()
    await waitFor(() => seen.includes('down'), 2000, "status 'down'")
    const conn = await rawAmqp()
    try {
      const ch = await conn.createChannel()
      await ch.deleteQueue(q)
    } finally {
      await conn.close()
    }
    expect(await queueState(q)).toBeUndefined()

    p.heal()
    await waitFor(() => seen.includes('up'), CONNECT_TIMEOUT_MS + 3000, "status 'up'")
    expect(await queueState(q)).toMatchObject({ consumerCount: 1 })
    await client.send(Seq, { seq: 2 })
    await waitFor(() => got.length === 2, 5000, 'a message sent to the declared-again queue handled')
    expect(got).toEqual([1, 2])
    expect(unexpected(errors)).toEqual([])
  })

  it('a publish whose channel the broker closed (its exchange was deleted) is sent again once the link declared the exchange again', async () => {
    const x = freshExchange('gone')
    const q = freshQueue('gone')
    const { errors, onError } = collectErrors()
    const client = keep(await connect(`${AMQP_URL}/?exchange=${x}&queue=${q}&bind=%23`, { onError, amqp: { reconnect } }))
    const seen = statuses(client)
    const conn = await rawAmqp()
    try {
      await (await conn.createChannel()).deleteExchange(x)
    } finally {
      await conn.close()
    }
    // RabbitMQ answers this publish by closing the channel (404 NOT_FOUND): no nack, no confirm.
    await within(client.send(Seq, { seq: 1 }), 5000, 'the publish to the deleted exchange')
    expect((await queueState(q))?.messageCount).toBe(1)
    expect(seen).toEqual(['down', 'up'])
    expect(errors.map((e) => e.code)).toEqual(['ERR_TRANSPORT'])
    expect(errors[0]?.message).toMatch(/closed the publishing channel/)
  })

  it("a handler that finishes after its connection dropped: its ack goes nowhere, the broker redelivers, the new channel lives on", async () => {
    const p = await proxy()
    const q = freshQueue('stale')
    const runs: { seq: number; id: string }[] = []
    const releases: (() => void)[] = []
    const finished: number[] = []
    const registry = new Registry({ onError: () => undefined }).on(Seq, async (v, ctx) => {
      const run = runs.push({ seq: v.seq, id: ctx.id }) - 1
      if (v.seq === 1) await new Promise<void>((resolve) => (releases[run] = resolve))
      finished.push(run)
    })
    const { errors, onError } = collectErrors()
    const server = keep(await listen(via(p, q), { registry, onError, connectTimeoutMs: CONNECT_TIMEOUT_MS, amqp: { reconnect } }))
    const seen = statuses(peerOf(server))
    const client = keep(await connect(`${AMQP_URL}/?queue=${q}`))

    await client.send(Seq, { seq: 1 })
    await waitFor(() => runs.length === 1, 5000, 'the handler of seq 1 running')
    p.dropAll()
    await waitFor(() => seen.join() === 'down,up', 5000, "status 'down' then 'up'")
    // The broker gives the unacknowledged message to the new consumer: the same message, run again.
    await waitFor(() => runs.length === 2, 5000, 'seq 1 redelivered')
    expect(runs[1]).toEqual(runs[0])

    // The first run ends on a channel that is gone; its ack must not reach the new one (its tag 1 is the redelivery's).
    releases[0]?.()
    await waitFor(() => finished.includes(0), 2000, 'the first run finished')
    await client.send(Seq, { seq: 2 })
    await waitFor(() => runs.some((r) => r.seq === 2), 5000, 'seq 2 handled while the redelivery is still running')
    releases[1]?.()
    await waitFor(() => finished.includes(1), 2000, 'the redelivered run finished')
    await client.send(Seq, { seq: 3 })
    await waitFor(() => runs.some((r) => r.seq === 3), 5000, 'seq 3 handled after both acks')

    // No 406 "unknown delivery tag": the consuming channel was never closed, so no new drop.
    expect(seen).toEqual(['down', 'up'])
    expect(errors.map((e) => e.message)).toEqual([])
    expect(runs.map((r) => r.seq)).toEqual([1, 1, 2, 3])
    // Every message was acknowledged on the live channel: closing requeues nothing.
    await server.close()
    expect(await queueState(q)).toMatchObject({ messageCount: 0 })
  })
})

describe('amqp close', () => {
  it('a process that connects, sends and closes exits at once: close() leaves no timer or socket behind', async () => {
    const { execFile } = await import('node:child_process')
    const queue = freshQueue('exit')
    const script = `
import * as t from 'io-ts'
import { connect, defineMessage } from './src/index.ts'
const T = defineMessage('amqp.exit.T', t.type({ n: t.number }))
const c = await connect(${JSON.stringify(`${AMQP_URL}/?queue=${queue}`)})
await c.send(T, { n: 1 })
await c.close()
console.log('closed at', Date.now())
`
    const started = Date.now()
    const { stdout, exitedAt } = await new Promise<{ stdout: string; exitedAt: number }>((resolve, reject) => {
      const child = execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), timeout: 15_000 }, (err, out) => {
        if (err !== null) reject(err)
        else resolve({ stdout: out, exitedAt: Date.now() })
      })
      child.stdin?.end()
    })
    const closedAt = Number(/closed at (\d+)/.exec(stdout)?.[1])
    expect(closedAt).toBeGreaterThan(started)
    // The child exits once its event loop is empty; a leftover timer would hold it for closeTimeoutMs (5 s).
    expect(exitedAt - closedAt).toBeLessThan(1500)
  })

  it('close() during a connection drop ends promptly instead of waiting for closeTimeoutMs', async () => {
    const p = await proxy()
    const queue = freshQueue('dropclose')
    const client = await connect(via(p, queue), { closeTimeoutMs: 5000, amqp: { reconnect } })
    await client.send(Seq, { seq: 1 })
    const closing = client.close()
    p.dropAll()
    const t0 = Date.now()
    await within(closing, 5000, 'close()')
    expect(Date.now() - t0).toBeLessThan(2000)
  })
})
