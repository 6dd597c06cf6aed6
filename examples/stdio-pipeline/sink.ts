/** The last stage: reads invoices (JSON lines) and prints a summary when its input ends. */
import { Registry } from '../../src/index.js'
import { listenStdio } from '../../src/transports/stdio/index.js'
import { Invoice } from './messages.js'

let total = 0
const registry = new Registry()
registry.on(Invoice, (invoice) => {
  total += invoice.totalCents
  console.log(`[sink] ${invoice.orderId}: ${(invoice.totalCents / 100).toFixed(2)}`)
})
const invoices = await listenStdio({ registry, stdio: { format: 'json' } })
await invoices.closed()
console.log(`[sink] ${registry.stats().handled} invoices, ${(total / 100).toFixed(2)} in all`)
