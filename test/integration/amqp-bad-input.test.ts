/**
 * AMQP: what a user gets wrong (an address, credentials, a vhost, a queue
 * declared otherwise, a URL) and what other publishers put on the queue. Each
 * ends in a SeamError with a code that says what happened, and a consumer
 * goes on consuming. Against the real RabbitMQ; nothing is mocked.
 */
import { encode } from '@msgpack/msgpack'
import { randomBytes } from 'node:crypto'
import type amqplib from 'amqplib'
import * as t from 'io-ts'
import { beforeAll, describe, expect, it } from 'vitest'
import { Registry, connect, defineMessage, listen, type SeamErrorCode, type Server } from '../../src/index.js'
import { closedPort, silentServer } from '../helpers/silent-server.js'
import { expectClientMissing } from '../helpers/missing-module.js'
import { closedAfterEach, collectErrors, rejection, waitFor } from '../helpers.js'
import { loadAmqplib } from '../../src/transports/amqp/client.js'
import { AMQP_URL, freshQueue, rawAmqp, useRabbit } from '../helpers/amqp.js'

useRabbit()
// Registered after useRabbit's cleanup, so it runs first: channels close before their queues are deleted.
const open = closedAfterEach()

const Ping = defineMessage('amqp-bad.Ping', t.type({ seq: t.number }))

/** AMQP_URL with another password, vhost (URL path) and query. */
function brokerUrl(query: string, o: { password?: string; vhost?: string } = {}): string {
  const u = new URL(AMQP_URL)
  if (o.password !== undefined) u.password = o.password
  u.pathname = `/${o.vhost ?? ''}`
  u.search = query
  return u.href
}

/** A plain amqplib connection, closed after the test. */
async function raw(): Promise<amqplib.ChannelModel> {
  const conn = await rawAmqp()
  open.push({ close: () => conn.close().catch(() => undefined) })
  return conn
}

/** The queue as the broker counts it: ready messages (unacked ones are not counted) and consumers. */
async function queueState(conn: amqplib.ChannelModel, queue: string): Promise<{ messageCount: number; consumerCount: number }> {
  const ch = await conn.createChannel()
  ch.on('error', () => undefined)
  try {
    const { messageCount, consumerCount } = await ch.checkQueue(queue)
    return { messageCount, consumerCount }
  } finally {
    await ch.close().catch(() => undefined)
  }
}

/** Polls `read` every 20 ms until `ok`, for at most `ms`; the failure names `what` and the last value. */
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await read()
    if (ok(v)) return v
    if (Date.now() >= deadline) throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${JSON.stringify(v)})`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

// Slack over connectTimeoutMs for the last attempt's own failure and the timers' granularity.
const SLACK_MS = 400

describe('amqp: a broker that cannot be reached', () => {
  // connectTimeoutMs bounds the connection, not loading the transport's code: load it before timing.
  beforeAll(async () => {
    await import('../../src/transports/amqp/index.js')
    await loadAmqplib()
  })

  it('a closed loopback port fails with ERR_TRANSPORT within connectTimeoutMs', async () => {
    const port = await closedPort()
    const started = performance.now()
    const err = await rejection(connect(`amqp://guest:guest@127.0.0.1:${port}/?queue=x`, { connectTimeoutMs: 500 }))
    const elapsed = performance.now() - started
    expect(err.code).toBe('ERR_TRANSPORT')
    expect(err.message).toContain(`127.0.0.1:${port}`)
    expect(err.message).toMatch(/ECONNREFUSED|is it running/)
    // A broker that is down may come back: worth retrying later.
    expect(err.retriable).toBe(true)
    expect(elapsed).toBeLessThan(500 + SLACK_MS)
  })

  it('a port that accepts TCP but never answers fails within connectTimeoutMs, and no socket is left open', async () => {
    const silent = await silentServer()
    open.push(silent)
    const port = silent.port

    const started = performance.now()
    const err = await rejection(connect(`amqp://guest:guest@127.0.0.1:${port}/?queue=x`, { connectTimeoutMs: 500 }))
    const elapsed = performance.now() - started
    expect(err.code).toBe('ERR_TRANSPORT')
    expect(err.message).toContain(`127.0.0.1:${port}`)
    expect(err.message).toContain('connectTimeoutMs')
    expect(elapsed).toBeLessThan(500 + SLACK_MS)
    expect(silent.accepted).toBeGreaterThanOrEqual(1)
    // The client closed what it opened: the server sees every connection end.
    await waitFor(() => silent.open === 0, 2000, 'the client to close its socket to the silent server')
  })
})

