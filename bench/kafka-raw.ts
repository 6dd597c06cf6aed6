/**
 * The Kafka baseline: what a careful kafkajs user writes for the same work
 * as our transport does. One producer sends batches of up to `batch` records
 * (acks -1), one request at a time, as our producer does with everything sent
 * in one turn; a consumer group (autoCommit off) decodes every value with the
 * same msgpack library in `eachBatch` and commits after each batch. No
 * envelope, no tag, no validation, and (unless `withHeaders`) no headers.
 *
 * `withHeaders` sends what our transport puts on each one-way record beside
 * the value (the seam-tag header, and the timestamp) with the same values:
 * the same records on the wire, so the ratio to it leaves out what kafkajs
 * and the broker spend on the header and shows what our own code costs.
 *
 * One Encoder and one Decoder serve the whole run: `encode()` and `decode()`
 * build a new one per call, which costs more than a 100-byte message and
 * would flatter our figure.
 */
import { Decoder, Encoder } from '@msgpack/msgpack'
import { finished } from './amqp-window.js'
import { freshGroup, kafkaClient, type Broker } from './kafka-broker.js'
import { ItemMsg, item } from './payload.js'
import { timed, type Sample } from './broker-run.js'

/** How much work one run does, the same for both sides. */
export interface Load {
  n: number
  /** Distinct record keys, used in turn. */
  keys: number
  /** Records per produce request (ours: most sends awaiting the broker, and its maxBatchRecords). */
  batch: number
}

const JOIN_LIMIT_MS = 30_000

/** `key-0` … `key-(n-1)`: built once, as an application keeps its keys. */
export function keyList(n: number): readonly string[] {
  return Array.from({ length: n }, (_, i) => `key-${i}`)
}

/** Rejects after `ms` with `what`, so a group that never forms fails the bench instead of hanging it. */
export async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms / 1000} s`)), ms)))])
  } finally {
    clearTimeout(timer)
  }
}

/** A run on a fresh topic and group: the consumer has joined before the clock starts, and it stops when every record was consumed. */
export async function rawOneWay(broker: Broker, load: Load, withHeaders: boolean): Promise<Sample> {
  const topic = broker.freshTopic()
  await broker.checkEmpty(topic)
  const kafka = kafkaClient(broker.brokers, 'seam-bench-raw')
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  const consumer = kafka.consumer({ groupId: freshGroup('raw'), sessionTimeout: 30_000, heartbeatInterval: 3000, allowAutoTopicCreation: false })
  try {
    await producer.connect()
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()))
    const decoder = new Decoder()
    let count = 0
    let allConsumed!: () => void
    let crashed!: (err: unknown) => void
    const consumed = new Promise<void>((resolve, reject) => ((allConsumed = resolve), (crashed = reject)))
    consumed.catch(() => undefined) // awaited below; a crash while joining must not be an unhandled rejection
    consumer.on(consumer.events.CRASH, (e) => crashed(e.payload.error))
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (m.value !== null) decoder.decode(m.value)
          count++
        }
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) }])
        if (count >= load.n) allConsumed()
      },
    })
    await bounded(joined, JOIN_LIMIT_MS, 'kafka baseline: joining the group')

    const encoder = new Encoder()
    const keys = keyList(load.keys)
    const produce = async (): Promise<void> => {
      for (let i = 0; i < load.n; ) {
        const end = Math.min(load.n, i + load.batch)
        const messages: { key: string; value: Buffer; timestamp?: string; headers?: Record<string, string> }[] = []
        for (; i < end; i++) {
          const bytes = encoder.encode(item(i))
          const value = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
          const key = keys[i % keys.length] as string
          messages.push(withHeaders ? { key, value, timestamp: String(Date.now()), headers: { 'seam-tag': ItemMsg.tag } } : { key, value })
        }
        await producer.send({ topic, messages, acks: -1 })
      }
    }
    return await timed(load.n, () => finished(`kafka baseline${withHeaders ? ' with headers' : ''}`, [produce(), consumed]))
  } finally {
    await consumer.disconnect().catch(() => undefined)
    await producer.disconnect().catch(() => undefined)
  }
}
