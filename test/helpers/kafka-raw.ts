/**
 * What a plain kafkajs client does on the other side of a Kafka channel:
 * produce records the library did not write, and read back what it wrote or
 * what a group left uncommitted. For the interop and bad-input tests;
 * each call opens and closes its own client, so nothing outlives it.
 */
import type { IHeaders, KafkaMessage, Message } from 'kafkajs'
import { waitFor } from '../helpers.js'
import { fastMember, freshGroup, rawKafka } from './kafka.js'

/** Produces `messages` to `topic` with plain kafkajs (acks -1); resolves once the broker took them. */
export async function produceRaw(topic: string, messages: Message[]): Promise<void> {
  const producer = rawKafka().producer({ allowAutoTopicCreation: false })
  await producer.connect()
  try {
    await producer.send({ topic, acks: -1, messages })
  } finally {
    await producer.disconnect()
  }
}

/** A record as a plain consumer read it. */
export interface RawRecord {
  readonly partition: number
  readonly message: KafkaMessage
}

/**
 * Reads `topic` until `count` records came, then `quietMs` longer to catch
 * any record too many; at most `timeoutMs` for the `count`. A new group
 * reads from the start; `groupId` reads from where that group committed
 * (the start where it committed nothing). Rejects naming the topic when
 * fewer came.
 */
export async function readRaw(topic: string, count: number, o: { groupId?: string; timeoutMs?: number; quietMs?: number } = {}): Promise<RawRecord[]> {
  const consumer = rawKafka().consumer({ groupId: o.groupId ?? freshGroup(), ...fastMember, allowAutoTopicCreation: false })
  const got: RawRecord[] = []
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({ eachMessage: async ({ partition, message }) => void got.push({ partition, message }) })
    await waitFor(() => got.length >= count, o.timeoutMs ?? 10_000, `${count} records on ${topic} (got ${got.length})`)
    if ((o.quietMs ?? 0) > 0) await new Promise((r) => setTimeout(r, o.quietMs))
    return got
  } finally {
    await consumer.disconnect()
  }
}

/** Header values as text: what a plain consumer sees, one string per header. */
export function headerText(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) out[name] = String(Array.isArray(value) ? value.at(-1) : value)
  }
  return out
}
