/**
 * The RabbitMQ the AMQP tests run against: 127.0.0.1:5672 (guest/guest), or
 * `AMQP_URL`. Names are fresh and random per test; everything a test
 * declares is deleted by {@link cleanupAmqp}.
 */
import { randomBytes } from 'node:crypto'
import amqplib from 'amqplib'
import { afterAll, afterEach, beforeAll } from 'vitest'

/** Base URL, no trailing slash, no query. */
export const AMQP_URL = (process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672').replace(/\/$/, '')

const queues = new Set<string>()
const exchanges = new Set<string>()

/** A fresh queue name, deleted after the test. */
export function freshQueue(prefix = 'q'): string {
  const name = `seam-test-${prefix}-${randomBytes(5).toString('hex')}`
  queues.add(name)
  return name
}

/** A fresh exchange name, deleted after the test. */
export function freshExchange(prefix = 'x'): string {
  const name = `seam-test-${prefix}-${randomBytes(5).toString('hex')}`
  exchanges.add(name)
  return name
}

/** A plain amqplib connection for what a test does or checks behind the library's back. */
export async function rawAmqp(): Promise<amqplib.ChannelModel> {
  return amqplib.connect(AMQP_URL)
}

/** Reads up to `max` messages from `queue` with basic.get (acking them), waiting at most `ms` for `max` to be there. */
export async function drain(queue: string, max: number, ms = 5000): Promise<amqplib.GetMessage[]> {
  const conn = await rawAmqp()
  try {
    const ch = await conn.createChannel()
    const got: amqplib.GetMessage[] = []
    const deadline = Date.now() + ms
    while (got.length < max && Date.now() < deadline) {
      const msg = await ch.get(queue, { noAck: true })
      if (msg === false) await new Promise((r) => setTimeout(r, 20))
      else got.push(msg)
    }
    return got
  } finally {
    await conn.close()
  }
}

/** Deletes every queue and exchange the tests of this file named. */
export async function cleanupAmqp(): Promise<void> {
  if (queues.size === 0 && exchanges.size === 0) return
  const conn = await rawAmqp()
  try {
    for (const q of queues) {
      // A failed delete closes the channel: one channel per name.
      const ch = await conn.createChannel()
      ch.on('error', () => undefined)
      await ch.deleteQueue(q).catch(() => undefined)
      await ch.close().catch(() => undefined)
    }
    for (const x of exchanges) {
      const ch = await conn.createChannel()
      ch.on('error', () => undefined)
      await ch.deleteExchange(x).catch(() => undefined)
      await ch.close().catch(() => undefined)
    }
  } finally {
    queues.clear()
    exchanges.clear()
    await conn.close()
  }
}

/** Fails the file at once, saying how to start RabbitMQ, when it is not reachable; deletes what each test declared. */
export function useRabbit(): void {
  beforeAll(async () => {
    try {
      const conn = await rawAmqp()
      await conn.close()
    } catch (err) {
      throw new Error(`RabbitMQ is not reachable at ${AMQP_URL.replace(/:[^:@/]*@/, ':***@')} (${(err as Error).message}); start it with "rabbitmq-server -detached", or point AMQP_URL at one`)
    }
  })
  afterEach(cleanupAmqp)
  afterAll(cleanupAmqp)
}
