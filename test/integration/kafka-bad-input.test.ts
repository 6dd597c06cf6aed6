/**
 * Kafka: what a user gets wrong (a topic, an address, a URL, a missing
 * kafkajs) and what other producers put on the topic. Each ends in a
 * SeamError with a code that says what happened, and a consumer goes on
 * consuming. Against the test broker (mokapi, or KAFKA_BROKERS); kafkajs is
 * never mocked.
 */
import { encode } from '@msgpack/msgpack'
import { randomBytes } from 'node:crypto'
import type { IHeaders } from 'kafkajs'
import * as t from 'io-ts'
import { beforeAll, describe, expect, it } from 'vitest'
import { Registry, connect, defineMessage, listen, type RegistryStats, type SeamErrorCode, type Server } from '../../src/index.js'
import { closedPort, silentServer } from '../helpers/silent-server.js'
import { expectClientMissing } from '../helpers/missing-module.js'
import { closedAfterEach, rejection, waitFor, within } from '../helpers.js'
import { fastKafka, freshGroup, freshTopic, kafkaBrokers, kafkaUrl, useKafka, kafkaErrors } from '../helpers/kafka.js'
import { produceRaw, readRaw } from '../helpers/kafka-raw.js'

useKafka()
const open = closedAfterEach()

const Ping = defineMessage('kafka-bad.Ping', t.type({ seq: t.number }))

/** A listener on a fresh topic that records what its Ping handler got and what it reported. */
async function listener(): Promise<{ topic: string; group: string; server: Server; got: number[]; registry: Registry; errors: ReturnType<typeof kafkaErrors> }> {
  const topic = freshTopic()
  const group = freshGroup()
  const errors = kafkaErrors()
  const got: number[] = []
  const registry = new Registry({ onError: errors.onError })
  registry.on(Ping, (ping) => void got.push(ping.seq))
  const server = await listen(`${kafkaUrl()}/${topic}?group=${group}&fromBeginning=true`, { registry, onError: errors.onError, kafka: fastKafka })
  open.push(server)
  return { topic, group, server, got, registry, errors }
}

// Slack over connectTimeoutMs for the last attempt's own failure and the timers' granularity.
const SLACK_MS = 400

describe('kafka: a topic that does not exist', () => {
  const nope = (): string => `seam.nope-${randomBytes(4).toString('hex')}`

  it('connect and listen fail at once with ERR_TRANSPORT naming the topic, not retriable', async () => {
    for (const open of [(topic: string) => connect(`${kafkaUrl()}/${topic}`), (topic: string) => listen(`${kafkaUrl()}/${topic}?group=${freshGroup()}`)]) {
      const topic = nope()
      const started = performance.now()
      const err = await rejection(open(topic))
      expect(err.code).toBe('ERR_TRANSPORT')
      expect(err.retriable).toBe(false)
      expect(err.message).toContain(`"${topic}"`)
      expect(err.message).toMatch(/create it first/)
      // Asked of the broker once, not retried until connectTimeoutMs (10 s by default).
      expect(performance.now() - started).toBeLessThan(2000)
    }
  })

  it('send({ to }) an unknown topic rejects with ERR_TRANSPORT naming it; the channel goes on sending', async () => {
    const { topic, got } = await listener()
    const errors = kafkaErrors()
    const client = await connect(`${kafkaUrl()}/${topic}`, { onError: errors.onError, kafka: fastKafka })
    open.push(client)
    const missing = nope()
    for (let i = 0; i < 2; i++) {
      // Twice: a topic found missing is not taken as known the second time.
      const err = await rejection(within(client.send(Ping, { seq: -1 }, { to: missing }), 5000, 'the send to a missing topic'))
      expect(err.code).toBe('ERR_TRANSPORT')
      expect(err.retriable).toBe(false)
      expect(err.message).toContain(`"${missing}"`)
    }
    await client.send(Ping, { seq: 1 })
    await client.send(Ping, { seq: 2 }, { to: topic })
    await waitFor(() => got.length === 2, 10_000, 'both good messages to be handled')
    expect(got.sort()).toEqual([1, 2])
    expect(errors.errors).toEqual([])
  })
})

