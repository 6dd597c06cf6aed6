/** What flows through the pipeline: orders in, invoices out. */
import * as t from 'io-ts'
import { defineMessage } from '../../src/index.js'

export const Order = defineMessage('shop.Order', t.type({ orderId: t.string, item: t.string, quantity: t.number, unitCents: t.number }))
export const Invoice = defineMessage('shop.Invoice', t.type({ orderId: t.string, totalCents: t.number }))