describe('amqp: the broker refuses', () => {
  it('bad credentials fail fast with ERR_TRANSPORT "access refused", not retriable, the password not shown', async () => {
    const started = performance.now()
    const err = await rejection(connect(brokerUrl(`?queue=${freshQueue('creds')}`, { password: 'wrong-secret' }), { connectTimeoutMs: 5000 }))
    const elapsed = performance.now() - started
    expect(err.code).toBe('ERR_TRANSPORT')
    expect(err.retriable).toBe(false)
    expect(err.message).toContain('access refused')
    expect(err.message).not.toContain('wrong-secret')
    // Refused at once, not retried until connectTimeoutMs.
    expect(elapsed).toBeLessThan(1500)
  })

  it('a vhost that does not exist fails fast with ERR_TRANSPORT naming it, not retriable', async () => {
    const vhost = `nope-${randomBytes(4).toString('hex')}`
    const started = performance.now()
    const err = await rejection(connect(brokerUrl(`?queue=${freshQueue('vhost')}`, { vhost }), { connectTimeoutMs: 5000 }))
    const elapsed = performance.now() - started
    expect(err.code).toBe('ERR_TRANSPORT')
    expect(err.retriable).toBe(false)
    expect(err.message).toContain(`"${vhost}"`)
    expect(err.message).toMatch(/vhost/)
    expect(elapsed).toBeLessThan(1500)
  })

  it('a queue declared with other arguments fails with ERR_TRANSPORT naming the queue and x-queue-type; a matching listen still works', async () => {
    const queue = freshQueue('classic')
    const conn = await raw()
    const ch = await conn.createChannel()
    await ch.assertQueue(queue, { durable: true })

    const err = await rejection(listen(brokerUrl(`?queue=${queue}`), { amqp: { queueType: 'quorum' }, connectTimeoutMs: 5000 }))
    expect(err.code).toBe('ERR_TRANSPORT')
    expect(err.retriable).toBe(false)
    expect(err.message).toContain(`"${queue}"`)
    expect(err.message).toContain('x-queue-type')
    // The failed listen left no consumer behind, and the queue is as it was.
    expect(await queueState(conn, queue)).toEqual({ messageCount: 0, consumerCount: 0 })

    const got: number[] = []
    const registry = new Registry({ onError: () => undefined })
    registry.on(Ping, (ping) => void got.push(ping.seq))
    const server = await listen(brokerUrl(`?queue=${queue}`), { registry, connectTimeoutMs: 5000 })
    open.push(server)
    const client = await connect(brokerUrl(`?queue=${queue}`), { connectTimeoutMs: 5000 })
    open.push(client)
    await client.send(Ping, { seq: 1 })
    await waitFor(() => got.length === 1, 5000, 'the matching listener to handle a message')
    expect(got).toEqual([1])
  })
})

describe('amqp: bad URLs and options fail before any connection is made', () => {
  // A port nothing listens on: dialing would end in ERR_TRANSPORT, so ERR_BAD_* proves nothing was dialed.
  let port = 0
  beforeAll(async () => {
    port = await closedPort()
  })
  const url = (query: string): string => `amqp://guest:guest@127.0.0.1:${port}/${query}`

  async function refused(p: Promise<unknown>, code: SeamErrorCode): Promise<string> {
    const err = await rejection(p)
    expect(err.code).toBe(code)
    expect(err.retriable).toBe(false)
    return err.message
  }

  it('names an unknown query parameter', async () => {
    const message = await refused(connect(url('?queue=q&colour=blue')), 'ERR_BAD_URL')
    expect(message).toContain('"colour"')
    expect(message).toContain('known:')
  })

  it('names a prefetch that is not a number, in the URL and in the options', async () => {
    const inUrl = await refused(listen(url('?queue=q&prefetch=many')), 'ERR_BAD_URL')
    expect(inUrl).toContain('"prefetch"')
    expect(inUrl).toContain('"many"')
    const inOptions = await refused(listen(url('?queue=q'), { amqp: { prefetch: 'many' as unknown as number } }), 'ERR_BAD_ARGUMENT')
    expect(inOptions).toContain('amqp.prefetch')
  })

  it('refuses bindings without an exchange, saying they need one', async () => {
    const inUrl = await refused(listen(url('?queue=q&bind=order.*')), 'ERR_BAD_ARGUMENT')
    expect(inUrl).toMatch(/bindings need both an exchange and a queue/)
    const inOptions = await refused(listen(url('?queue=q'), { amqp: { bindings: ['order.*'] } }), 'ERR_BAD_ARGUMENT')
    expect(inOptions).toMatch(/exchange/)
  })

  it('listen without a queue is ERR_BAD_URL saying to give ?queue=', async () => {
    const message = await refused(listen(url('')), 'ERR_BAD_URL')
    expect(message).toContain('?queue=')
  })
})

