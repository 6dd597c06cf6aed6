/**
 * Publishes a few orders and asks for a quote: `npm run example:amqp-producer`
 * (start the worker first). Each `send` resolves once RabbitMQ confirmed it;
 * the order with a negative total ends in `billing.dead` after its retries.
 */
import { connect, isSeamError } from '../../src/index.js'
import { BROKER, GetQuote, OrderCreated, Quote } from './messages.js'

const orders = await connect(`${BROKER}/?exchange=orders`)
try {
  for (const [i, cents] of [1999, 4500, -1].entries()) {
    const order = { orderId: `o-${Date.now()}-${i}`, customer: `customer-${i}`, cents }
    // The key keeps one customer's orders in order on the worker.
    await orders.send(OrderCreated, order, { to: 'order.created', key: order.customer })
    console.log(`[producer] confirmed ${order.orderId}`)
  }
  const quote = await orders.request(GetQuote, { items: ['book', 'lamp'] }, { expect: Quote, to: 'quote.get', timeoutMs: 5000 })
  console.log(`[producer] quote: ${(quote.cents / 100).toFixed(2)}`)
  // Nothing is bound to this routing key: RabbitMQ would drop it; the channel says so instead.
  await orders.send(OrderCreated, { orderId: 'o-lost', customer: 'nobody', cents: 1 }, { to: 'invoice.created' }).catch((err: unknown) => {
    if (isSeamError(err)) console.log(`[producer] as expected, ${err.code}: ${err.message}`)
  })
} finally {
  await orders.close()
}