describe('kafka: a broker that cannot be reached', () => {
  // connectTimeoutMs bounds the connection, not loading the transport's code: load it before timing.
  beforeAll(async () => {
    await import('../../src/transports/kafka/index.js')
    await import('kafkajs')
  })

  it('a closed loopback port: connect and listen fail with ERR_TRANSPORT within connectTimeoutMs, retriable', async () => {
    const port = await closedPort()
    const base = `kafka://127.0.0.1:${port}/seam.t0`
    for (const open of [() => connect(base, { connectTimeoutMs: 1500 }), () => listen(`${base}?group=${freshGroup()}`, { connectTimeoutMs: 1500 })]) {
      const started = performance.now()
      const err = await rejection(open())
      const elapsed = performance.now() - started
      expect(err.code).toBe('ERR_TRANSPORT')
      expect(err.message).toContain(`127.0.0.1:${port}`)
      expect(err.message).toMatch(/ECONNREFUSED|connectTimeoutMs/)
      // A broker that is down may come back: worth retrying later.
      expect(err.retriable).toBe(true)
      expect(elapsed).toBeLessThan(1500 + SLACK_MS)
    }
  })

  it('a port that accepts TCP but never answers fails within connectTimeoutMs, and no socket is left open', async () => {
    const silent = await silentServer()
    open.push(silent)
    const port = silent.port

    const started = performance.now()
    const err = await rejection(connect(`kafka://127.0.0.1:${port}/seam.t0`, { connectTimeoutMs: 1000 }))
    const elapsed = performance.now() - started
    expect(err.code).toBe('ERR_TRANSPORT')
    expect(err.message).toContain(`127.0.0.1:${port}`)
    expect(err.message).toContain('connectTimeoutMs')
    expect(elapsed).toBeLessThan(1000 + SLACK_MS)
    expect(silent.accepted).toBeGreaterThanOrEqual(1)
    // The client closed what it opened, even what kafkajs retried after the timeout: the server sees every connection end.
    await waitFor(() => silent.open === 0, 5000, 'the client to close its sockets to the silent server')
  })
})

describe('kafka: records a plain producer puts on the topic', () => {
  const good = (seq: number): { key: string; value: Buffer; headers: IHeaders } => ({ key: 'k', value: Buffer.from(encode({ seq })), headers: { 'seam-tag': Ping.tag } })

  const cases: { name: string; value: Buffer | null; headers: IHeaders; code: SeamErrorCode; says: RegExp; counted: keyof RegistryStats }[] = [
    // The transport cannot make an envelope without a tag: the channel reports its ERR_PROTOCOL under the "undecodable" policy.
    { name: 'no seam-tag header', value: Buffer.from(encode({ seq: 0 })), headers: { trace: 't-1' }, code: 'ERR_PROTOCOL', says: /no "seam-tag" header/, counted: 'undecodable' },
    // 0xc1 is never valid MessagePack.
    { name: 'a value that is not MessagePack', value: Buffer.from([0xc1, 0xc1, 0xc1]), headers: { 'seam-tag': Ping.tag }, code: 'ERR_UNDECODABLE', says: /not valid application\/msgpack/, counted: 'undecodable' },
    { name: 'a header that is not UTF-8', value: Buffer.from(encode({ seq: 0 })), headers: { 'seam-tag': Ping.tag, trace: Buffer.from([0xff, 0xfe]) }, code: 'ERR_PROTOCOL', says: /header "trace" is not UTF-8/, counted: 'undecodable' },
    // What a compacted topic's producers send to delete a key: no value at all.
    { name: 'a tombstone (null value)', value: null, headers: { 'seam-tag': Ping.tag }, code: 'ERR_UNDECODABLE', says: /msgpack/, counted: 'undecodable' },
    { name: 'an unknown tag', value: Buffer.from(encode({ seq: 0 })), headers: { 'seam-tag': 'kafka-bad.Nobody' }, code: 'ERR_UNREGISTERED_TAG', says: /"kafka-bad\.Nobody"/, counted: 'unregistered' },
  ]

  /**
   * Closes the listener, then reads its topic as a plain member of its group:
   * what the group committed is not read again, so the first record it gets
   * is a marker produced after everything else (same key, same partition).
   */
  async function committedUpToMarker(server: Server, group: string, topic: string): Promise<void> {
    await server.close()
    await produceRaw(topic, [good(99)])
    const after = await readRaw(topic, 1, { groupId: group })
    expect(after.map((r) => r.message.value)).toEqual([good(99).value])
  }

  it.each(cases)('$name: reported as $code, dead-lettered to <topic>.dlq with x-seam-reason, committed; the next record is handled', async ({ value, headers, code, says, counted }) => {
    const { topic, group, server, got, registry, errors } = await listener()
    // One key, so one partition, in this order: the good record is handled only after the bad one was settled.
    await produceRaw(topic, [{ key: 'k', value, headers }, good(1)])
    await waitFor(() => got.length === 1, 10_000, 'the good record after the bad one to be handled')
    expect(got).toEqual([1])
    expect(errors.errors.map((e) => e.code)).toEqual([code])
    expect(errors.errors[0]?.message).toMatch(says)
    expect(registry.stats()).toMatchObject({ [counted]: 1, rejected: 1, handled: 1 })

    // The default policy, reject, on Kafka: the untouched record and why, on the dead-letter topic.
    const dead = await readRaw(`${topic}.dlq`, 1, { quietMs: 300 })
    expect(dead).toHaveLength(1)
    const { message } = dead[0] as (typeof dead)[number]
    expect(message.key?.toString()).toBe('k')
    // A tombstone's dead letter is a tombstone too.
    expect(message.value).toEqual(value)
    expect(message.headers?.['x-seam-reason']?.toString()).toMatch(new RegExp(`^${code}: `))
    for (const [name, bytes] of Object.entries(headers)) expect(message.headers?.[name], `header ${name}, byte for byte`).toEqual(Buffer.from(bytes as Buffer | string))

    // Both records committed: the group, started again, does not see the bad one again.
    expect(errors.errors).toHaveLength(1)
    await committedUpToMarker(server, group, topic)
  })

  it('a key that is not UTF-8 reaches the dead-letter topic byte for byte', async () => {
    const { topic, errors } = await listener()
    const key = Buffer.from([0xff, 0x00, 0xfe, 0x80])
    await produceRaw(topic, [{ key, value: Buffer.from(encode({ seq: 0 })), headers: { 'seam-tag': 'kafka-bad.Nobody' } }])
    const [dead] = await readRaw(`${topic}.dlq`, 1, { quietMs: 300 })
    expect(dead?.message.key).toEqual(key)
    expect(errors.errors.map((e) => e.code)).toEqual(['ERR_UNREGISTERED_TAG'])
  })

  it('all of them in a row, each before a good record: every bad one reported once and dead-lettered in order, every good one handled in order', async () => {
    const { topic, group, server, got, errors } = await listener()
    await produceRaw(
      topic,
      cases.flatMap((c, i) => [{ key: 'k', value: c.value, headers: c.headers }, good(i)]),
    )
    await waitFor(() => got.length === cases.length, 10_000, 'every good record to be handled')
    expect(got).toEqual(cases.map((_, i) => i))
    expect(errors.errors.map((e) => e.code)).toEqual(cases.map((c) => c.code))
    const dead = await readRaw(`${topic}.dlq`, cases.length, { quietMs: 300 })
    expect(dead.map((d) => d.message.headers?.['x-seam-reason']?.toString().split(':')[0])).toEqual(cases.map((c) => c.code))
    await committedUpToMarker(server, group, topic)
  })
})

