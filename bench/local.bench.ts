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
import { compare } from './measure.js'

const ROUNDS = 5
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
    return await compare({ ask: oursAsk }, { ask: rawAsk }, { label: 'tcp', suffix: ', one process', rounds: ROUNDS, pipelined: PIPELINED })
  } finally {
    await client.close()
    await server.close()
    socket.destroy()
    for (const s of raw.sockets) s.destroy()
    await new Promise((resolve) => raw.server.close(resolve))
  }
}
