/**
 * The middle stage: reads orders from standard input, writes an invoice for
 * each to standard output, as JSON lines so that `jq` could take the sink's
 * place (`… | tsx processor.ts | jq .body`). It ends when its input ends.
 */
import { Registry, json } from '../../src/index.js'
import { connectStdio, listenStdio } from '../../src/transports/stdio/index.js'
import { Invoice, Order } from './messages.js'

// JSON bodies, so that the lines are readable as they are.
const invoices = await connectStdio({ registry: new Registry({ serde: json }), stdio: { format: 'json' } })
const registry = new Registry()
registry.on(Order, (order) => invoices.send(Invoice, { orderId: order.orderId, totalCents: order.quantity * order.unitCents }))
const orders = await listenStdio({ registry })
// The next stage went away (EPIPE): stop reading as well, so the stage before hears it too, and exit 1.
void invoices.closed().then(async (error) => {
  if (error === undefined) return
  console.error(`[processor] ${error.message}`)
  process.exitCode = 1
  await orders.close()
})
// Resolves once the producer is done and every order was handled.
await orders.closed()
await invoices.close()
process.stderr.write(`[processor] ${registry.stats().handled} orders invoiced\n`)
