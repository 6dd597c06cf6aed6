/**
 * Reading a topic to its end without sleep-and-hope: append a marker record
 * to every partition, then read until each partition's marker arrives. What
 * came before the markers is exactly what the reader had left to read — all
 * of the topic for a new group, nothing for a group that committed up to the
 * end. Plain kafkajs on both sides: the library under test is not involved.
 */
import { randomBytes } from 'node:crypto'
import { Partitioners, type KafkaMessage, type PartitionMetadata } from 'kafkajs'
import { waitFor } from '../helpers.js'
import { fastMember, freshGroup, rawKafka } from './kafka.js'

const MARKER = 'seam-test-marker'

/** A record as a plain consumer read it. */
export interface ReadRecord {
  readonly partition: number
  readonly offset: number
  readonly key: string | undefined
  readonly value: Buffer
  /** The record's timestamp, milliseconds since the epoch. */
  readonly timestamp: number
  /** Header values as bytes, one per name. */
  readonly headers: Record<string, Buffer>
}

/** Appends a marker record to each of the `partitions` partitions of `topic`; returns the marker's id, for {@link readToMarkers}. */
export async function appendMarkers(topic: string, partitions: number): Promise<string> {
  const id = randomBytes(6).toString('hex')
  const producer = rawKafka().producer({ allowAutoTopicCreation: false })
  await producer.connect()
  try {
    await producer.send({ topic, acks: -1, messages: Array.from({ length: partitions }, (_, partition) => ({ partition, value: Buffer.alloc(0), headers: { [MARKER]: id } })) })
  } finally {
    await producer.disconnect()
  }
  return id
}

/**
 * Reads `topic` as a member of `groupId` (default: a new group, from the
 * start; an existing group starts where it committed) until the marker `id`
 * arrived on each of `partitions` partitions, and returns the records before
 * the markers, in partition then offset order, plus each marker's offset.
 * Commits nothing. Rejects naming what was missing after `timeoutMs`.
 */
export async function readToMarkers(topic: string, partitions: number, id: string, o: { groupId?: string; timeoutMs?: number } = {}): Promise<{ records: ReadRecord[]; markers: Map<number, number> }> {
  const consumer = rawKafka().consumer({ groupId: o.groupId ?? freshGroup(), ...fastMember, allowAutoTopicCreation: false })
  const records: ReadRecord[] = []
  const markers = new Map<number, number>()
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        if (markers.has(partition)) return
        const r = toRecord(partition, message)
        if (r.headers[MARKER]?.toString() === id) markers.set(partition, r.offset)
        else records.push(r)
      },
    })
    await waitFor(() => markers.size === partitions, o.timeoutMs ?? 15_000, `the markers of all ${partitions} partitions of ${topic} (got ${markers.size}, after ${records.length} records)`)
  } finally {
    await consumer.disconnect()
  }
  records.sort((a, b) => a.partition - b.partition || a.offset - b.offset)
  return { records, markers }
}

/** The partition kafkajs's default producer (the one the transport uses) puts `key` in, on a topic of `partitions` partitions. */
export function partitionOf(key: string, partitions: number): number {
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0], offlineReplicas: [] }) satisfies PartitionMetadata)
  return Partitioners.DefaultPartitioner()({ topic: 'any', partitionMetadata, message: { key, value: null } })
}

function toRecord(partition: number, m: KafkaMessage): ReadRecord {
  const headers: Record<string, Buffer> = {}
  for (const [name, value] of Object.entries(m.headers ?? {})) {
    const one = Array.isArray(value) ? value.at(-1) : value
    if (one !== undefined) headers[name] = Buffer.isBuffer(one) ? one : Buffer.from(one)
  }
  return { partition, offset: Number(m.offset), key: m.key === null ? undefined : m.key.toString(), value: m.value ?? Buffer.alloc(0), timestamp: Number(m.timestamp), headers }
}
