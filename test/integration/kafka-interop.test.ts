/**
 * Kafka interop: the envelope ↔ record mapping, read and written by plain
 * kafkajs on the other side, and requests over one reply topic shared by
 * several requesters. Against the test broker (mokapi, or KAFKA_BROKERS);
 * kafkajs is never mocked.
 */
import { decode, encode } from '@msgpack/msgpack'
import type { KafkaMessage } from 'kafkajs'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { Registry, connect, defineMessage, json, listen, type Channel, type ConnectOptions, type HandlerContext } from '../../src/index.js'
import { closedAfterEach, rejection, sleep, waitFor } from '../helpers.js'
import { fastKafka, fastMember, freshGroup, freshTopic, kafkaUrl, rawKafka, replyTopic, useKafka, kafkaErrors } from '../helpers/kafka.js'
import { headerText, produceRaw, readRaw } from '../helpers/kafka-raw.js'

useKafka()
const open = closedAfterEach()

/** Cents travel as a decimal string: the encoded value differs from the decoded one. */
const Cents = new t.Type<number, string, unknown>(
  'Cents',
  (u): u is number => typeof u === 'number' && Number.isSafeInteger(u),
  (u, c) => (typeof u === 'string' && /^\d+$/.test(u) ? t.success(Number(u)) : t.failure(u, c, 'expected a decimal string')),
  (n) => String(n),
)
const Order = defineMessage('kafka-interop.Order', t.type({ id: t.string, price: Cents }))
const Ping = defineMessage('kafka-interop.Ping', t.type({ seq: t.number }))
const Pong = defineMessage('kafka-interop.Pong', t.type({ seq: t.number }))

/** What a handler saw. */
interface Seen {
  readonly value: unknown
  readonly ctx: HandlerContext
}

/** A listener on `topic` (a fresh group, from the start) whose Order handler records what it saw. */
async function orders(topic: string): Promise<{ seen: Seen[]; errors: ReturnType<typeof kafkaErrors> }> {
  const seen: Seen[] = []
  const errors = kafkaErrors()
  const registry = new Registry({ onError: errors.onError })
  registry.on(Order, (value, ctx) => void seen.push({ value, ctx }))
  open.push(await listen(`${kafkaUrl()}/${topic}?group=${freshGroup()}&fromBeginning=true`, { registry, onError: errors.onError, kafka: fastKafka }))
  return { seen, errors }
}

async function client(url: string, options: ConnectOptions = {}): Promise<Channel> {
  const c = await connect(url, { registry: new Registry({ onError: () => undefined }), kafka: fastKafka, ...options })
  open.push(c)
  return c
}