describe('kafka: kafkajs not installed', () => {
  it('connect and listen reject with ERR_TRANSPORT saying npm install kafkajs', async () => {
    const target = `${kafkaUrl()}/${freshTopic()}`
    await expectClientMissing('kafkajs', [
      { open: 'connect', url: target },
      { open: 'listen', url: `${target}?group=g` },
    ])
  }, 20_000)
})

describe('kafka: bad URLs and options fail before any connection is made', () => {
  // A port nothing listens on: dialing would end in ERR_TRANSPORT, so ERR_BAD_* proves nothing was dialed.
  let port = 0
  beforeAll(async () => {
    port = await closedPort()
  })
  const url = (rest: string): string => `kafka://127.0.0.1:${port}${rest}`

  async function refused(p: Promise<unknown>, code: SeamErrorCode): Promise<string> {
    const err = await rejection(p)
    expect(err.code).toBe(code)
    expect(err.retriable).toBe(false)
    return err.message
  }

  it('names an unknown query parameter and lists the known ones', async () => {
    const message = await refused(connect(url('/seam.t0?colour=blue')), 'ERR_BAD_URL')
    expect(message).toContain('"colour"')
    expect(message).toMatch(/known: .*group/)
  })

  it('listen without a group is ERR_BAD_URL saying to give ?group=', async () => {
    const message = await refused(listen(url('/seam.t0')), 'ERR_BAD_URL')
    expect(message).toContain('?group=')
  })

  it('listen without a topic is ERR_BAD_URL saying it needs one', async () => {
    for (const u of [url('?group=g'), url('/?group=g')]) expect(await refused(listen(u), 'ERR_BAD_URL')).toMatch(/needs a topic/)
  })

  it('a bad topic name is ERR_BAD_URL in the URL and ERR_BAD_ARGUMENT in the options, naming the rule', async () => {
    for (const topic of ['bad%20topic', 'bad!', 'x'.repeat(250)]) {
      expect(await refused(connect(url(`/${topic}`)), 'ERR_BAD_URL')).toMatch(/topic names are 1–249 characters/)
    }
    expect(await refused(listen(url('/seam.t0?group=g'), { kafka: { topics: ['no/slash'] } }), 'ERR_BAD_ARGUMENT')).toContain('"no/slash"')
  })

  it('names a bad number in the URL and in the options', async () => {
    expect(await refused(connect(url('/seam.t0?maxOutboxMessages=lots')), 'ERR_BAD_URL')).toContain('"maxOutboxMessages"')
    expect(await refused(connect(url('/seam.t0'), { kafka: { maxOutboxMessages: 0 } }), 'ERR_BAD_ARGUMENT')).toContain('kafka.maxOutboxMessages')
  })

  it('a broker list parses: unreachable, it fails as a connection naming both brokers; with a live broker in it, it works', async () => {
    const err = await rejection(connect('kafka://127.0.0.1:1,127.0.0.1:2/seam.t0', { connectTimeoutMs: 1500 }))
    expect(err.code).toBe('ERR_TRANSPORT')
    expect(err.message).toContain('127.0.0.1:1,127.0.0.1:2')

    // kafkajs goes round the list when a broker refuses: the closed one, then the live one.
    const { topic, got } = await listener()
    const client = await connect(`kafka://127.0.0.1:${port},${kafkaBrokers()}/${topic}`, { kafka: fastKafka, connectTimeoutMs: 5000 })
    open.push(client)
    await client.send(Ping, { seq: 7 })
    await waitFor(() => got.length === 1, 10_000, 'the message sent through the broker list to be handled')
    expect(got).toEqual([7])
  })
})
