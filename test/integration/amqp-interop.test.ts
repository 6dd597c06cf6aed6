/**
 * AMQP interop: the envelope ↔ AMQP message mapping of DESIGN.md, read and
 * written by plain amqplib on the other side; routing through an exchange;
 * amqps through a TLS-terminating proxy; single active consumer. Against the
 * real RabbitMQ; nothing is mocked.
 */
import { decode, encode } from '@msgpack/msgpack'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { connect as netConnect, type Socket } from 'node:net'
import { createServer as createTlsServer, type TLSSocket } from 'node:tls'
import type amqplib from 'amqplib'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { Registry, connect, defineMessage, listen, type Channel, type ConnectOptions, type HandlerContext, type ListenOptions, type Server } from '../../src/index.js'
import { closedAfterEach, collectErrors, rejection, waitFor } from '../helpers.js'
import { AMQP_URL, drain, freshExchange, freshQueue, rawAmqp, useRabbit } from '../helpers/amqp.js'
import { testPkiForFile, type Issued } from '../helpers/certs.js'

// CI runs this file again against the oldest amqplib in the peer range, through SEAM_TEST_AMQPLIB (see vitest.config.ts).
const amqplibMain = createRequire(import.meta.url).resolve(process.env.SEAM_TEST_AMQPLIB ?? 'amqplib')
// Newer amqplib's exports map hides package.json from require: read it beside the entry point.
const amqplibVersion = (JSON.parse(readFileSync(join(dirname(amqplibMain), 'package.json'), 'utf8')) as { version: string }).version
const amqplibSetsSni = Number(amqplibVersion.split('.')[0]) < 1

useRabbit()
// Registered after useRabbit's cleanup, so it runs first: channels close before their queues are deleted.
const open = closedAfterEach()
const pki = testPkiForFile()

/** Cents travel as a decimal string: the encoded value differs from the decoded one. */
const Cents = new t.Type<number, string, unknown>(
  'Cents',
  (u): u is number => typeof u === 'number' && Number.isSafeInteger(u),
  (u, c) => (typeof u === 'string' && /^\d+$/.test(u) ? t.success(Number(u)) : t.failure(u, c, 'expected a decimal string')),
  (n) => String(n),
)
const Order = defineMessage('interop.Order', t.type({ id: t.string, price: Cents }))
const Ping = defineMessage('interop.Ping', t.type({ seq: t.number }))
const Pong = defineMessage('interop.Pong', t.type({ seq: t.number }))

const url = (query: string): string => `${AMQP_URL}/?${query}`

async function server(u: string, options: ListenOptions): Promise<Server> {
  const s = await listen(u, { connectTimeoutMs: 5000, ...options })
  open.push(s)
  return s
}

async function client(u: string, options: ConnectOptions = {}): Promise<Channel> {
  const c = await connect(u, { registry: new Registry({ onError: () => undefined }), connectTimeoutMs: 5000, ...options })
  open.push(c)
  return c
}

/** A plain amqplib connection, closed after the test. */
async function raw(): Promise<amqplib.ChannelModel> {
  const conn = await rawAmqp()
  open.push({ close: () => conn.close().catch(() => undefined) })
  return conn
}

/** What a handler saw. */
interface Seen {
  readonly value: unknown
  readonly ctx: HandlerContext
}