describe('amqp: what plain publishers put on the queue', () => {
  /** A listener with prefetch 1 on a fresh queue, and a raw confirm channel publishing to it. */
  async function setup(): Promise<{
    queue: string
    server: Server
    registry: Registry
    got: number[]
    errors: ReturnType<typeof collectErrors>
    conn: amqplib.ChannelModel
    publish(content: Buffer, properties: amqplib.Options.Publish): Promise<void>
  }> {
    const queue = freshQueue('bad-msg')
    const errors = collectErrors()
    const got: number[] = []
    const registry = new Registry({ onError: errors.onError })
    registry.on(Ping, (ping) => void got.push(ping.seq))
    const server = await listen(brokerUrl(`?queue=${queue}`), { registry, onError: errors.onError, amqp: { prefetch: 1 }, connectTimeoutMs: 5000 })
    open.push(server)
    const conn = await raw()
    const ch = await conn.createConfirmChannel()
    const publish = (content: Buffer, properties: amqplib.Options.Publish): Promise<void> =>
      new Promise((resolve, reject) => ch.sendToQueue(queue, content, properties, (err) => (err ? reject(err) : resolve())))
    return { queue, server, registry, got, errors, conn, publish }
  }

  const cases: { name: string; content: () => Buffer; properties: amqplib.Options.Publish; code: SeamErrorCode; says: RegExp; counted: 'undecodable' | 'unregistered' | 'invalid' }[] = [
    // The transport cannot make an envelope without a tag: the channel reports its ERR_PROTOCOL under the "undecodable" policy.
    { name: 'no type property', content: () => Buffer.from(encode({ seq: 1 })), properties: {}, code: 'ERR_PROTOCOL', says: /no "type" property/, counted: 'undecodable' },
    { name: 'an unknown type', content: () => Buffer.from(encode({ seq: 1 })), properties: { type: 'amqp-bad.Nobody' }, code: 'ERR_UNREGISTERED_TAG', says: /"amqp-bad\.Nobody"/, counted: 'unregistered' },
    // 0xc1 is never valid MessagePack.
    { name: 'a body that is not MessagePack', content: () => Buffer.from([0xc1, 0xc1, 0xc1]), properties: { type: Ping.tag }, code: 'ERR_UNDECODABLE', says: /not valid application\/msgpack/, counted: 'undecodable' },
    { name: 'a payload that fails its codec', content: () => Buffer.from(encode({ seq: 'one' })), properties: { type: Ping.tag }, code: 'ERR_INVALID_PAYLOAD', says: /seq/, counted: 'invalid' },
  ]

  it.each(cases)('$name reaches onError as $code, is settled, and the consumer goes on', async ({ content, properties, code, says, counted }) => {
    const { queue, server, registry, got, errors, conn, publish } = await setup()
    await publish(content(), properties)
    await waitFor(() => errors.errors.length > 0, 5000, `the listener to report ${code}`)
    expect(errors.errors[0]?.code).toBe(code)
    expect(errors.errors[0]?.message).toMatch(says)
    expect(registry.stats()[counted]).toBe(1)
    expect(registry.stats().rejected).toBe(1)

    // With prefetch 1 the next message comes only once the bad one is settled.
    await publish(Buffer.from(encode({ seq: 2 })), { type: Ping.tag })
    await waitFor(() => got.length === 1, 5000, 'a good message after the bad one to be handled')
    expect(got).toEqual([2])
    // Rejected once, not handed back again and again.
    expect(errors.errors).toHaveLength(1)
    await until(() => queueState(conn, queue), (s) => s.messageCount === 0 && s.consumerCount === 1, 5000, 'an empty queue, still consumed')

    // Closing the consumer hands back whatever it left unacknowledged: nothing.
    await server.close()
    expect(await queueState(conn, queue)).toEqual({ messageCount: 0, consumerCount: 0 })
  })

  it('all four in a row, each between good messages: every bad one reported once, every good one handled in order', async () => {
    const { queue, server, got, errors, conn, publish } = await setup()
    for (const [i, c] of cases.entries()) {
      await publish(c.content(), c.properties)
      await publish(Buffer.from(encode({ seq: i })), { type: Ping.tag })
    }
    await waitFor(() => got.length === cases.length, 5000, 'every good message to be handled')
    expect(got).toEqual([0, 1, 2, 3])
    expect(errors.errors.map((e) => e.code)).toEqual(cases.map((c) => c.code))
    await server.close()
    expect(await queueState(conn, queue)).toEqual({ messageCount: 0, consumerCount: 0 })
  })
})

describe('amqp: amqplib not installed', () => {
  it('connect rejects with ERR_TRANSPORT saying npm install amqplib', async () => {
    const target = brokerUrl(`?queue=${freshQueue('no-lib')}`)
    await expectClientMissing('amqplib', [{ open: 'connect', url: target }])
  }, 20_000)
})
