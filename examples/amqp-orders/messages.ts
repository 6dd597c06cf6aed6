/**
 * The message types of the AMQP example. The tags are the contract between
 * the services: they travel as the AMQP `type` property.
 */
import * as t from 'io-ts'
import { defineMessage } from '../../src/index.js'

/** RabbitMQ unless told otherwise (AMQP_URL). */
export const BROKER = (process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672').replace(/\/$/, '')

/** Published to the `orders` exchange with the routing key `order.created`. */
export const OrderCreated = defineMessage('orders.OrderCreated', t.type({ orderId: t.string, customer: t.string, cents: t.number }))

/** A request: what would this basket cost? Answered with a {@link Quote}. */
export const GetQuote = defineMessage('orders.GetQuote', t.type({ items: t.array(t.string) }))
export const Quote = defineMessage('orders.Quote', t.type({ cents: t.number }))