describe('amqp interop: what connect() publishes, as a plain client reads it', () => {
  /** A queue read by plain amqplib and one consumed by listen(), both bound to a fresh exchange with `#`. */
  async function fanOut(persistent?: boolean): Promise<{ rawQueue: string; seen: Seen[]; sender: Channel }> {
    const exchange = freshExchange('interop-out')
    const rawQueue = freshQueue('interop-raw')
    const seamQueue = freshQueue('interop-seam')
    const ch = await (await raw()).createChannel()
    await ch.assertExchange(exchange, 'topic', { durable: true })
    await ch.assertQueue(rawQueue, { durable: true })
    await ch.bindQueue(rawQueue, exchange, '#')
    const seen: Seen[] = []
    const registry = new Registry({ onError: () => undefined })
    registry.on(Order, (value, ctx) => void seen.push({ value, ctx }))
    await server(url(`queue=${seamQueue}&exchange=${exchange}&bind=%23`), { registry })
    const sender = await client(url(`exchange=${exchange}`), persistent === undefined ? {} : { amqp: { persistent } })
    return { rawQueue, seen, sender }
  }

  it('type = tag, messageId = envelope id, msgpack content type and body, timestamp in seconds, headers, key as x-seam-key, persistent', async () => {
    const { rawQueue, seen, sender } = await fanOut()
    const before = Date.now()
    await sender.send(Order, { id: 'o-1', price: 1250 }, { to: 'order.created', headers: { tenant: 'acme', trace: 't-9' }, key: 'customer-7' })
    const after = Date.now()

    const [msg] = await drain(rawQueue, 1)
    expect(msg, 'the plain client to read the message').toBeDefined()
    const p = (msg as amqplib.GetMessage).properties
    expect(p.type).toBe(Order.tag)
    expect(p.contentType).toBe('application/msgpack')
    expect(p.deliveryMode).toBe(2)
    expect(typeof p.messageId).toBe('string')
    expect(p.messageId).not.toBe('')
    // AMQP's timestamp is whole seconds since the epoch.
    expect(p.timestamp).toBeGreaterThanOrEqual(Math.floor(before / 1000))
    expect(p.timestamp).toBeLessThanOrEqual(Math.floor(after / 1000))
    expect(p.headers).toEqual({ tenant: 'acme', trace: 't-9', 'x-seam-key': 'customer-7' })
    expect((msg as amqplib.GetMessage).fields.routingKey).toBe('order.created')
    // The body is the codec's encoded value (price as a string), in MessagePack.
    expect(decode((msg as amqplib.GetMessage).content)).toEqual({ id: 'o-1', price: '1250' })

    // The same message, received by listen(): its envelope id is the messageId, its key is not a header.
    await waitFor(() => seen.length === 1, 5000, 'the seam listener to handle the same message')
    const { value, ctx } = seen[0] as Seen
    expect(value).toEqual({ id: 'o-1', price: 1250 })
    expect(ctx.id).toBe(p.messageId)
    expect(ctx.envelope.key).toBe('customer-7')
    expect(ctx.headers).toEqual({ tenant: 'acme', trace: 't-9' })
  })

  it('every message gets its own messageId', async () => {
    const { rawQueue, sender } = await fanOut()
    for (let i = 0; i < 3; i++) await sender.send(Order, { id: `o-${i}`, price: i })
    const got = await drain(rawQueue, 3)
    expect(got).toHaveLength(3)
    expect(new Set(got.map((m) => m.properties.messageId)).size).toBe(3)
    expect(got.map((m) => decode(m.content))).toEqual([0, 1, 2].map((i) => ({ id: `o-${i}`, price: String(i) })))
  })

  it('amqp: { persistent: false } publishes with deliveryMode 1', async () => {
    const { rawQueue, sender } = await fanOut(false)
    await sender.send(Order, { id: 'o-2', price: 5 })
    const [msg] = await drain(rawQueue, 1)
    expect(msg?.properties.deliveryMode).toBe(1)
    expect(msg?.properties.type).toBe(Order.tag)
  })
})