describe('kafka interop: what connect() produces, as a plain consumer reads it', () => {
  it('value = the MessagePack body, key = the ordering key, a seam-tag header, ts as the record timestamp, user headers as they are; the id is the record’s place', async () => {
    const topic = freshTopic()
    const { seen, errors } = await orders(topic)
    const sender = await client(`${kafkaUrl()}/${topic}`)
    const before = Date.now()
    await sender.send(Order, { id: 'o-1', price: 1250 }, { key: 'customer-7', headers: { tenant: 'acme', trace: 't-9' } })
    const after = Date.now()

    const [rec] = await readRaw(topic, 1, { quietMs: 200 })
    const { message, partition } = rec as { message: KafkaMessage; partition: number }
    expect(message.key?.toString()).toBe('customer-7')
    // The body is the codec's encoded value (price as a string), in MessagePack.
    expect(decode(message.value as Buffer)).toEqual({ id: 'o-1', price: '1250' })
    const headers = headerText(message.headers)
    // msgpack, the default, goes without seam-ct; the time sent is the record's own timestamp, not a header; a one-way record needs no seam-id.
    expect(headers).toEqual({ tenant: 'acme', trace: 't-9', 'seam-tag': Order.tag })
    const ts = Number(message.timestamp)
    expect(ts).toBeGreaterThanOrEqual(before)
    expect(ts).toBeLessThanOrEqual(after)

    // The same record, as listen() handles it: its place in the log as the id, the record's key and timestamp; seam-* not among the user headers.
    await waitFor(() => seen.length === 1, 10_000, 'the seam listener to handle the same record')
    const { value, ctx } = seen[0] as Seen
    expect(value).toEqual({ id: 'o-1', price: 1250 })
    expect(ctx.tag).toBe(Order.tag)
    expect(ctx.id).toBe(`${topic}/${partition}@${message.offset}`)
    expect(ctx.envelope.key).toBe('customer-7')
    expect(ctx.envelope.ts).toBe(ts)
    expect(ctx.envelope.ct).toBe('application/msgpack')
    expect(ctx.headers).toEqual({ tenant: 'acme', trace: 't-9' })
    expect(errors.errors).toEqual([])
  })

  it('a JSON channel says so in seam-ct; without a key the record has none; only a request carries seam-id', async () => {
    const topic = freshTopic()
    const sender = await client(`${kafkaUrl()}/${topic}`, { serde: json })
    await Promise.all([0, 1, 2].map((i) => sender.send(Order, { id: `o-${i}`, price: i })))
    const got = await readRaw(topic, 3, { quietMs: 200 })
    expect(got).toHaveLength(3)
    for (const { message } of got) {
      expect(message.key).toBeNull()
      expect(headerText(message.headers)['seam-ct']).toBe('application/json')
    }
    expect(got.map((r) => headerText(r.message.headers)['seam-id'])).toEqual([undefined, undefined, undefined])
    expect(got.map((r) => JSON.parse((r.message.value as Buffer).toString('utf8')) as unknown).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual(
      [0, 1, 2].map((i) => ({ id: `o-${i}`, price: String(i) })),
    )
  })
})

describe('kafka interop: what a plain producer produces, as listen() handles it', () => {
  it('dispatched by seam-tag: JSON with its seam-ct, MessagePack without one; the other headers reach ctx.headers', async () => {
    const topic = freshTopic()
    const { seen, errors } = await orders(topic)
    const sentAt = Date.now() - 60_000
    await produceRaw(topic, [
      {
        key: 'k-json',
        value: Buffer.from(JSON.stringify({ id: 'j-1', price: '1250' })),
        headers: { 'seam-tag': Order.tag, 'seam-ct': 'application/json', 'seam-id': 'plain-json-1', 'seam-ts': '1700000000000', tenant: 'acme', 'content-encoding': 'identity' },
      },
      { value: Buffer.from(encode({ id: 'm-1', price: '99' })), headers: { 'seam-tag': Order.tag, tenant: 'globex' }, timestamp: String(sentAt) },
    ])

    await waitFor(() => seen.length === 2, 10_000, 'both plain records to be handled')
    expect(errors.errors).toEqual([])
    const byId = (id: string): Seen => seen.find((s) => (s.value as { id: string }).id === id) as Seen
    const fromJson = byId('j-1')
    expect(fromJson.value).toEqual({ id: 'j-1', price: 1250 })
    expect(fromJson.ctx.tag).toBe(Order.tag)
    expect(fromJson.ctx.id).toBe('plain-json-1')
    expect(fromJson.ctx.envelope.ct).toBe('application/json')
    expect(fromJson.ctx.envelope.key).toBe('k-json')
    // A seam-ts header, where a producer sets one, is the envelope's time.
    expect(fromJson.ctx.envelope.ts).toBe(1_700_000_000_000)
    expect(fromJson.ctx.headers).toEqual({ tenant: 'acme', 'content-encoding': 'identity' })

    const packed = byId('m-1')
    expect(packed.value).toEqual({ id: 'm-1', price: 99 })
    expect(packed.ctx.envelope.ct).toBe('application/msgpack')
    expect(packed.ctx.envelope.key).toBeUndefined()
    expect(packed.ctx.envelope.ts).toBe(sentAt)
    expect(packed.ctx.headers).toEqual({ tenant: 'globex' })
    // A plain producer may leave seam-id out; the envelope's id is then the record's place in the log.
    expect(packed.ctx.id).toMatch(new RegExp(`^${topic.replace(/\./g, '\\.')}/[0-3]@\\d+$`))
  })

  it('a plain kafkajs service answers request(): seam-reply-to is <reply topic>#<requester>; a reply with seam-corr and seam-reply-for resolves it', async () => {
    const topic = freshTopic()
    const reply = replyTopic()
    const kafka = rawKafka()
    const producer = kafka.producer({ allowAutoTopicCreation: false })
    const consumer = kafka.consumer({ groupId: freshGroup(), ...fastMember, allowAutoTopicCreation: false })
    open.push({ close: async () => void (await Promise.all([consumer.disconnect(), producer.disconnect()])) })
    await producer.connect()
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    const requests: Record<string, string>[] = []
    await consumer.run({
      eachMessage: async ({ message }) => {
        const h = headerText(message.headers)
        requests.push(h)
        const [to, requester] = (h['seam-reply-to'] as string).split('#') as [string, string]
        const { seq } = decode(message.value as Buffer) as { seq: number }
        await producer.send({
          topic: to,
          acks: -1,
          messages: [{ value: Buffer.from(JSON.stringify({ seq: seq * 2 })), headers: { 'seam-tag': Pong.tag, 'seam-ct': 'application/json', 'seam-corr': h['seam-id'] as string, 'seam-reply-for': requester } }],
        })
      },
    })

    const errors = kafkaErrors()
    const requester = await client(`${kafkaUrl()}/${topic}?replyTopic=${reply}`, { onError: errors.onError })
    await expect(requester.request(Ping, { seq: 21 }, { expect: Pong, timeoutMs: 10_000 })).resolves.toEqual({ seq: 42 })
    expect(requests).toHaveLength(1)
    expect(requests[0]?.['seam-tag']).toBe(Ping.tag)
    // A request carries its id: the reply's seam-corr names it.
    expect(requests[0]?.['seam-id']).toMatch(/.+/)
    expect(requests[0]?.['seam-reply-to']).toMatch(new RegExp(`^${reply.replace(/\./g, '\\.')}#.+$`))
    expect(errors.errors).toEqual([])
  })
})

describe('kafka interop: requests over one reply topic shared by two requesters', () => {
  it('each gets only its own replies, with no onError about the other one’s; a timed-out request still times out, and its late reply is reported to its own requester only', async () => {
    const topic = freshTopic()
    const reply = replyTopic()
    const serverErrors = kafkaErrors()
    const registry = new Registry({ onError: serverErrors.onError })
    registry.register(Pong)
    registry.on(Ping, async (ping, ctx) => {
      // -1: never answered; -2: answered after 1.5 s, past the requester's timeout.
      if (ping.seq === -1) return
      if (ping.seq === -2) await sleep(1500)
      // Spread out, so the two requesters' replies interleave on the shared topic.
      else await sleep(ping.seq % 7)
      await ctx.reply(Pong, { seq: ping.seq * 10 })
    })
    open.push(await listen(`${kafkaUrl()}/${topic}?group=${freshGroup()}&fromBeginning=true`, { registry, onError: serverErrors.onError, kafka: fastKafka }))
    const url = `${kafkaUrl()}/${topic}?replyTopic=${reply}`
    const ea = kafkaErrors()
    const eb = kafkaErrors()
    const [a, b] = await Promise.all([client(url, { onError: ea.onError }), client(url, { onError: eb.onError })])

    const seqs = Array.from({ length: 20 }, (_, i) => i + 1)
    const [fromA, fromB] = await Promise.all([
      Promise.all(seqs.map((seq) => a.request(Ping, { seq }, { expect: Pong, timeoutMs: 10_000 }))),
      Promise.all(seqs.map((seq) => b.request(Ping, { seq: seq + 100 }, { expect: Pong, timeoutMs: 10_000, key: `b-${seq}` }))),
    ])
    expect(fromA.map((p) => p.seq)).toEqual(seqs.map((s) => s * 10))
    expect(fromB.map((p) => p.seq)).toEqual(seqs.map((s) => (s + 100) * 10))
    // Each requester read the other's 20 replies on the shared topic too, and passed over them silently.
    expect(ea.errors).toEqual([])
    expect(eb.errors).toEqual([])

    // A request nobody answers times out, while the other requester's go on.
    const started = performance.now()
    const [timedOut, meanwhile] = await Promise.all([rejection(a.request(Ping, { seq: -1 }, { expect: Pong, timeoutMs: 500 })), b.request(Ping, { seq: 7 }, { expect: Pong, timeoutMs: 10_000 })])
    expect(timedOut.code).toBe('ERR_TIMEOUT')
    expect(performance.now() - started).toBeLessThan(5000)
    expect(meanwhile).toEqual({ seq: 70 })

    // A reply that comes after its request timed out: its requester hears of it, the other one does not.
    const late = await rejection(a.request(Ping, { seq: -2 }, { expect: Pong, timeoutMs: 300 }))
    expect(late.code).toBe('ERR_TIMEOUT')
    await waitFor(() => ea.errors.length === 1, 10_000, 'requester a to report the late reply')
    expect(ea.errors[0]?.code).toBe('ERR_TIMEOUT')
    expect(ea.errors[0]?.message).toMatch(/no longer waiting/)
    // Both still work after the timeouts.
    await expect(a.request(Ping, { seq: 8 }, { expect: Pong, timeoutMs: 10_000 })).resolves.toEqual({ seq: 80 })
    await expect(b.request(Ping, { seq: 9 }, { expect: Pong, timeoutMs: 10_000 })).resolves.toEqual({ seq: 90 })
    expect(eb.errors).toEqual([])
    expect(ea.errors).toHaveLength(1)
    expect(serverErrors.errors).toEqual([])
  })
})
