/**
 * Request/response with both ends in one process, ours against the raw
 * socket. At one request in flight only one side works at a time, so a
 * second process adds nothing but the virtual machine's wake-up latency
 * (here about 60 µs per round trip, on raw and ours alike); in one process
 * what remains is each side's own work plus the loopback syscalls, which
 * shows the library's overhead per round trip.
 */
import { createServer, createConnection, type Server as NetServer, type Socket } from 'node:net'
import { Registry, connect, listen } from '../src/index.js'
import { Echo, EchoReply, item } from './payload.js'
import { RawWriter, rawReader, rawRequester } from './raw.js'
import type { Row } from './report.js'
import { best } from './stats.js'
import { latency, pipelined } from './tcp.bench.js'

const ROUNDS = 3
const PIPELINED = 100_000

function rawEchoServer(): Promise<{ server: NetServer; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>()
  const server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    const writer = new RawWriter(socket)
    socket.on('data', rawReader((value) => writer.write(value)))
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, sockets })))
}

/** Runs the one-process request/response benchmarks; about 10 s. */
export async function run(): Promise<Row[]> {
  const registry = new Registry().register(EchoReply)
  registry.on(Echo, (value, ctx) => ctx.reply(EchoReply, value))
  const server = await listen('tcp://127.0.0.1:0', { registry })
  const client = await connect(server.url, { registry })
  const raw = await rawEchoServer()
  const socket = createConnection({ host: '127.0.0.1', port: raw.port, noDelay: true })
  await new Promise((resolve) => socket.once('connect', resolve))
  const rawAsk = rawRequester(socket)
  const oursAsk = (i: number): Promise<unknown> => client.request(Echo, item(i), { expect: EchoReply, timeoutMs: 10_000 })
  try {
    const r = { p50Ours: [] as number[], p50Raw: [] as number[], p99Ours: [] as number[], p99Raw: [] as number[], pipeOurs: [] as number[], pipeRaw: [] as number[] }
    await pipelined(oursAsk, PIPELINED / 4)
    await pipelined(rawAsk, PIPELINED / 4)
    for (let round = 0; round < ROUNDS; round++) {
      const lo = await latency(oursAsk)
      const lr = await latency(rawAsk)
      r.p50Ours.push(lo.p50)
      r.p99Ours.push(lo.p99)
      r.p50Raw.push(lr.p50)
      r.p99Raw.push(lr.p99)
      r.pipeOurs.push(await pipelined(oursAsk, PIPELINED))
      r.pipeRaw.push(await pipelined(rawAsk, PIPELINED))
    }
    return [
      { name: 'tcp request/response p50, 1 in flight, one process', ours: best(r.p50Ours, false), baseline: best(r.p50Raw, false), unit: 'µs', higherIsBetter: false },
      { name: 'tcp request/response p99, 1 in flight, one process', ours: best(r.p99Ours, false), baseline: best(r.p99Raw, false), unit: 'µs', higherIsBetter: false },
      { name: 'tcp request/response, 64 in flight, one process', ours: best(r.pipeOurs, true), baseline: best(r.pipeRaw, true), unit: 'req/s', higherIsBetter: true },
    ]
  } finally {
    await client.close()
    await server.close()
    socket.destroy()
    for (const s of raw.sockets) s.destroy()
    await new Promise((resolve) => raw.server.close(resolve))
  }
}