describe('amqp interop: what a plain client publishes, as listen() handles it', () => {
  it('dispatches by the type property: JSON with its content type, MessagePack without one; headers become strings', async () => {
    const queue = freshQueue('interop-in')
    const seen: Seen[] = []
    const errors = collectErrors()
    const registry = new Registry({ onError: errors.onError })
    registry.on(Order, (value, ctx) => void seen.push({ value, ctx }))
    await server(url(`queue=${queue}`), { registry, onError: errors.onError })

    const ch = await (await raw()).createConfirmChannel()
    const publish = (content: Buffer, properties: amqplib.Options.Publish): Promise<void> =>
      new Promise((resolve, reject) => ch.sendToQueue(queue, content, properties, (err) => (err ? reject(err) : resolve())))
    const sentAt = Math.floor(Date.now() / 1000)
    await publish(Buffer.from(JSON.stringify({ id: 'j-1', price: '1250' })), {
      type: Order.tag,
      contentType: 'application/json',
      messageId: 'plain-json-1',
      timestamp: sentAt,
      headers: { tenant: 'acme', attempt: 3, ratio: 1.5, urgent: true },
    })
    await publish(Buffer.from(encode({ id: 'm-1', price: '99' })), { type: Order.tag, headers: { tenant: 'globex' } })

    await waitFor(() => seen.length === 2, 5000, 'both plain messages to be handled')
    expect(errors.errors).toEqual([])
    const [json, packed] = seen as [Seen, Seen]
    expect(json.value).toEqual({ id: 'j-1', price: 1250 })
    expect(json.ctx.tag).toBe(Order.tag)
    expect(json.ctx.id).toBe('plain-json-1')
    expect(json.ctx.envelope.ct).toBe('application/json')
    expect(json.ctx.envelope.ts).toBe(sentAt * 1000)
    expect(json.ctx.headers).toEqual({ tenant: 'acme', attempt: '3', ratio: '1.5', urgent: 'true' })

    expect(packed.value).toEqual({ id: 'm-1', price: 99 })
    expect(packed.ctx.envelope.ct).toBe('application/msgpack')
    expect(packed.ctx.headers).toEqual({ tenant: 'globex' })
    // A plain client may leave messageId out; the envelope still gets one.
    expect(packed.ctx.id).not.toBe('')
  })
})

describe('amqp interop: routing through an exchange', () => {
  it('a send to a bound routing key is handled; one to an unbound key rejects with ERR_TRANSPORT naming it', async () => {
    const exchange = freshExchange('interop-route')
    const queue = freshQueue('interop-route')
    const seen: { id: string }[] = []
    const registry = new Registry({ onError: () => undefined })
    registry.on(Order, (order) => void seen.push({ id: order.id }))
    await server(url(`queue=${queue}&exchange=${exchange}&bind=order.*`), { registry })
    const sender = await client(url(`exchange=${exchange}`))

    await sender.send(Order, { id: 'routed-1', price: 1 }, { to: 'order.created' })
    await waitFor(() => seen.length === 1, 5000, 'the message sent to order.created to be handled')

    const err = await rejection(sender.send(Order, { id: 'lost-1', price: 2 }, { to: 'invoice.paid' }))
    expect(err.code).toBe('ERR_TRANSPORT')
    expect(err.retriable).toBe(false)
    expect(err.message).toContain('"invoice.paid"')
    expect(err.message).toContain(`"${exchange}"`)

    // The channel goes on, and the unroutable message never arrived anywhere.
    await sender.send(Order, { id: 'routed-2', price: 3 }, { to: 'order.paid' })
    await waitFor(() => seen.length === 2, 5000, 'the message sent to order.paid to be handled')
    expect(seen.map((s) => s.id)).toEqual(['routed-1', 'routed-2'])
  })
})

/** A TLS-terminating proxy in front of RabbitMQ's plain port, presenting `cert`. */
async function tlsProxy(cert: Issued): Promise<number> {
  const sockets = new Set<Socket | TLSSocket>()
  const track = (s: Socket | TLSSocket): void => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  }
  const broker = new URL(AMQP_URL)
  const proxy = createTlsServer({ key: cert.key, cert: cert.cert }, (client) => {
    const upstream = netConnect({ host: broker.hostname, port: Number(broker.port || 5672) })
    track(client)
    track(upstream)
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
    client.pipe(upstream).pipe(client)
  })
  // A client that refuses the certificate ends the handshake: nothing to report.
  proxy.on('tlsClientError', () => undefined)
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  open.push({
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        proxy.close(() => resolve())
      }),
  })
  return (proxy.address() as { port: number }).port
}

