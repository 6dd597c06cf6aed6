/**
 * A billing worker: `npm run example:amqp-worker` (RabbitMQ on 127.0.0.1:5672,
 * or AMQP_URL). Consumes the queue `billing`, bound to the topic exchange
 * `orders`; both are declared if missing. A handler that fails is retried,
 * then its message is rejected into `billing.dead` through the dead-letter
 * exchange. Start several workers: they share the queue. Ctrl-C lets running
 * handlers finish, acks them, then exits.
 */
import { Registry, listen } from '../../src/index.js'
import { BROKER, GetQuote, OrderCreated, Quote } from './messages.js'

const registry = new Registry({ retries: 2, onError: (err) => console.error(`[worker] ${err.code}: ${err.message}`) })
registry.on(OrderCreated, async (order, ctx) => {
  if (order.cents < 0) throw new Error(`order ${order.orderId} has a negative total`)
  console.log(`[worker] billing ${order.customer} ${(order.cents / 100).toFixed(2)} for ${order.orderId} (message ${ctx.id})`)
})
registry.on(GetQuote, async (q, ctx) => {
  await ctx.reply(Quote, { cents: q.items.length * 999 })
})

const worker = await listen(`${BROKER}/?queue=billing&exchange=orders&bind=order.*&bind=quote.*`, {
  registry,
  concurrency: 16,
  amqp: { deadLetterExchange: 'billing.dlx', deadLetterQueue: 'billing.dead' },
})
console.log(`[worker] consuming ${worker.url}; Ctrl-C to stop`)

async function stop(): Promise<void> {
  await worker.close()
  const s = registry.stats()
  console.log(`[worker] closed: ${s.handled} handled, ${s.rejected} rejected into billing.dead`)
}
process.once('SIGINT', () => void stop())
process.once('SIGTERM', () => void stop())
