/**
 * A hand-driven TCP peer for tests that must send what the library never
 * would: frames written byte by byte, read back as the library reads them.
 */
import { encode } from '@msgpack/msgpack'
import { once } from 'node:events'
import { createConnection, type Socket } from 'node:net'
import { Registry, connect, listen, type Channel, type Envelope, type MessageType, type Server } from '../../src/index.js'
import { FrameDecoder } from '../../src/transports/stream/frames.js'
import { helloFrame, readEnvelope, readHello } from '../../src/transports/stream/wire.js'
import { collectErrors, waitFor } from '../helpers.js'

const MAX = 16 * 1024 * 1024

/** A frame as the library writes it: 4-byte big-endian length, then the bytes. */
export function frame(bytes: Uint8Array): Buffer {
  const head = Buffer.alloc(4)
  head.writeUInt32BE(bytes.length, 0)
  return Buffer.concat([head, bytes])
}

/** An envelope map for `tag` as a peer would send it; `fields` override or add keys. */
export function envelopeFrame(tag: string, fields: Record<string, unknown>): Buffer {
  return frame(encode({ tag, id: 'raw-1', ts: Date.now(), ct: 'application/msgpack', body: encode({ seq: 1 }), ...fields }))
}

/** A raw connection to a seam-channel server. */
export interface RawPeer {
  readonly socket: Socket
  /** Envelopes the server sent after its hello. */
  readonly envelopes: Envelope[]
  helloSeen: boolean
  closed: boolean
  /** Resolves when the socket closed. */
  readonly whenClosed: Promise<void>
}

/** Connects to `serverUrl` and waits for the server's hello; with `hello`, says its own. */
export async function rawPeer(serverUrl: string, options: { hello: boolean }): Promise<RawPeer> {
  const port = Number(new URL(serverUrl).port)
  const socket = createConnection({ host: '127.0.0.1', port })
  await once(socket, 'connect')
  const raw: RawPeer = { socket, envelopes: [], helloSeen: false, closed: false, whenClosed: once(socket, 'close').then(() => undefined) }
  const decoder = new FrameDecoder(MAX)
  socket.on('data', (chunk: Buffer) =>
    decoder.push(chunk, (buf, start, end) => {
      if (!raw.helloSeen) {
        readHello(buf.subarray(start, end))
        raw.helloSeen = true
      } else raw.envelopes.push(readEnvelope(buf, start, end))
    }),
  )
  socket.on('error', () => undefined) // the server may reset the connection
  socket.on('close', () => (raw.closed = true))
  await waitFor(() => raw.helloSeen, 5000, "the server's hello")
  if (options.hello) socket.write(helloFrame(MAX))
  return raw
}

/** A TCP server whose `Ping` handler answers with a `Pong`, and a good client, for raw peers to be measured against. */
export interface EchoServer {
  readonly server: Server
  readonly registry: Registry
  /** A well-behaved client, already accepted by the server. */
  readonly good: Channel
  /** What the server reported through `onError`. */
  readonly serverErrors: ReturnType<typeof collectErrors>
}

/** Starts an {@link EchoServer}; close `good` and `server` afterwards. */
export async function echoServer(Ping: MessageType<string, { seq: number }, unknown>, Pong: MessageType<string, { seq: number }, unknown>): Promise<EchoServer> {
  const serverErrors = collectErrors()
  const registry = new Registry({ onError: serverErrors.onError })
  registry.register(Pong)
  registry.on(Ping, async (ping, ctx) => ctx.reply(Pong, { seq: ping.seq }))
  const server = await listen('tcp://127.0.0.1:0', { registry, onError: serverErrors.onError })
  const good = await connect(server.url, { registry: new Registry({ onError: () => undefined }) })
  await waitFor(() => server.peers.size === 1, 5000, 'the good client to be accepted')
  return { server, registry, good, serverErrors }
}
