/**
 * The Kafka test harness itself, with plain kafkajs: the broker takes what
 * the transport will send (binary values, keys, headers, acks -1), a group
 * commits by hand, and a new member of the group resumes where the commit
 * says. Prints how long things took, for the transport's timeouts.
 */
import { encode } from '@msgpack/msgpack'
import type { Consumer, KafkaMessage } from 'kafkajs'
import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../helpers.js'
import { fastMember, freshGroup, freshTopic, PARTITIONS, rawKafka, replyTopic, startKafka, useKafka } from '../helpers/kafka.js'

useKafka()

const consumers: Consumer[] = []
afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.disconnect()))
})

interface Member {
  consumer: Consumer
  got: { partition: number; message: KafkaMessage }[]
  /** The partitions of `topic` each join gave it, latest last. */
  assignments: number[][]
  /** How long its first join took. */
  joinMs: number
}

/** A member of `groupId` reading `topic` from the start (unless the group committed), collecting what it gets; resolves once it joined. */
async function member(groupId: string, topic: string): Promise<Member> {
  const consumer = rawKafka().consumer({ groupId, ...fastMember })
  consumers.push(consumer)
  const m: Member = { consumer, got: [], assignments: [], joinMs: -1 }
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    if (m.joinMs < 0) m.joinMs = e.payload.duration
    m.assignments.push([...(e.payload.memberAssignment[topic] ?? [])].sort())
  })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({ autoCommit: false, eachMessage: async ({ partition, message }) => void m.got.push({ partition, message }) })
  await waitFor(() => m.joinMs >= 0, 10_000, `${groupId} to join`)
  return m
}

describe('the Kafka test broker', () => {
  it('declares the pool: topics, their dead-letter topics, reply topics', async () => {
    const topic = freshTopic()
    const reply = replyTopic()
    const admin = rawKafka().admin()
    await admin.connect()
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic, `${topic}.dlq`, reply] })
      expect(Object.fromEntries(topics.map((t) => [t.name, t.partitions.length]))).toEqual({ [topic]: PARTITIONS.topic, [`${topic}.dlq`]: PARTITIONS.deadLetter, [reply]: PARTITIONS.reply })
    } finally {
      await admin.disconnect()
    }
    expect(freshTopic()).not.toBe(topic)
  })

  it('keeps keys, headers and msgpack values, and a new member resumes after the committed offsets', async () => {
    const topic = freshTopic()
    const group = freshGroup()
    const records = Array.from({ length: 100 }, (_, i) => ({
      key: `key-${i}`,
      value: Buffer.from(encode({ i, bytes: new Uint8Array([0, 0xc1, 0xff, i]) })),
      headers: { 'seam-tag': Buffer.from('test.Record'), 'seam-id': Buffer.from([0, 0xff, 0x80, i]) },
    }))
    const producer = rawKafka().producer()
    await producer.connect()
    let t = Date.now()
    try {
      await producer.send({ topic, acks: -1, messages: records })
    } finally {
      await producer.disconnect()
    }
    const produceMs = Date.now() - t

    t = Date.now()
    const first = await member(group, topic)
    await waitFor(() => first.got.length === 100, 10_000, 'all 100 records')
    const consumeMs = Date.now() - t - first.joinMs
    for (const { message } of first.got) {
      const i = Number(message.key?.toString().slice('key-'.length))
      expect(message.value).toEqual(records[i]?.value)
      expect(message.headers).toEqual(records[i]?.headers)
    }

    // Commit half of each partition: the next offset to read is its middle record's.
    const byPartition = new Map<number, number[]>()
    for (const { partition, message } of first.got) byPartition.set(partition, [...(byPartition.get(partition) ?? []), Number(message.offset)])
    const commits = [...byPartition].map(([partition, offsets]) => ({ topic, partition, offset: String(offsets.sort((a, b) => a - b)[offsets.length >> 1]) }))
    await first.consumer.commitOffsets(commits)
    t = Date.now()
    await first.consumer.disconnect()
    const disconnectMs = Date.now() - t

    const second = await member(group, topic)
    const expected = first.got.filter(({ partition, message }) => Number(message.offset) >= Number(commits.find((c) => c.partition === partition)?.offset))
    await waitFor(() => second.got.length >= expected.length, 10_000, `the ${expected.length} uncommitted records`)
    expect(second.got.map(({ message }) => message.key?.toString()).sort()).toEqual(expected.map(({ message }) => message.key?.toString()).sort())

    console.log(
      `kafka broker: ${byPartition.size} partitions; produce 100 records (acks -1) ${produceMs} ms; group join ${first.joinMs} ms, ` +
        `rejoin ${second.joinMs} ms; consume 100 after joining ${consumeMs} ms; disconnect ${disconnectMs} ms; ${expected.length} records after the commit`,
    )
  })

  it('splits the partitions with a member that joins late, when members use fastMember', async () => {
    const topic = freshTopic()
    const group = freshGroup()
    const first = await member(group, topic)
    expect(first.assignments).toEqual([[0, 1, 2, 3]])
    const late = await member(group, topic)
    // The first member must have rejoined in the same round: with kafkajs defaults it keeps all four beside the newcomer's.
    await waitFor(() => first.assignments.length === 2, 5000, 'the first member to rejoin')
    expect([...(first.assignments[1] ?? []), ...(late.assignments[0] ?? [])].sort()).toEqual([0, 1, 2, 3])
    expect(late.assignments[0]).toHaveLength(2)
  })

  it('startKafka starts another broker, and stop() ends it by its PID', async () => {
    const t = Date.now()
    const broker = await startKafka()
    const startMs = Date.now() - t
    expect(broker.url).toBe(`kafka://${broker.brokers}`)
    expect(() => process.kill(broker.pid, 0)).not.toThrow()
    await Promise.all([broker.stop(), broker.stop()])
    expect(() => process.kill(broker.pid, 0)).toThrow(/ESRCH/)
    console.log(`kafka broker: mokapi answered ${startMs} ms after spawn`)
  })
})
