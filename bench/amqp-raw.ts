/**
 * The AMQP baseline: what a competent amqplib user writes for the same work.
 * A confirm channel on one connection publishes to the default exchange with
 * the same bound on unconfirmed publishes as ours; a second connection
 * consumes with the same prefetch, decodes every body with the same msgpack
 * library and acks each message by hand. No envelope, no tag, no validation.
 *
 * One Encoder and one Decoder serve the whole run: `encode()` and `decode()`
 * build a new one per call, which costs more than a 100-byte message and
 * would flatter our figure.
 */
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import amqplib from 'amqplib'
import { Decoder, Encoder } from '@msgpack/msgpack'
import { InFlight, finished } from './amqp-window.js'
import { item } from './payload.js'

/** Which queue and message durability a run uses. */
export interface Variant {
  /** Appended to the row name. */
  name: string
  durable: boolean
  persistent: boolean
}

/** How much work one run does, the same for both sides. */
export interface Load {
  n: number
  /** Most publishes awaiting their broker confirm. */
  inFlight: number
  prefetch: number
}

/** A queue name no other run uses, so leftovers of a failed run never mix in. */
export function freshQueue(side: string): string {
  return `seam-bench.${side}.${randomBytes(6).toString('hex')}`
}

/** Deletes `queue` over a connection of its own: the side that used it may be closed by now. */
export async function deleteQueue(url: string, queue: string): Promise<void> {
  const conn = await amqplib.connect(url)
  try {
    const ch = await conn.createChannel()
    await ch.deleteQueue(queue)
  } finally {
    await conn.close()
  }
}

function seconds(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9
}

/** Messages per second from the first publish until every message was acked and confirmed. */
export async function rawOneWay(url: string, variant: Variant, load: Load): Promise<number> {
  const queue = freshQueue('raw')
  const producer = await amqplib.connect(url)
  const consumer = await amqplib.connect(url)
  try {
    const pub = await producer.createConfirmChannel()
    const sub = await consumer.createChannel()
    await sub.assertQueue(queue, { durable: variant.durable })
    await sub.prefetch(load.prefetch)

    const decoder = new Decoder()
    let acked = 0
    const consumed = new Promise<void>((resolve, reject) => {
      // A channel closed by the broker (e.g. a bad ack) would otherwise leave the run waiting forever.
      sub.once('close', () => reject(new Error(`amqp baseline: consumer channel closed after ${acked} of ${load.n}`)))
      void sub.consume(queue, (msg) => {
        if (msg === null) return reject(new Error('amqp baseline: consumer cancelled by the broker'))
        decoder.decode(msg.content)
        sub.ack(msg)
        if (++acked === load.n) resolve()
      })
    })
    consumed.catch(() => undefined) // awaited below; a failure while publishing must not be an unhandled rejection
    // consume() resolves on consume-ok; the first delivery cannot come before the first publish anyway.
    const encoder = new Encoder()
    const window = new InFlight(load.inFlight)
    const confirmed = (err: unknown): void => window.release(err ?? undefined)
    const options = { persistent: variant.persistent }

    const t0 = process.hrtime.bigint()
    for (let i = 0; i < load.n; i++) {
      if (!window.tryTake()) await window.take()
      const bytes = encoder.encode(item(i))
      const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      if (!pub.publish('', queue, body, options, confirmed)) await once(pub, 'drain')
    }
    await finished(`amqp baseline (${variant.name})`, [window.drained(), consumed])
    const rate = load.n / seconds(t0)

    sub.removeAllListeners('close')
    await sub.deleteQueue(queue)
    return rate
  } catch (err) {
    await deleteQueue(url, queue).catch(() => undefined)
    throw err
  } finally {
    await Promise.all([producer.close(), consumer.close()])
  }
}
