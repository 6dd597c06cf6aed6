import * as t from 'io-ts'
import { defineMessage, Registry, connect, listen, MemoryHub } from '../src/index.js'
const Ping = defineMessage('demo.Ping', t.type({ seq: t.number }))
const Pong = defineMessage('demo.Pong', t.type({ seq: t.number }))
const Unknown = defineMessage('demo.Unknown', t.type({ x: t.string }))
const registry = new Registry({ unregistered: 'reject' })
registry.register(Pong)
let got = 0
registry.on(Ping, async (ping, ctx) => { got++; if (ctx.canReply) await ctx.reply(Pong, { seq: ping.seq }) })
for (const url of ['tcp://127.0.0.1:0', 'memory://q']) {
  const hub = new MemoryHub()
  const server = await listen(url, { registry, hub })
  const client = await connect(server.url, { registry: new Registry({ onError: (e) => console.log('client onError', e.code, e.message) }), hub })
  await client.send(Ping, { seq: 1 })
  const pong = await client.request(Ping, { seq: 2 }, { expect: Pong, timeoutMs: 1000 })
  console.log(url, 'pong', pong)
  try { await client.request(Unknown, { x: 'a' }, { expect: Pong, timeoutMs: 1000 }) } catch (e: any) { console.log('rejected', e.code, e.message) }
  await client.send(Unknown, { x: 'b' })
  const t0 = performance.now()
  for (let i = 0; i < 100000; i++) void client.send(Ping, { seq: i })
  await client.close()
  await new Promise(r => setTimeout(r, 200))
  console.log('got', got, (performance.now() - t0).toFixed(0), 'ms')
  await server.close()
  got = 0
}
console.log(process.getActiveResourcesInfo())
