import type { AmqpConnection } from './client.js'
import type { Topology } from './options.js'

/** The queue's arguments as RabbitMQ takes them. */
function queueArguments(t: Topology): Record<string, unknown> {
  const args: Record<string, unknown> = {}
  if (t.queueType === 'quorum') args['x-queue-type'] = 'quorum'
  if (t.singleActiveConsumer) args['x-single-active-consumer'] = true
  if (t.deadLetterExchange !== undefined) args['x-dead-letter-exchange'] = t.deadLetterExchange
  if (t.deliveryLimit !== undefined) args['x-delivery-limit'] = t.deliveryLimit
  return args
}

/**
 * Declares what `t` names, where missing: the dead-letter exchange and queue,
 * the exchange, the queue and its bindings. Run on every (re)connect.
 *
 * It runs on a channel of its own: a declaration that conflicts with what
 * exists (406 PRECONDITION_FAILED) closes the channel it ran on, and that must
 * not be a channel the link goes on using.
 * @throws what amqplib throws; the caller names it (see `amqpError`).
 */
export async function declareTopology(conn: AmqpConnection, t: Topology, extraQueues: Iterable<string> = []): Promise<void> {
  const ch = await conn.createChannel()
  // The broker's channel.close after a failed declaration arrives as 'error'; the rejected call already tells it.
  ch.on('error', () => undefined)
  try {
    if (t.deadLetterExchange !== undefined) {
      await ch.assertExchange(t.deadLetterExchange, 'fanout', { durable: t.durable })
      if (t.deadLetterQueue !== undefined) {
        await ch.assertQueue(t.deadLetterQueue, { durable: t.durable })
        await ch.bindQueue(t.deadLetterQueue, t.deadLetterExchange, '')
      }
    }
    if (t.exchange !== undefined) await ch.assertExchange(t.exchange, t.exchangeType, { durable: t.durable })
    if (t.queue !== undefined) {
      await ch.assertQueue(t.queue, { durable: t.durable, arguments: queueArguments(t) })
      for (const pattern of t.bindings) await ch.bindQueue(t.queue, t.exchange as string, pattern)
    }
    for (const q of extraQueues) await ch.assertQueue(q, { durable: t.durable })
  } finally {
    // After a failed declaration the broker already closed it: closing again only rejects.
    await ch.close().catch(() => undefined)
  }
}
