/**
 * The receiving side of the TCP benchmarks, run in its own process by
 * tcp.bench.ts. It hosts both the seam-channel server and the raw baseline
 * servers, so both are measured against the same receiver process.
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net'
import { Registry, listen } from '../src/index.js'
import { Echo, EchoReply, ItemMsg } from './payload.js'
import { countingPeer, type PeerReport } from './peer-protocol.js'
import { RawWriter, rawReader } from './raw.js'

/** What the peer reports when it is ready. */
export type PeerReady = { ours: string; rawSink: number; rawEcho: number }

const counted = countingPeer(async () => {
  await ours.close()
  for (const socket of rawSockets) socket.destroy()
  for (const s of [sink.server, echo.server]) await new Promise((resolve) => s.close(resolve))
  process.disconnect()
})

const registry = new Registry({ onError: (err) => console.error('[bench peer]', err.code, err.message) })
registry.on(ItemMsg, () => counted())
registry.on(Echo, (value, ctx) => ctx.reply(EchoReply, value))
const ours = await listen('tcp://127.0.0.1:0', { registry })

const rawSockets = new Set<Socket>()
function rawServer(onSocket: (socket: Socket) => void): Promise<{ server: NetServer; port: number }> {
  const server = createServer({ noDelay: true }, (socket) => {
    rawSockets.add(socket)
    socket.on('close', () => rawSockets.delete(socket))
    socket.on('error', () => undefined) // the bench client going away is not news
    onSocket(socket)
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })))
}
const sink = await rawServer((socket) => socket.on('data', rawReader(() => counted())))
const echo = await rawServer((socket) => {
  const writer = new RawWriter(socket)
  socket.on('data', rawReader((value) => writer.write(value)))
})

process.send?.({ ready: { ours: ours.url, rawSink: sink.port, rawEcho: echo.port } } satisfies PeerReport<PeerReady>)
