/**
 * Request/response with both ends in one process, ours against the raw
 * socket. At one request in flight only one side works at a time, so a
 * second process adds nothing but the virtual machine's wake-up latency
 * (here about 60 µs per round trip, on raw and ours alike); in one process
 * what remains is each side's own work plus the loopback syscalls, which
 * shows the library's overhead per round trip.
 */
import { createConnection } from 'node:net'
import { Registry, connect, listen } from '../src/index.js'
import { Echo, EchoReply, item } from './payload.js'
import { rawEcho, rawRequester, rawServer } from './raw.js'
import type { Row } from './report.js'
import { compare } from './measure.js'

const ROUNDS = 5
const PIPELINED = 100_000

/** Runs the one-process request/response benchmarks; about 10 s. */
export async function run(): Promise<Row[]> {
  const registry = new Registry().register(EchoReply)
  registry.on(Echo, (value, ctx) => ctx.reply(EchoReply, value))
  const server = await listen('tcp://127.0.0.1:0', { registry })
  const client = await connect(server.url, { registry })
  const raw = await rawServer(rawEcho)
  const socket = createConnection({ host: '127.0.0.1', port: raw.port, noDelay: true })
  await new Promise((resolve) => socket.once('connect', resolve))
  const rawAsk = rawRequester(socket)
  const oursAsk = (i: number): Promise<unknown> => client.request(Echo, item(i), { expect: EchoReply, timeoutMs: 10_000 })
  try {
    return await compare({ ask: oursAsk }, { ask: rawAsk }, { label: 'tcp', suffix: ', one process', rounds: ROUNDS, pipelined: PIPELINED })
  } finally {
    await client.close()
    await server.close()
    socket.destroy()
    await raw.close()
  }
}