describe('amqp interop: amqps', () => {
  const amqpsUrl = (port: number, query: string): string => {
    const u = new URL(AMQP_URL)
    return `amqps://${u.username}:${u.password}@127.0.0.1:${port}/?${query}`
  }

  it('a request and its reply over amqps:// with tls.ca, and no warning about the IP address as SNI name', async () => {
    const warnings: Error[] = []
    const onWarning = (w: Error): void => void warnings.push(w)
    process.on('warning', onWarning)
    try {
      const port = await tlsProxy(pki.server)
      const u = amqpsUrl(port, `queue=${freshQueue('interop-tls')}`)
      const registry = new Registry({ onError: () => undefined })
      registry.register(Pong)
      registry.on(Ping, async (ping, ctx) => ctx.reply(Pong, { seq: ping.seq * 10 }))
      await server(u, { registry, tls: { ca: pki.ca.cert } })
      const c = await client(u, { tls: { ca: pki.ca.cert } })
      await expect(c.request(Ping, { seq: 4 }, { expect: Pong, timeoutMs: 5000 })).resolves.toEqual({ seq: 40 })
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve))
      // amqplib before 1.0 sets the SNI name to the URL's host itself, over ours: nothing to test there.
      if (!amqplibSetsSni) expect(warnings.map((w) => w.message)).toEqual([])
    } finally {
      process.off('warning', onWarning)
    }
  })

  it('a server certificate from a CA the client does not trust fails fast with ERR_TRANSPORT naming the certificate', async () => {
    const port = await tlsProxy(pki.server)
    for (const tls of [{ ca: pki.otherCa.cert }, {}]) {
      const started = performance.now()
      const err = await rejection(connect(amqpsUrl(port, `queue=${freshQueue('interop-tls')}`), { tls, connectTimeoutMs: 5000 }))
      expect(err.code).toBe('ERR_TRANSPORT')
      expect(err.retriable).toBe(false)
      expect(err.message).toMatch(/certificate/)
      expect(err.message).toContain('tls.ca')
      // Refused at once, not retried until connectTimeoutMs.
      expect(performance.now() - started).toBeLessThan(2000)
    }
  })

  it('a trusted certificate for another host name fails with ERR_TRANSPORT naming the certificate', async () => {
    const port = await tlsProxy(pki.wrongHostServer)
    const err = await rejection(connect(amqpsUrl(port, `queue=${freshQueue('interop-tls')}`), { tls: { ca: pki.ca.cert }, connectTimeoutMs: 5000 }))
    expect(err.code).toBe('ERR_TRANSPORT')
    expect(err.retriable).toBe(false)
    expect(err.message).toMatch(/certificate/)
  })
})

describe('amqp interop: single active consumer', () => {
  it('one listener gets every message in order; when it closes, the other takes over with the rest', async () => {
    const queue = freshQueue('interop-sac')
    const u = url(`queue=${queue}`)
    const amqp = { singleActiveConsumer: true }
    const first: number[] = []
    const second: number[] = []
    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => (release = resolve))
    const firstRegistry = new Registry({ onError: () => undefined })
    firstRegistry.on(Ping, async (ping) => {
      first.push(ping.seq)
      // Holds message 5 unacknowledged, so 6..10 wait in the queue.
      if (ping.seq === 5) await held
    })
    const secondRegistry = new Registry({ onError: () => undefined })
    secondRegistry.on(Ping, (ping) => void second.push(ping.seq))
    // One at a time: the broker sends each listener one unacknowledged message.
    const a = await server(u, { registry: firstRegistry, amqp, concurrency: 1 })
    await server(u, { registry: secondRegistry, amqp, concurrency: 1 })
    const sender = await client(u, { amqp })

    try {
      for (let seq = 1; seq <= 10; seq++) await sender.send(Ping, { seq })
      await waitFor(() => first.length === 5, 5000, 'the active listener to take messages 1..5')
      const check = await (await raw()).createChannel()
      check.on('error', () => undefined)
      expect((await check.checkQueue(queue)).messageCount).toBe(5)
      expect(first).toEqual([1, 2, 3, 4, 5])
      expect(second).toEqual([])
    } finally {
      // Closing waits for the handler holding message 5; it finishes once released.
      const closing = a.close()
      release()
      await closing
    }
    await waitFor(() => second.length === 5, 5000, 'the other listener to take over with 6..10')
    expect(second).toEqual([6, 7, 8, 9, 10])
    expect(first).toEqual([1, 2, 3, 4, 5])

    for (let seq = 11; seq <= 13; seq++) await sender.send(Ping, { seq })
    await waitFor(() => second.length === 8, 5000, 'the new active listener to get what follows')
    expect(second).toEqual([6, 7, 8, 9, 10, 11, 12, 13])
  })
})
