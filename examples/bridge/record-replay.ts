/**
 * `npx tsx examples/bridge/record-replay.ts`: no setup needed. A producer
 * sends typed orders over TCP; one bridge records the stream into a message
 * file; another replays the file into an in-process queue, where a typed
 * handler gets the same values. Swap the URLs for `redis://…`, `amqp://…`,
 * `kafka://…` or `stdio://` and nothing else changes.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import * as t from 'io-ts'
import { MemoryHub, Registry, bridge, connect, defineMessage, listen } from '../../src/index.js'

const Order = defineMessage('shop.Order', t.type({ sku: t.string, qty: t.number }))
const folder = await mkdtemp(join(tmpdir(), 'seam-bridge-example-'))
const file = pathToFileURL(join(folder, 'orders.seam')).href

// 1. Record: everything sent to the TCP port lands in the file, untouched.
const recorder = await bridge('tcp://127.0.0.1:0', file)
const producer = await connect(recorder.url)
for (let i = 1; i <= 5; i++) await producer.send(Order, { sku: `SKU-${i}`, qty: i }, { headers: { shop: 'north' } })
await producer.close()
// The producer's close flushed its socket; give the recorder (at most 5 s) to take all five in, then close it: that waits until they are written.
for (let tries = 0; recorder.stats().forwarded < 5 && tries < 500; tries++) await new Promise((resolve) => setTimeout(resolve, 10))
await recorder.close()
console.log(`recorded ${recorder.stats().forwarded} orders into ${file}`)

// 2. Replay: the file, from its start to its end, into an in-process queue with a typed handler.
const hub = new MemoryHub()
const registry = new Registry()
registry.on(Order, (order, ctx) => console.log(`replayed ${ctx.tag} ${JSON.stringify(order)} id=${ctx.id} headers=${JSON.stringify(ctx.headers)}`))
const consumer = await listen('memory://orders', { hub, registry })
const replay = await bridge(`${file}?from=start&follow=false`, 'memory://orders', { destination: { hub } })
// A replay that reached the end of the file closes itself.
await replay.closed()
await consumer.close()
await rm(folder, { recursive: true, force: true })
