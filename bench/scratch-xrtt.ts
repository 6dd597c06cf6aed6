// Scratch: cross-process RTT, ours or raw, client here, server in a child. Not committed.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Registry, connect, listen } from '../src/index.js'
import { Echo, EchoReply, item } from './payload.js'
const mode = process.argv[2]
if (mode === 'server') {
  const registry = new Registry().register(EchoReply)
  registry.on(Echo, (v, ctx) => ctx.reply(EchoReply, v))
  const server = await listen('tcp://127.0.0.1:0', { registry })
  process.send?.(server.url)
  process.on('message', async () => { await server.close(); process.disconnect() })
} else {
  const child = fork(fileURLToPath(import.meta.url), ['server'])
  const url = await new Promise<string>((r) => child.once('message', (m) => r(m as string)))
  console.log('server pid', child.pid)
  const client = await connect(url, { registry: new Registry().register(EchoReply) })
  const N = Number(process.argv[3] ?? 20000)
  for (let r = 0; r < 2; r++) {
    const t = process.hrtime.bigint()
    for (let i = 0; i < N; i++) await client.request(Echo, item(i), { expect: EchoReply })
    console.log('ours µs/rtt', (Number(process.hrtime.bigint() - t) / N / 1000).toFixed(1))
  }
  await client.close(); child.send('bye')
}
