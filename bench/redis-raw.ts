/**
 * The Redis baseline: what a careful ioredis user writes for the same work
 * as our transport does. A producer appends in pipelines of `batch` `XADD`s
 * (what our transport's pipeline of one turn's appends gives, with `batch`
 * of them awaiting Redis), each entry with the same fields ours carries
 * (tag, id, ts, body); a consumer in a group reads `XREADGROUP COUNT batch`,
 * decodes every body with the same msgpack library and acknowledges each
 * read with one `XACK`. No envelope, no validation, no handler dispatch.
 */
import { Decoder, Encoder } from '@msgpack/msgpack'
import { Redis } from 'ioredis'
import { finished } from './amqp-window.js'
import { timed, type Sample } from './broker-run.js'
import { ItemMsg, item } from './payload.js'

const BODY = Buffer.from('body')

/** How much work one run does, the same for both sides. */
export interface Load {
  n: number
  /** Entries per pipeline (raw), sends awaiting Redis (ours), and entries per read on both. */
  batch: number
}

/** A run on a fresh stream and group, deleted after; the consumer is reading before the clock starts. */
export async function rawOneWay(url: string, stream: string, load: Load): Promise<Sample> {
  const producer = new Redis(url)
  const consumer = new Redis(url)
  try {
    await producer.xgroup('CREATE', stream, 'raw', '$', 'MKSTREAM')
    const decoder = new Decoder()
    const encoder = new Encoder()
    let count = 0
    const consume = async (): Promise<void> => {
      while (count < load.n) {
        const reply = (await consumer.callBuffer('XREADGROUP', 'GROUP', 'raw', 'c1', 'COUNT', load.batch, 'BLOCK', 1000, 'STREAMS', stream, '>')) as [Buffer, [Buffer, Buffer[]][]][] | null
        if (reply === null) continue
        const entries = reply[0]?.[1] ?? []
        const ids: Buffer[] = []
        for (const [id, fields] of entries) {
          // The field names compared as bytes, as a careful reader does: decoding each name would cost a string per field.
          for (let i = 0; i + 1 < fields.length; i += 2) if (BODY.equals(fields[i] as Buffer)) decoder.decode(fields[i + 1] as Buffer)
          ids.push(id)
          count++
        }
        await consumer.xack(stream, 'raw', ...ids)
      }
    }
    const produce = async (): Promise<void> => {
      for (let i = 0; i < load.n; ) {
        const end = Math.min(load.n, i + load.batch)
        const pipeline = producer.pipeline()
        for (; i < end; i++) {
          const bytes = encoder.encode(item(i))
          pipeline.xadd(stream, '*', 'tag', ItemMsg.tag, 'id', `raw-${i}`, 'ts', String(Date.now()), 'body', Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
        }
        await pipeline.exec()
      }
    }
    return await timed(load.n, () => finished('redis baseline', [produce(), consume()]))
  } finally {
    await producer.del(stream).catch(() => undefined)
    producer.disconnect()
    consumer.disconnect()
  }
}
