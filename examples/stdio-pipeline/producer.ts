/**
 * The first stage: writes a few orders to standard output as frames.
 *
 *   npm run example:stdio-pipeline
 *   (tsx producer.ts | tsx processor.ts | tsx sink.ts)
 *
 * Standard output belongs to the messages; anything for people goes to stderr.
 */
import { connectStdio } from '../../src/transports/stdio/index.js'
import { Order } from './messages.js'

const out = await connectStdio()
const items = ['book', 'lamp', 'chair', 'mug']
for (let i = 0; i < 8; i++) {
  // send waits while the next stage reads slower than this one writes.
  await out.send(Order, { orderId: `o-${i}`, item: items[i % items.length] as string, quantity: 1 + (i % 3), unitCents: 250 * (i + 1) })
}
await out.close()
process.stderr.write('[producer] 8 orders written\n')
