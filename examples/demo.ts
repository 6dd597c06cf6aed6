/**
 * `npm run demo`: a server and a client over TCP on loopback, in one process,
 * no setup needed. Shows typed messages, a request and its reply, what a
 * rejected message looks like, and a short throughput figure; then exits 0.
 */
import * as t from 'io-ts'
import { Registry, SeamError, connect, defineMessage, listen } from '../src/index.js'

// Tags, not class names, identify types on the wire: both sides only share these definitions.
const Greeting = defineMessage('demo.Greeting', t.type({ from: t.string, text: t.string }))
const Add = defineMessage('demo.Add', t.type({ a: t.number, b: t.number }))
const Sum = defineMessage('demo.Sum', t.type({ sum: t.number }))
const Tick = defineMessage('demo.Tick', t.type({ n: t.number }))
const Unregistered = defineMessage('demo.NobodyKnowsMe', t.type({ x: t.string }))

const log = (who: string, text: string): void => console.log(`${who.padEnd(7)}│ ${text}`)

// ---- the server side ----
const serverRegistry = new Registry({ unregistered: 'reject', onError: (err) => log('server', `error ${err.code}: ${err.message}`) })
serverRegistry.register(Sum)
serverRegistry.on(Greeting, (g) => log('server', `got a typed ${Greeting.tag}: ${g.from} says "${g.text}"`))
serverRegistry.on(Add, (req, ctx) => ctx.reply(Sum, { sum: req.a + req.b }))
let ticks = 0
let allTicks: (() => void) | undefined
const TICKS = 200_000
serverRegistry.on(Tick, () => {
  if (++ticks === TICKS) allTicks?.()
})

const server = await listen('tcp://127.0.0.1:0', { registry: serverRegistry })
log('server', `listening on ${server.url}`)

// ---- the client side ----
const client = await connect(server.url, { registry: new Registry().register(Sum) })
log('client', `connected to ${server.url}`)

try {
  await client.send(Greeting, { from: 'client', text: 'hello over tcp' })

  const { sum } = await client.request(Add, { a: 2, b: 40 }, { expect: Sum, timeoutMs: 2000 })
  log('client', `request ${Add.tag} { a: 2, b: 40 } → ${Sum.tag} { sum: ${sum} }`)

  try {
    await client.request(Unregistered, { x: 'hi' }, { expect: Sum, timeoutMs: 2000 })
    log('client', 'unexpected: the unregistered message was accepted')
    process.exitCode = 1
  } catch (err) {
    if (!(err instanceof SeamError)) throw err
    log('client', `${Unregistered.tag} was rejected: ${err.code} (${err.message})`)
  }

  // Throughput: fire-and-forget sends, timed until the server has handled them all.
  const done = new Promise<void>((resolve) => (allTicks = resolve))
  const t0 = process.hrtime.bigint()
  let last: Promise<void> = Promise.resolve()
  for (let n = 0; n < TICKS; n++) {
    last = client.send(Tick, { n })
    // Awaiting now and then respects backpressure without paying a turn per message.
    if (n % 256 === 0) await last
  }
  await last
  await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error('throughput run took over 20 s')), 20_000).unref())])
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  log('client', `${TICKS.toLocaleString('en-US')} typed messages in ${(seconds * 1000).toFixed(0)} ms ≈ ${Math.round(TICKS / seconds).toLocaleString('en-US')} msg/s (one process, both sides on one core)`)
} finally {
  await client.close()
  await server.close()
}
log('server', `closed; handled ${serverRegistry.stats().handled}, rejected ${serverRegistry.stats().rejected}`)
